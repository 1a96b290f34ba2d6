"""The journey map as data: phases, touchpoints, channels, personas, triggers, goal.

Field-level rules (types, ranges, allowed words) live here as pydantic validation;
rules that look across the journey (references, duplicates, scale, connections) live
in :mod:`klantreis.model.validate`, so each problem can be reported with its file,
line and field.

    >>> j = Journey(key="demo", name="Demo", touchpoints=[
    ...     Touchpoint(key="site", name="Website", phase="awareness", conversion=True)])
    >>> [p.key for p in j.phases]
    ['awareness', 'consideration', 'purchase', 'service', 'loyalty']
    >>> j.touchpoint("site").label("nl")
    'Website'
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator
from pydantic_core import PydanticCustomError

__all__ = [
    "DEFAULT_PHASES",
    "Channel",
    "EventMatch",
    "Evidence",
    "Experience",
    "Goal",
    "Improvement",
    "Journey",
    "Opportunity",
    "PainPoint",
    "Persona",
    "PersonaWalk",
    "Phase",
    "Quote",
    "Scale",
    "Scope",
    "Touchpoint",
    "TouchpointState",
    "TouchpointWalk",
    "Trigger",
]

Key = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9][a-z0-9_\-]*$",
        max_length=64,
        description="Identifier: lower-case letters, digits, '_' or '-'.",
    ),
]
#: A text in one language for both, or per language: ``{nl: ..., en: ...}``.
Text = str | dict[Literal["nl", "en"], str]
EvidenceLevel = Literal["observed", "reported", "assumed", "proposed"]
Duration = Annotated[str, Field(pattern=r"^\d+(\.\d+)?\s*(s|m|h|d|w)$", description="e.g. 30m, 2d")]


def text_in(value: Text | None, lang: str, fallback: str = "") -> str:
    """The text of a :data:`Text` value in ``lang`` (falls back to the other language)."""
    if value is None:
        return fallback
    if isinstance(value, str):
        return value
    return value.get(lang) or next(iter(value.values()), fallback)  # type: ignore[call-overload]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=False, validate_assignment=True)


class _Named(_Model):
    key: Key
    name: Text | None = None

    def label(self, lang: str = "en") -> str:
        return text_in(self.name, lang, self.key)


class Evidence(_Model):
    """How a statement on the map is backed: observed in data, reported by customers,
    assumed by the team, or proposed (a to-be design)."""

    level: EvidenceLevel = "assumed"
    source: str | None = None
    verified: date | None = None


class _Statement(_Model):
    text: Text
    evidence: Evidence = Field(default_factory=Evidence)

    def label(self, lang: str = "en") -> str:
        return text_in(self.text, lang)


class Quote(_Statement):
    """A customer thought or quote at a touchpoint."""


class PainPoint(_Statement):
    severity: Literal["low", "medium", "high"] = "medium"


class Opportunity(_Statement):
    pass


class Experience(_Model):
    """Designed (current) and desired experience at a touchpoint, on the journey's scale."""

    current: int | float | None = None
    desired: int | float | None = None
    emotion: str | None = Field(None, description="Emotion label, e.g. 'frustrated'.")
    evidence: Evidence = Field(default_factory=Evidence)


