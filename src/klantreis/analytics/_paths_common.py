"""Helpers the path analytics share (transitions, paths, sankey, timing).

Every path analytic orders a customer's events by ``(timestamp, event_id)``: ties in
time are broken by the event id. Events without a timestamp or a touchpoint cannot be
placed on a path and are left out.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from klantreis.errors import InvalidSpec, UnknownKey

if TYPE_CHECKING:
    import ibis

    from klantreis.model.journey import Journey

#: Label of the bucket that gathers what does not fit in a top-N list.
OTHER = "(other)"
#: Label of the node where a path stops (sankey).
END = "(end)"
#: Label of the start of a path (sankey, backward).
START = "(start)"
#: Group label for customers without a persona/segment value.
NO_GROUP = "(none)"

ORDER = ("timestamp", "event_id")


def journey_of(ws: Any, key: str | None) -> Journey:
    """The workspace's journey ``key`` (or its default)."""
    return ws.journey(key)


def placed_events(ws: Any) -> ibis.Table:
    """The events that can be placed on a path (timestamp and touchpoint present)."""
    ev = ws.events
    return ev.filter(ev.timestamp.notnull(), ev.touchpoint.notnull()).select(
        "customer_id", "timestamp", "event_id", "touchpoint"
    )


def customer_window(**kw: Any) -> Any:
    """The window over one customer's events in path order."""
    import ibis

    return ibis.window(group_by="customer_id", order_by=list(ORDER), **kw)


def check_flag(name: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidSpec(name, "must be true or false", value=value)
    return value


def check_positive(name: str, value: Any, *, minimum: int = 1, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidSpec(name, "must be a whole number", value=value)
    if value < minimum or (maximum is not None and value > maximum):
        upper = f" and at most {maximum}" if maximum is not None else ""
        raise InvalidSpec(name, f"must be at least {minimum}{upper}", value=value)
    return value


def check_phase(journey: Journey, phase: str | None) -> list[str] | None:
    """The touchpoints of ``phase`` (None when no phase is asked for)."""
    if phase is None:
        return None
    known = [p.key for p in journey.phases]
    if phase not in known:
        raise UnknownKey("phase", phase, known)
    return [tp.key for tp in journey.touchpoints if tp.phase == phase]


def data_touchpoints(ws: Any) -> set[str]:
    """Distinct touchpoints in the events (a small query; used to check user input)."""
    ev = ws.events
    df = ev.filter(ev.touchpoint.notnull()).select("touchpoint").distinct().execute()
    return set(df["touchpoint"])


def check_touchpoints(ws: Any, journey: Journey, keys: list[str], field: str) -> list[str]:
    """``keys`` if each is a touchpoint of the journey or of the data; else UnknownKey."""
    defined = {tp.key for tp in journey.touchpoints}
    missing = [k for k in keys if k not in defined]
    if missing:
        seen = data_touchpoints(ws)
        for key in missing:
            if not isinstance(key, str) or key not in seen:
                raise UnknownKey("touchpoint", str(key), defined | seen)
    return keys


def conversion_touchpoints(
    ws: Any, journey: Journey, conversion: str | list[str] | tuple[str, ...] | None
) -> list[str]:
    """The touchpoints that count as conversion: the given ones, else the journey's."""
    if conversion is None:
        return journey.conversion_touchpoints()
    keys = [conversion] if isinstance(conversion, str) else list(conversion)
    if not keys:
        raise InvalidSpec("conversion", "give at least one touchpoint", value=conversion)
    return check_touchpoints(ws, journey, keys, "conversion")


def customer_groups(ws: Any, by: str | None) -> ibis.Table | None:
    """customer_id -> grp (the ``by`` column of the customers table), or None."""
    if by is None:
        return None
    if by not in ("persona", "segment"):
        raise InvalidSpec("by", "unknown grouping", value=by, allowed=["persona", "segment"])
    cu = ws.customers
    return cu.group_by("customer_id").agg(grp=cu[by].max())


def mapped_flags(journey: Journey, keys: Any) -> list[bool]:
    """Whether each key is a touchpoint of the journey."""
    defined = {tp.key for tp in journey.touchpoints}
    return [k in defined for k in keys]
