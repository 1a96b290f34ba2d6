"""Journey files: load, save, round trip (comments and key order kept), file errors."""

from __future__ import annotations

import tempfile
from datetime import date
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from klantreis.errors import JourneyError, JourneyInvalid
from klantreis.model import (
    Channel,
    EventMatch,
    Evidence,
    Experience,
    Goal,
    Improvement,
    Journey,
    PainPoint,
    Persona,
    PersonaWalk,
    Quote,
    Scope,
    Touchpoint,
    TouchpointState,
    TouchpointWalk,
    Trigger,
    dump_journey,
    journey_problems,
    load_journey,
    parse_journey,
    save_journey,
)

COMMENTED = """\
# The demo journey: a comment at the top.
key: demo
name: {nl: Demo, en: Demo}  # a comment after a value
touchpoints:
  # the first touchpoint
  - key: site
    phase: awareness
    successors: [buy]
    walk: {next: {buy: 0.5}, delay: 2d}
  - key: buy
    conversion: true  # where customers convert
    phase: purchase
    description_note: null
"""


def template(name: str) -> str:
    return resources.files("klantreis.model").joinpath("templates", f"{name}.yaml").read_text()


@pytest.mark.parametrize("name", ["blank", "fitness", "retail"])
def test_templates_round_trip_byte_for_byte(name: str, tmp_path: Path) -> None:
    path = tmp_path / f"{name}.yaml"
    path.write_text(template(name), encoding="utf-8")
    journey = load_journey(path)
    save_journey(journey)
    assert path.read_text(encoding="utf-8") == template(name)
    assert load_journey(path) == journey


