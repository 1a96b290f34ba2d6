"""What goes in the map's columns: touchpoints per phase, per state, and their differences.

A column is one touchpoint (a phase without touchpoints still gets one empty column).
In the 'both' state a column holds the as-is and the to-be version of the touchpoint
(either may be missing: a touchpoint new in the to-be design, or one that goes).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from klantreis.errors import InvalidSpec

if TYPE_CHECKING:
    from klantreis.model.journey import Journey, Phase, Touchpoint

__all__ = ["STATES", "Column", "PhaseGroup", "columns", "differences"]

STATES = ("as-is", "to-be", "both")
_COMPARED = ("name", "action", "channel", "experience", "thoughts", "pain_points", "opportunities")


@dataclass
class Column:
    phase: str
    asis: Touchpoint | None = None
    tobe: Touchpoint | None = None
    state: str = "as-is"

    @property
    def key(self) -> str | None:
        tp = self.asis or self.tobe
        return tp.key if tp is not None else None

    @property
    def shown(self) -> Touchpoint | None:
        """The version whose texts the lanes show (to-be in the to-be map, else as-is)."""
        if self.state == "to-be":
            return self.tobe
        return self.asis or self.tobe

    @property
    def empty(self) -> bool:
        return self.asis is None and self.tobe is None


@dataclass
class PhaseGroup:
    phase: Phase
    columns: list[Column] = field(default_factory=list)


def check_state(state: str) -> str:
    if state not in STATES:
        raise InvalidSpec("state", "unknown map state", value=state, allowed=list(STATES))
    return state


def columns(journey: Journey, state: str) -> list[PhaseGroup]:
    """Phases (in order) with their columns for the map in ``state``."""
    check_state(state)
    asis = {tp.key: tp for tp in journey.state_view("as-is")} if state != "to-be" else {}
    tobe = {tp.key: tp for tp in journey.state_view("to-be")} if state != "as-is" else {}
    groups = []
    for phase in journey.ordered_phases():
        group = PhaseGroup(phase)
        for tp in journey.touchpoints:
            if tp.phase != phase.key or (tp.key not in asis and tp.key not in tobe):
                continue
            group.columns.append(Column(phase.key, asis.get(tp.key), tobe.get(tp.key), state))
        if not group.columns:
            group.columns.append(Column(phase.key, state=state))
        groups.append(group)
    return groups


def _plain(value: Any) -> Any:
    return value.model_dump(mode="json") if hasattr(value, "model_dump") else value


def differences(column: Column) -> list[str]:
    """Fields that differ between the as-is and to-be versions: ['new'], ['removed'],
    or the changed field names (empty when unchanged)."""
    if column.asis is None and column.tobe is not None:
        return ["new"]
    if column.tobe is None and column.asis is not None:
        return ["removed"]
    if column.asis is None or column.tobe is None:
        return []
    return [
        f for f in _COMPARED if _plain(getattr(column.asis, f)) != _plain(getattr(column.tobe, f))
    ]
