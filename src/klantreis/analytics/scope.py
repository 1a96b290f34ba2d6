"""Run any analytic on one customer group: ``scoped(ws, persona=..., segment=...)``.

A :class:`Scoped` workspace has the attributes analytics use (``events``, ``feedback``,
``customers``, ``journey()``, ``journeys()``, ``settings``, ``con``, ``table()``), each
restricted to the customers of the group, so every analytic that takes a workspace
(retention, experience, drivers, and the funnel and transitions too) runs on a group
unchanged. The group is the customers whose ``persona`` (or ``segment``) column in the
customers table equals the value, together with, for a persona, the customers matched
by the persona's ``match`` rule in the journey (column or attribute -> value(s)).
Events of customers missing from the customers table belong to no group.

The module also holds small helpers the loyalty and experience analytics share:
journey lookup tables and calendar period numbers.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from klantreis.errors import InvalidSpec, WorkspaceError

if TYPE_CHECKING:
    import ibis

    from klantreis.model.journey import Journey

__all__ = ["PERIODS", "Scoped", "scoped"]

PERIODS = ("day", "week", "month")
UNMAPPED = "(unmapped)"
_WEEK_EPOCH = date(1969, 12, 29)  # a Monday
_DAY_EPOCH = date(1970, 1, 1)


class Scoped:
    """A workspace seen through one customer group (see the module docstring)."""

    def __init__(self, ws: Any, ids: ibis.Table, label: dict[str, str]) -> None:
        self._ws = ws
        self._ids = ids
        self.label = label

    def __repr__(self) -> str:
        return f"Scoped({self._ws!r}, {self.label})"

    def __getattr__(self, name: str) -> Any:
        # anything else (paths, read_only, identities...) is the workspace's own
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._ws, name)

    @property
    def settings(self) -> Any:
        return self._ws.settings

    @property
    def path(self) -> Any:
        return self._ws.path

    @property
    def con(self) -> Any:
        return self._ws.con

    def connect(self) -> Any:
        return self._ws.con

    def journey(self, key: str | None = None) -> Journey:
        return self._ws.journey(key)

    def journeys(self) -> list[Journey]:
        return self._ws.journeys()

    @property
    def base(self) -> Any:
        """The whole workspace this group is part of."""
        return self._ws

    def restrict(self, table: ibis.Table) -> ibis.Table:
        """``table`` (with a customer_id column) restricted to the group's customers."""
        return table.semi_join(self._ids, "customer_id")

    def table(self, name: str) -> ibis.Table:
        table = self._ws.table(name)
        if "customer_id" in table.columns and name != "identities":
            return table.semi_join(self._ids, "customer_id")
        return table

    @property
    def events(self) -> ibis.Table:
        return self._ws.events.view().semi_join(self._ids, "customer_id")

    @property
    def feedback(self) -> ibis.Table:
        return self._ws.feedback.view().semi_join(self._ids, "customer_id")

    @property
    def customers(self) -> ibis.Table:
        return self.table("customers")

    @property
    def rejects(self) -> ibis.Table:
        return self._ws.rejects


def scoped(
    ws: Any, persona: str | None = None, segment: str | None = None, *, journey: str | None = None
) -> Scoped:
    """``ws`` restricted to the customers of a persona and/or a segment.

    Given both, a customer must be in both. Raises InvalidSpec when neither is given.
    """
    if persona is None and segment is None:
        raise InvalidSpec("scope", "give a persona or a segment")
    customers = ws.customers
    cond = None
    if segment is not None:
        cond = customers.segment == segment
    if persona is not None:
        pcond = customers.persona == persona
        rule = _persona_rule(ws, persona, journey)
        if rule is not None:
            pcond = pcond | _match(customers, rule)
        cond = pcond if cond is None else cond & pcond
    ids = customers.filter(cond).select("customer_id").distinct()
    label = {k: v for k, v in (("persona", persona), ("segment", segment)) if v is not None}
    return Scoped(ws, ids, label)


def _persona_rule(ws: Any, persona: str, journey_key: str | None) -> dict[str, Any] | None:
    journey = journey_of(ws, journey_key)
    if journey is None:
        return None
    for p in journey.personas:
        if p.key == persona and p.match:
            return dict(p.match)
    return None


def _match(customers: ibis.Table, rule: dict[str, Any]) -> Any:
    """Customers meeting every (column or JSON attribute) -> value(s) condition."""
    import ibis

    cond = ibis.literal(True)
    for name, wanted in rule.items():
        values = [str(v) for v in (wanted if isinstance(wanted, list) else [wanted])]
        if name in ("customer_id", "segment", "persona"):
            column = customers[name]
        else:
            column = customers.attributes.cast("json")[name].unwrap_as("string")
        cond = cond & column.isin(values).fill_null(False)
    return cond