def test_comments_and_key_order_survive_an_edit(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(COMMENTED.replace("    description_note: null\n", ""), encoding="utf-8")
    journey = load_journey(path)
    journey.touchpoint("site").experience = Experience(current=2, desired=4)
    journey.touchpoint("buy").pain_points.append(PainPoint(text="te duur", severity="high"))
    save_journey(journey)
    text = path.read_text(encoding="utf-8")
    assert text == (
        "# The demo journey: a comment at the top.\n"
        "key: demo\n"
        "name: {nl: Demo, en: Demo}  # a comment after a value\n"
        "touchpoints:\n"
        "  # the first touchpoint\n"
        "  - key: site\n"
        "    phase: awareness\n"
        "    successors: [buy]\n"
        "    walk: {next: {buy: 0.5}, delay: 2d}\n"
        "    experience:\n"
        "      current: 2\n"
        "      desired: 4\n"
        "  - key: buy\n"
        "    conversion: true  # where customers convert\n"
        "    phase: purchase\n"
        "    pain_points:\n"
        "      - text: te duur\n"
        "        severity: high\n"
    )
    again = load_journey(path)
    assert again == journey
    assert again.touchpoint("buy").pain_points[0].severity == "high"


def test_removed_items_disappear_and_others_keep_their_comments() -> None:
    journey = parse_journey(COMMENTED.replace("    description_note: null\n", ""))
    journey.touchpoints[0].successors = []
    journey.touchpoints[0].walk = None
    text = dump_journey(journey)
    assert "successors" not in text and "walk" not in text
    assert "conversion: true  # where customers convert" in text


def test_a_journey_made_in_code_saves_and_loads(tmp_path: Path) -> None:
    journey = Journey(
        key="code",
        touchpoints=[
            Touchpoint(key="a", phase="awareness", successors=["b"]),
            Touchpoint(key="b", phase="purchase", conversion=True, walk=TouchpointWalk(value=10)),
        ],
        goal=Goal(description="meer", metric="conversion", target=0.3, deadline=date(2027, 1, 1)),
    )
    path = save_journey(journey, tmp_path / "sub" / "code.yaml")
    assert path == tmp_path / "sub" / "code.yaml"
    assert journey.path == path
    text = path.read_text(encoding="utf-8")
    assert "deadline: 2027-01-01\n" in text  # a date, not a quoted string
    assert "phases" not in text  # defaults stay out of the file
    assert load_journey(path) == journey
    assert [p.key for p in load_journey(path).phases][:2] == ["awareness", "consideration"]


def test_save_needs_a_path_for_a_journey_not_from_a_file() -> None:
    with pytest.raises(JourneyError, match="not loaded from a file"):
        save_journey(Journey(key="x"))


def test_save_is_atomic_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    path = tmp_path / "j.yaml"
    save_journey(Journey(key="x"), path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["j.yaml"]


def test_equality_ignores_where_the_journey_came_from(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(COMMENTED.replace("    description_note: null\n", ""), encoding="utf-8")
    assert load_journey(path) == parse_journey(path.read_text(encoding="utf-8"))
    assert load_journey(path) != Journey(key="demo")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(JourneyError) as info:
        load_journey(tmp_path / "nope.yaml", lang="nl")
    assert str(info.value) == f"klantreisbestand {tmp_path / 'nope.yaml'} bestaat niet"


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("key: caf\xe9\n".encode("latin-1"))
    with pytest.raises(JourneyError, match=r"is not UTF-8 text .*; save it as UTF-8"):
        load_journey(path)


def test_load_error_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "demo.yaml"
    path.write_text(COMMENTED, encoding="utf-8")
    with pytest.raises(JourneyInvalid) as info:
        load_journey(path)
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.field) == (
        str(path),
        13,
        "touchpoints[buy].description_note",
    )


# -- random valid journeys round-trip through save and load ------------------------------

KEYS = st.text(alphabet="abcdefghij_-0123456789", min_size=1, max_size=8).filter(
    lambda k: k[0] not in "_-"
)
WORDS = st.text(
    alphabet=st.characters(
        blacklist_categories=("Cs", "Cc", "Zl", "Zp", "Co", "Cn"), blacklist_characters="\ufeff"
    ),
    max_size=20,
)
TEXTS = st.one_of(
    WORDS,
    st.sampled_from(["yes", "no", "null", "~", "1.5", "2027-01-01", "a: b", "# x", "[x]", "'q'"]),
    st.fixed_dictionaries({"nl": WORDS, "en": WORDS}),
    st.fixed_dictionaries({"nl": WORDS}),
)
SCORES = st.one_of(
    st.none(), st.integers(1, 5), st.floats(1, 5, allow_nan=False).map(lambda x: round(x, 3))
)
LEVELS = st.sampled_from(["observed", "reported", "assumed", "proposed"])
PROBABILITY = st.floats(0, 0.3, allow_nan=False).map(lambda x: round(x, 4))
PHASES = st.sampled_from(["awareness", "consideration", "purchase", "service", "loyalty"])


@st.composite
def journeys(draw: st.DrawFn) -> Journey:
    tp_keys = draw(st.lists(KEYS, min_size=1, max_size=5, unique=True))
    ch_keys = draw(st.lists(KEYS, max_size=3, unique=True))
    channels = [
        Channel(
            key=k,
            name=draw(TEXTS),
            kind=draw(st.sampled_from(["online", "offline"])),
            type=draw(st.sampled_from(["owned", "paid", "earned"])),
            direct=draw(st.booleans()),
        )
        for k in ch_keys
    ]
    evidence = st.builds(
        Evidence,
        level=LEVELS,
        source=st.one_of(st.none(), WORDS),
        verified=st.one_of(st.none(), st.dates()),
    )
    touchpoints = []
    for i, key in enumerate(tp_keys):
        others = [k for k in tp_keys if k != key]
        touchpoints.append(
            Touchpoint(
                key=key,
                name=draw(TEXTS),
                phase=draw(PHASES),
                channel=draw(st.one_of(st.none(), st.sampled_from(ch_keys))) if ch_keys else None,
                loop=draw(st.sampled_from([None, "purchase", "service", "loyalty"])),
                successors=draw(st.lists(st.sampled_from(others), max_size=2, unique=True))
                if others
                else [],
                thoughts=draw(
                    st.lists(st.builds(Quote, text=TEXTS, evidence=evidence), max_size=2)
                ),
                experience=Experience(
                    current=draw(SCORES),
                    desired=draw(SCORES),
                    emotion=draw(st.one_of(st.none(), WORDS)),
                ),
                pain_points=draw(
                    st.lists(
                        st.builds(
                            PainPoint,
                            text=TEXTS,
                            severity=st.sampled_from(["low", "medium", "high"]),
                            evidence=evidence,
                        ),
                        max_size=2,
                    )
                ),
                events=draw(
                    st.lists(
                        st.one_of(
                            st.builds(
                                EventMatch,
                                name=KEYS,
                                where=st.dictionaries(KEYS, WORDS, max_size=2),
                            ),
                            st.builds(EventMatch, glob=KEYS.map(lambda k: k + "*")),
                        ),
                        max_size=2,
                    )
                ),
                conversion=i == 0 or draw(st.booleans()),
                to_be=draw(
                    st.one_of(
                        st.none(),
                        st.builds(
                            TouchpointState,
                            name=TEXTS,
                            experience=st.builds(Experience, desired=SCORES),
                        ),
                    )
                ),
                walk=TouchpointWalk(
                    next={k: draw(PROBABILITY) for k in others[:3]},
                    delay=draw(st.sampled_from(["30m", "1d", "2.5h", "1w"])),
                    spread=draw(st.floats(0, 5, allow_nan=False).map(lambda x: round(x, 2))),
                    value=draw(
                        st.one_of(
                            st.none(),
                            st.integers(0, 1000),
                            st.floats(0, 1000).map(lambda x: round(x, 2)),
                        )
                    ),
                ),
            )
        )
    personas = [
        Persona(
            key=k,
            name=draw(TEXTS),
            goals=draw(st.lists(TEXTS, max_size=2)),
            channels=draw(st.lists(st.sampled_from(ch_keys), max_size=2)) if ch_keys else [],
            match=draw(
                st.dictionaries(KEYS, st.one_of(WORDS, st.lists(WORDS, max_size=2)), max_size=2)
            ),
            walk=PersonaWalk(
                share=draw(st.floats(0.01, 5).map(lambda x: round(x, 3))),
                weekly=draw(
                    st.one_of(st.none(), st.lists(st.integers(0, 3), min_size=7, max_size=7))
                ),
                entry={tp_keys[0]: 1.0},
            ),
        )
        for k in draw(st.lists(KEYS, max_size=2, unique=True))
    ]
    return Journey(
        key=draw(KEYS),
        name=draw(TEXTS),
        description=draw(st.one_of(st.none(), TEXTS)),
        scope=Scope(kind="all"),
        goal=draw(
            st.one_of(
                st.none(),
                st.builds(
                    Goal,
                    description=TEXTS,
                    metric=KEYS,
                    baseline=st.one_of(st.none(), st.floats(0, 1).map(lambda x: round(x, 3))),
                    target=st.floats(0, 1).map(lambda x: round(x, 3)),
                    deadline=st.dates(),
                ),
            )
        ),
        channels=channels,
        touchpoints=touchpoints,
        personas=personas,
        triggers=[
            Trigger(
                key=k,
                touchpoint=draw(st.sampled_from(tp_keys)),
                kind=draw(st.sampled_from(["internal", "external"])),
            )
            for k in draw(st.lists(KEYS, max_size=2, unique=True))
        ],
        improvements=[
            Improvement(
                key=k,
                touchpoint=draw(st.sampled_from(tp_keys)),
                due=draw(st.one_of(st.none(), st.dates())),
            )
            for k in draw(st.lists(KEYS, max_size=2, unique=True))
        ],
    )


@settings(max_examples=25)
@given(journeys())
def test_random_journeys_round_trip(journey: Journey) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = save_journey(journey, Path(folder) / "j.yaml")
        loaded = load_journey(path)
        assert loaded == journey
        # A second save of the loaded journey changes nothing.
        before = path.read_text(encoding="utf-8")
        save_journey(loaded)
        assert path.read_text(encoding="utf-8") == before


def test_removing_and_inserting_items_leaves_the_rest_of_the_file_alone() -> None:
    source = template("fitness")
    journey = parse_journey(source)
    del journey.touchpoints[1]  # friends
    journey.touchpoints.insert(3, Touchpoint(key="new_one", phase="consideration"))
    start = source.index("  - key: friends\n    name: {nl: Vrienden (")
    end = source.index("  - key: website\n", start)
    expected = source[:start] + source[end:]
    at = expected.index("\n  - key: reminder_email\n")  # before the blank line
    expected = expected[:at] + "  - key: new_one\n    phase: consideration\n" + expected[at:]
    assert dump_journey(journey) == expected


def test_moving_items_keeps_their_comments() -> None:
    journey = parse_journey(COMMENTED.replace("    description_note: null\n", ""))
    journey.touchpoints.reverse()
    text = dump_journey(journey)
    assert text.index("- key: buy") < text.index("- key: site")
    assert "conversion: true  # where customers convert" in text
    assert parse_journey(text) == journey


@settings(max_examples=10)
@given(journeys(), st.data())
def test_random_edits_round_trip(journey: Journey, data: st.DataObject) -> None:
    loaded = parse_journey(dump_journey(journey))
    tps = loaded.touchpoints
    order = data.draw(st.permutations(range(len(tps))))
    keep = data.draw(st.lists(st.booleans(), min_size=len(tps), max_size=len(tps)))
    edited = [tps[i] for i in order if keep[i]] or [tps[0]]
    if data.draw(st.booleans()):
        edited.append(Touchpoint(key="added-one", phase="loyalty", conversion=True))
    loaded.touchpoints = edited
    loaded.channels = loaded.channels[::-1]
    again, _ = journey_problems(dump_journey(loaded))  # references may dangle now
    assert again == loaded
