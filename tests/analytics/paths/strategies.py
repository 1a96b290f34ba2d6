"""Random small event logs for the path tests (ties in time are frequent on purpose)."""

from __future__ import annotations

from hypothesis import strategies as st

TPS = ("ad", "site", "compare", "buy", "use", "review", "zz-unmapped")


@st.composite
def event_logs(draw, max_events: int = 30):
    n = draw(st.integers(0, max_events))
    ids = draw(st.lists(st.integers(0, 10**6), min_size=n, max_size=n, unique=True))
    events = []
    for i in ids:
        minute = draw(st.integers(0, 240))
        second = draw(st.sampled_from([0, 0, 0, 30, 59]))
        events.append(
            {
                "event_id": f"e{i:07d}",
                "customer_id": draw(st.sampled_from(["c1", "c2", "c3", "c4"])),
                "timestamp": f"2025-03-01T{minute // 60:02d}:{minute % 60:02d}:{second:02d}Z",
                "touchpoint": draw(st.sampled_from(TPS)),
            }
        )
    return events


customer_rows = st.fixed_dictionaries(
    {c: st.sampled_from([None, "p1", "p2"]) for c in ("c1", "c2", "c3", "c4")}
)