# -- shared helpers ------------------------------------------------------------------


def events_of(ws: Any) -> ibis.Table:
    """``ws.events`` as a fresh relation (a view), so it can be joined with other tables
    built from the workspace (the stitched tables share the identities table)."""
    return ws.events.view()


def feedback_of(ws: Any) -> ibis.Table:
    """``ws.feedback`` as a fresh relation (see :func:`events_of`)."""
    return ws.feedback.view()


def journey_of(ws: Any, key: str | None = None) -> Journey | None:
    """The journey (by key, else the default one); None when the workspace has none."""
    try:
        return ws.journey(key)
    except WorkspaceError:
        if key is not None:
            raise
        return None


def touchpoint_frame(ws: Any, journey: Journey | None, lang: str | None = None) -> Any:
    """pandas frame: touchpoint, name, phase, loop, conversion, referral, ends, designed, desired.

    A touchpoint's loop is its ``loop`` field, else follows its phase: the buyer phases
    (part 'buyer') -> purchase, phase 'service' -> service, phase 'loyalty' -> loyalty.
    """
    import pandas as pd

    rows = []
    if journey is not None:
        parts = {p.key: p.part for p in journey.phases}
        for tp in journey.touchpoints:
            loop = tp.loop
            if loop is None:
                if parts.get(tp.phase) == "buyer":
                    loop = "purchase"
                elif tp.phase in ("service", "loyalty"):
                    loop = tp.phase
            rows.append(
                {
                    "touchpoint": tp.key,
                    "name": tp.label(lang or "en"),
                    "phase": tp.phase,
                    "loop": loop,
                    "conversion": tp.conversion,
                    "referral": tp.referral,
                    "ends": tp.ends_relationship,
                    "designed": tp.experience.current,
                    "desired": tp.experience.desired,
                }
            )
    columns = [
        "touchpoint",
        "name",
        "phase",
        "loop",
        "conversion",
        "referral",
        "ends",
        "designed",
        "desired",
    ]
    frame = pd.DataFrame(rows, columns=columns)
    for col in ("conversion", "referral", "ends"):
        frame[col] = frame[col].astype(bool)
    for col in ("designed", "desired"):
        frame[col] = frame[col].astype("float64")
    return frame


def touchpoint_table(frame: Any) -> ibis.Table:
    """The touchpoint frame as an in-memory Ibis table (touchpoint, phase, loop, flags)."""
    import ibis

    small = frame[["touchpoint", "phase", "loop", "conversion", "referral", "ends"]]
    schema = {
        "touchpoint": "string",
        "phase": "string",
        "loop": "string",
        "conversion": "boolean",
        "referral": "boolean",
        "ends": "boolean",
    }
    return ibis.memtable(small, schema=schema)


def keys_with(frame: Any, flag: str) -> list[str]:
    return [str(k) for k in frame.loc[frame[flag], "touchpoint"]]


def check_period(period: str) -> str:
    if period not in PERIODS:
        raise InvalidSpec("period", "unknown period", value=period, allowed=PERIODS)
    return period


def period_number(ts: Any, period: str, clock: Any = None) -> Any:
    """Integer number of the calendar period of a UTC timestamp, counted in the
    workspace time zone (the connection's TimeZone): days/weeks since 1970, months
    since year 0. Consecutive periods differ by 1. ``clock`` (from :func:`local_clock`)
    computes the local day without the backend's time-zone conversion."""
    import ibis

    if clock is not None:
        return clock.period(clock(ts), period)
    local = ts.date()
    if period == "day":
        return local.delta(ibis.date(_DAY_EPOCH.isoformat()), unit="day")
    if period == "week":
        return local.truncate("W").delta(ibis.date(_WEEK_EPOCH.isoformat()), unit="day") // 7
    return local.year() * 12 + local.month() - 1


def day_period(day: Any, period: str) -> Any:
    """The period number (as :func:`period_number`) of a local day number."""
    import ibis

    if period == "day":
        return day
    if period == "week":
        return (day + 3) // 7  # 1970-01-01 is a Thursday; weeks start on Monday
    local = ibis.date(_DAY_EPOCH.isoformat()) + day.as_interval("D")
    return local.year() * 12 + local.month() - 1


_DAY_US = 86_400_000_000


