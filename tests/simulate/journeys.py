"""Small journeys built in code for the simulation tests."""

from __future__ import annotations

from klantreis.model import (
    Channel,
    Experience,
    Journey,
    Persona,
    PersonaWalk,
    Touchpoint,
    TouchpointWalk,
    Trigger,
)


def shop(
    *, delay: str = "1h", spread: float = 0.5, personas: list[Persona] | None = None
) -> Journey:
    """ad -> {site 0.5, store 0.3} (leave 0.2); site -> {store 0.6}; store converts (value 50)."""
    return Journey(
        key="shop",
        channels=[Channel(key="social"), Channel(key="web"), Channel(key="desk", kind="offline")],
        touchpoints=[
            Touchpoint(
                key="ad",
                phase="awareness",
                successors=["site", "store"],
                experience=Experience(current=3),
                walk=TouchpointWalk(
                    next={"site": 0.5, "store": 0.3},
                    delay=delay,
                    spread=spread,
                    channels={"social": 1.0},
                ),
            ),
            Touchpoint(
                key="site",
                phase="consideration",
                successors=["store"],
                experience=Experience(current=2),
                walk=TouchpointWalk(
                    next={"store": 0.6},
                    delay="2h",
                    spread=spread,
                    channels={"web": 0.75, "social": 0.25},
                ),
            ),
            Touchpoint(
                key="store",
                phase="purchase",
                conversion=True,
                channel="desk",
                experience=Experience(current=5),
                walk=TouchpointWalk(value=50.0),
            ),
        ],
        personas=personas or [],
        triggers=[Trigger(key="promo", touchpoint="ad")],
    )


def two_personas() -> Journey:
    return shop(
        personas=[
            Persona(
                key="fan",
                match={"segment": "loyal"},
                walk=PersonaWalk(
                    share=3,
                    weekly=[3, 1, 1, 1, 1, 1, 1],
                    seasonal=[4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1],
                    propensity={"store": 1.5},
                    purchase_value=80,
                    channels={"web": 2.0, "social": 1.0},
                ),
            ),
            Persona(key="doubter", walk=PersonaWalk(share=1, propensity={"site": 0.5})),
        ]
    )