class EventMatch(_Model):
    """Which raw events map to a touchpoint: exactly one of name, glob or regex,
    with an optional condition on event properties (all must be equal)."""

    name: str | None = None
    glob: str | None = None
    regex: str | None = None
    where: dict[str, str | int | float | bool] = Field(default_factory=dict)

    def pattern_kind(self) -> str:
        kinds = [k for k in ("name", "glob", "regex") if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError("give exactly one of name, glob or regex")
        return kinds[0]

    @field_validator("regex")
    @classmethod
    def _compiles(cls, v: str | None) -> str | None:
        if v is not None:
            import re

            try:
                re.compile(v)
            except re.error as exc:
                raise PydanticCustomError(
                    "regex",
                    "not a valid regular expression: {detail}",
                    {"detail": str(exc)},
                ) from None
        return v


class TouchpointWalk(_Model):
    """Design-time behaviour for simulation: where customers go next from here.

    ``next`` maps successor touchpoint keys to probabilities; what is left up to 1
    is the probability of leaving the journey here. ``delay`` is the median time to
    the next step, ``spread`` the sigma of its log-normal distribution.
    """

    next: dict[str, float] = Field(default_factory=dict)
    delay: Duration = "1d"
    spread: float = Field(1.0, ge=0, le=5)
    channels: dict[str, float] = Field(default_factory=dict)
    value: float | None = Field(None, ge=0, description="Money value when this step converts.")

    @field_validator("next", "channels")
    @classmethod
    def _probabilities(cls, v: dict[str, float]) -> dict[str, float]:
        for key, p in v.items():
            if not 0 <= p <= 1:
                raise PydanticCustomError(
                    "probability_range",
                    "probability for '{key}' must be between 0 and 1, got {value}",
                    {"key": key, "value": p},
                )
        if sum(v.values()) > 1 + 1e-9:
            raise PydanticCustomError(
                "probability_sum",
                "probabilities add up to {total}, more than 1",
                {"total": round(sum(v.values()), 6)},
            )
        return v


class TouchpointState(_Model):
    """The to-be version of a touchpoint: fields given here replace the as-is ones."""

    name: Text | None = None
    action: Text | None = None
    channel: Key | None = None
    experience: Experience | None = None
    thoughts: list[Quote] | None = None
    pain_points: list[PainPoint] | None = None
    opportunities: list[Opportunity] | None = None
    walk: TouchpointWalk | None = Field(
        None, description="Simulation behaviour in the to-be state (replaces the as-is walk)."
    )


class Touchpoint(_Named):
    """A contactmoment: where the customer meets the company, through a channel."""

    phase: Key
    channel: Key | None = None
    mode: Literal["online", "offline"] | None = None
    loop: Literal["purchase", "service", "loyalty"] | None = None
    owner: str | None = None
    predecessors: list[Key] = Field(default_factory=list)
    successors: list[Key] = Field(default_factory=list)
    action: Text | None = Field(None, description="What the customer does here.")
    thoughts: list[Quote] = Field(default_factory=list)
    experience: Experience = Field(default_factory=Experience)
    pain_points: list[PainPoint] = Field(default_factory=list)
    opportunities: list[Opportunity] = Field(default_factory=list)
    events: list[EventMatch] = Field(default_factory=list)
    conversion: bool = False
    referral: bool = Field(False, description="A customer brings in another customer here.")
    prompts_referral: bool = Field(
        False,
        description=(
            "The company asks for a review or a referral here (a review request, a "
            "bring-a-friend invitation); a referral soon after it counts as prompted."
        ),
    )
    ends_relationship: bool = Field(False, description="Cancellation / churn touchpoint.")
    states: Literal["both", "as-is", "to-be"] = Field(
        "both", description="In which state of the map this touchpoint exists."
    )
    to_be: TouchpointState | None = None
    walk: TouchpointWalk | None = None


class Phase(_Named):
    part: Literal["buyer", "user"] = "buyer"
    order: int | None = None
    description: Text | None = None


class Channel(_Named):
    kind: Literal["online", "offline"] = "online"
    type: Literal["owned", "paid", "earned"] = "owned"
    direct: bool = Field(False, description="Direct/typed-in traffic (for last non-direct).")


class PersonaWalk(_Model):
    """How a persona walks the journey in simulation."""

    share: float = Field(1.0, gt=0, description="Relative share of new customers.")
    starts_per_day: float = Field(10.0, ge=0)
    weekly: list[float] | None = Field(None, min_length=7, max_length=7)
    seasonal: list[float] | None = Field(None, min_length=12, max_length=12)
    channels: dict[str, float] = Field(default_factory=dict)
    propensity: dict[str, float] = Field(default_factory=dict)
    purchase_value: float | None = Field(None, ge=0)
    entry: dict[str, float] = Field(
        default_factory=dict, description="First touchpoint probabilities."
    )


class Persona(_Named):
    photo: str | None = None
    story: Text | None = None
    age: int | None = Field(None, ge=0, le=130)
    occupation: Text | None = None
    goals: list[Text] = Field(default_factory=list)
    needs: list[Text] = Field(default_factory=list)
    motives: list[Text] = Field(default_factory=list)
    frustrations: list[Text] = Field(default_factory=list)
    channels: list[Key] = Field(default_factory=list, description="Preferred channels.")
    match: dict[str, str | list[str]] = Field(
        default_factory=dict,
        description="Selects matching customers in data: column or attribute -> value(s).",
    )
    walk: PersonaWalk | None = None


class Trigger(_Named):
    phase: Key = "awareness"
    description: Text | None = None
    kind: Literal["internal", "external"] = "external"
    touchpoint: Key | None = Field(None, description="Where the trigger brings customers.")


class Improvement(_Named):
    touchpoint: Key
    description: Text | None = None
    expected_effect: Text | None = None
    effort: Literal["low", "medium", "high"] = "medium"
    owner: str | None = None
    status: Literal["idea", "planned", "in_progress", "done", "dropped"] = "idea"
    due: date | None = None
    evidence: Evidence = Field(default_factory=lambda: Evidence(level="proposed"))


class Goal(_Model):
    """A SMART goal: specific, measurable, achievable, relevant, time-bound."""

    description: Text
    metric: str
    baseline: float | None = None
    target: float
    deadline: date
    owner: str | None = None
    relevance: Text | None = None


class Scope(_Model):
    kind: Literal["all", "segment", "persona"] = "all"
    value: str | None = None


class Scale(_Model):
    min: int | float = 1
    max: int | float = 5
    labels: dict[str, Text] = Field(default_factory=dict)


DEFAULT_PHASES: tuple[Phase, ...] = (
    Phase(key="awareness", name={"en": "Awareness", "nl": "Bewustwording"}, part="buyer"),
    Phase(key="consideration", name={"en": "Consideration", "nl": "Overweging"}, part="buyer"),
    Phase(key="purchase", name={"en": "Purchase", "nl": "Aankoop"}, part="buyer"),
    Phase(key="service", name={"en": "Service", "nl": "Service"}, part="user"),
    Phase(key="loyalty", name={"en": "Loyalty", "nl": "Loyaliteit"}, part="user"),
)


def _default_phases() -> list[Phase]:
    return [p.model_copy(deep=True) for p in DEFAULT_PHASES]


class Journey(_Named):
    """A customer journey map (klantreis)."""

    version: Literal[1] = 1
    description: Text | None = None
    language: Literal["nl", "en"] | None = None
    owner: str | None = None
    updated: date | None = None
    scenario: Text | None = None
    scope: Scope = Field(default_factory=Scope)
    goal: Goal | None = None
    scale: Scale = Field(default_factory=Scale)
    parent: Key | None = None
    children: list[Key] = Field(default_factory=list)
    phases: list[Phase] = Field(default_factory=_default_phases)
    channels: list[Channel] = Field(default_factory=list)
    touchpoints: list[Touchpoint] = Field(default_factory=list)
    personas: list[Persona] = Field(default_factory=list)
    triggers: list[Trigger] = Field(default_factory=list)
    improvements: list[Improvement] = Field(default_factory=list)

    # Where the journey was read from (set by load_journey; used by save_journey to keep
    # comments and key order, and by validation to name lines).
    _path: Any = PrivateAttr(None)
    _node: Any = PrivateAttr(None)

    def __eq__(self, other: object) -> bool:
        """Equal content; where the journey was read from does not count."""
        if not isinstance(other, Journey):
            return NotImplemented
        return self.__dict__ == other.__dict__

    __hash__ = None  # type: ignore[assignment]

    @property
    def path(self) -> Any:
        """The file this journey was loaded from, or None."""
        return self._path

    # -- lookups -------------------------------------------------------------
    def touchpoint(self, key: str) -> Touchpoint:
        return _find(self.touchpoints, key, "touchpoint")

    def phase(self, key: str) -> Phase:
        return _find(self.phases, key, "phase")

    def channel(self, key: str) -> Channel:
        return _find(self.channels, key, "channel")

    def persona(self, key: str) -> Persona:
        return _find(self.personas, key, "persona")

    def ordered_phases(self) -> list[Phase]:
        """Phases by their ``order`` (if given), else in file order."""
        indexed = list(enumerate(self.phases))
        indexed.sort(key=lambda ip: (ip[1].order if ip[1].order is not None else ip[0], ip[0]))
        return [p for _, p in indexed]

    def conversion_touchpoints(self) -> list[str]:
        return [tp.key for tp in self.touchpoints if tp.conversion]

    def touchpoints_in(self, phase: str, state: str = "as-is") -> list[Touchpoint]:
        return [tp for tp in self.state_view(state) if tp.phase == phase]

    def edges(self) -> set[tuple[str, str]]:
        """Designed links between touchpoints, from predecessors and successors."""
        links: set[tuple[str, str]] = set()
        for tp in self.touchpoints:
            links.update((p, tp.key) for p in tp.predecessors)
            links.update((tp.key, s) for s in tp.successors)
        return links

    def state_view(self, state: str = "as-is") -> list[Touchpoint]:
        """Touchpoints as they are in ``state`` ('as-is' or 'to-be'), to-be overrides applied."""
        if state not in ("as-is", "to-be"):
            from klantreis.errors import InvalidSpec

            raise InvalidSpec("state", "unknown map state", value=state, allowed=["as-is", "to-be"])
        result = []
        for tp in self.touchpoints:
            if tp.states not in ("both", state):
                continue
            if state == "to-be" and tp.to_be is not None:
                changes = {k: v for k, v in tp.to_be if v is not None}
                tp = tp.model_copy(update=changes)
            result.append(tp)
        return result

    def event_rules(self) -> list[tuple[str, EventMatch]]:
        """(touchpoint key, match) pairs; a touchpoint without rules matches its own key."""
        rules: list[tuple[str, EventMatch]] = []
        for tp in self.touchpoints:
            if tp.events:
                rules.extend((tp.key, m) for m in tp.events)
            else:
                rules.append((tp.key, EventMatch(name=tp.key)))
        return rules

    def phase_of(self) -> dict[str, str]:
        """Touchpoint key -> phase key."""
        return {tp.key: tp.phase for tp in self.touchpoints}

    def summary(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "phases": len(self.phases),
            "touchpoints": len(self.touchpoints),
            "channels": len(self.channels),
            "personas": len(self.personas),
            "triggers": len(self.triggers),
            "improvements": len(self.improvements),
        }


def _find(items: list[Any], key: str, kind: str) -> Any:
    for item in items:
        if item.key == key:
            return item
    from klantreis.errors import UnknownKey

    raise UnknownKey(kind, key, [i.key for i in items])