def local_clock(ws: Any, table: Any, column: str = "timestamp") -> Any:
    """A function from a UTC timestamp expression to its local day number (days since
    1970-01-01 in the workspace time zone), or None to use the backend's conversion.

    On DuckDB, converting every timestamp through the ICU time zone is the slowest part
    of calendar analytics; this uses the integer epoch and the zone's UTC offsets
    between the data's first and last timestamp instead (a CASE over the few daylight
    saving transitions in that range), which gives the same days. Other backends use it
    too: their session time zone need not be the workspace's (Ibis runs PySpark in UTC).
    """

    from klantreis.result import execute

    col = table[column]
    bounds, _, _ = execute(table.aggregate(lo=col.min(), hi=col.max()), ws.con)
    if not len(bounds) or bounds.lo.isna().iloc[0]:
        return None
    lo, hi = _utc(bounds.lo.iloc[0]), _utc(bounds.hi.iloc[0])
    steps = _offsets(ws.settings.timezone, lo, hi)
    return _Clock(steps, (lo - timedelta(days=2)).date(), (hi + timedelta(days=2)).date())


class _Clock:
    """Local day numbers from UTC instants (see :func:`local_clock`).

    Call it with a timestamp expression, or use :meth:`micros` with an expression of
    microseconds since the epoch (e.g. the timeline's ``us`` and ``next_us``);
    :meth:`period` turns day numbers into period numbers.
    """

    def __init__(self, steps: list[tuple[int, int]], first: date, last: date) -> None:
        self.steps = steps
        self.first, self.last = first, last  # the days the data covers (with a margin)

    def period(self, day: Any, period: str) -> Any:
        """:func:`day_period`, with months looked up among the days the data covers.

        Date arithmetic per row (day -> date -> year and month) costs about 1 s per 10M
        rows on DuckDB; indexing a constant list of month numbers by the day costs a
        fifth of that. Days outside the range take the date arithmetic.
        """
        import ibis

        if period != "month" or (self.last - self.first).days > 20_000:
            return day_period(day, period)
        first = (self.first - _DAY_EPOCH).days
        days = (self.last - self.first).days + 1
        months = [
            d.year * 12 + d.month - 1 for d in (self.first + timedelta(days=i) for i in range(days))
        ]
        table = ibis.literal(months, type="array<int64>")
        inside = (day >= first) & (day < first + days)
        return ibis.ifelse(inside, table[(day - first).cast("int32")], day_period(day, period))

    def __call__(self, ts: Any) -> Any:
        from klantreis.analytics._time import epoch_micros

        return self.micros(epoch_micros(ts))

    def micros(self, micros: Any) -> Any:
        import ibis

        steps = self.steps
        if len(steps) == 1:
            offset = ibis.literal(steps[0][1], type="int64")
        else:
            pairs = zip(steps[1:], steps[:-1], strict=True)
            branches = [(micros < start, off) for (start, _), (_, off) in pairs]
            offset = ibis.cases(*branches, else_=steps[-1][1])
        return (micros + offset) // _DAY_US


def _utc(value: Any) -> Any:
    """A result timestamp as an aware UTC datetime (some backends hand back naive UTC)."""
    from datetime import UTC

    value = value.to_pydatetime()
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def _offsets(zone_name: str, lo: Any, hi: Any) -> list[tuple[int, int]]:
    """[(from epoch microseconds, UTC offset in microseconds)] covering lo..hi."""
    from datetime import UTC
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(zone_name)

    def offset(at: Any) -> int:
        return int(at.astimezone(zone).utcoffset().total_seconds()) * 1_000_000

    start = lo.astimezone(UTC) - timedelta(days=2)
    end = hi.astimezone(UTC) + timedelta(days=2)
    steps = [(int(start.timestamp()) * 1_000_000, offset(start))]
    day = start
    while day < end:
        nxt = day + timedelta(hours=6)
        if offset(nxt) != offset(day):
            low, high = day, nxt  # bisect to the second
            while (high - low).total_seconds() > 1:
                mid = low + (high - low) / 2
                low, high = (mid, high) if offset(mid) == offset(low) else (low, mid)
            steps.append((int(high.timestamp()) * 1_000_000, offset(high)))
        day = nxt
    return steps


def date_period(day: date, period: str) -> int:
    """The period number of a local date, in Python (as :func:`day_period` in the engine;
    :func:`period_start` is its inverse)."""
    if period == "day":
        return (day - _DAY_EPOCH).days
    if period == "week":
        return (day - _WEEK_EPOCH).days // 7
    return day.year * 12 + day.month - 1


def period_start(number: int, period: str) -> date:
    """The first day of period ``number`` (see :func:`period_number`)."""
    number = int(number)
    if period == "day":
        return _DAY_EPOCH + timedelta(days=number)
    if period == "week":
        return _WEEK_EPOCH + timedelta(weeks=number)
    return date(number // 12, number % 12 + 1, 1)


def label_touchpoints(values: Any, known: set[str]) -> Any:
    """Whether each touchpoint is defined in the journey (for 'mapped' columns)."""
    return values.map(lambda v: v in known)
