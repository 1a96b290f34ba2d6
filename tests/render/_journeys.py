"""Test journeys built in code (a small fitness-club journey with every lane filled)."""

from __future__ import annotations

from datetime import date

from klantreis.model import (
    Channel,
    Evidence,
    Experience,
    Goal,
    Improvement,
    Journey,
    Opportunity,
    PainPoint,
    Persona,
    Quote,
    Scale,
    Touchpoint,
    TouchpointState,
    Trigger,
)

XSS = "<script>alert(1)</script>"


def fitness(name: str = "Website") -> Journey:
    """Five phases, six touchpoints, one to-be change, one to-be-only touchpoint."""
    tps = [
        Touchpoint(
            key="ad",
            name={"nl": "Advertentie", "en": "Advert"},
            phase="awareness",
            channel="social",
            action={"nl": "Ziet een advertentie", "en": "Sees an advert"},
            thoughts=[Quote(text="Dat ziet er goed uit", evidence=Evidence(level="reported"))],
            experience=Experience(
                current=3, desired=4, emotion="nieuwsgierig", evidence=Evidence(level="observed")
            ),
            successors=["site"],
        ),
        Touchpoint(
            key="site",
            name=name,
            phase="consideration",
            channel="web",
            mode="online",
            action="Vergelijkt abonnementen",
            thoughts=[Quote(text="Wat kost het eigenlijk?")],
            experience=Experience(current=2, desired=4, emotion="verward"),
            pain_points=[
                PainPoint(
                    text="Prijzen zijn onduidelijk",
                    severity="high",
                    evidence=Evidence(level="observed"),
                )
            ],
            opportunities=[Opportunity(text="Prijsvergelijker op de site")],
            predecessors=["ad"],
            successors=["trial"],
            to_be=TouchpointState(
                experience=Experience(current=4, desired=4, evidence=Evidence(level="proposed"))
            ),
        ),
        Touchpoint(
            key="trial",
            name={"nl": "Proefles", "en": "Trial lesson"},
            phase="consideration",
            channel="club",
            mode="offline",
            experience=Experience(current=4, desired=5),
            pain_points=[
                PainPoint(
                    text="Wachttijd bij de balie",
                    severity="low",
                    evidence=Evidence(level="assumed"),
                )
            ],
            predecessors=["site"],
            successors=["signup"],
        ),
        Touchpoint(
            key="signup",
            name={"nl": "Inschrijving", "en": "Sign-up"},
            phase="purchase",
            channel="club",
            conversion=True,
            experience=Experience(current=3, desired=5),
            predecessors=["trial"],
            successors=["app"],
        ),
        Touchpoint(
            key="app",
            name="App",
            phase="service",
            channel="app",
            experience=Experience(current=3, desired=4),
            predecessors=["signup"],
            successors=["review"],
        ),
        Touchpoint(
            key="review",
            name="Review",
            phase="loyalty",
            channel="social",
            referral=True,
            experience=Experience(current=4, desired=5),
            predecessors=["app"],
        ),
        Touchpoint(
            key="reminder",
            name="Herinneringsmail",
            phase="purchase",
            channel="email",
            states="to-be",
            experience=Experience(current=4, desired=4, evidence=Evidence(level="proposed")),
            predecessors=["trial"],
        ),
    ]
    return Journey(
        key="fitness",
        name={"nl": "Lid worden van de sportschool", "en": "Joining the gym"},
        language="nl",
        owner="Marketing",
        updated=date(2026, 11, 1),
        scenario="Sanne wil fitter worden en zoekt een sportschool dichtbij.",
        goal=Goal(
            description="Meer proefles-bezoekers worden lid",
            metric="conversion",
            baseline=0.2,
            target=0.3,
            deadline=date(2027, 6, 30),
        ),
        scale=Scale(min=1, max=5),
        channels=[
            Channel(key="social", name="Social media", kind="online", type="paid"),
            Channel(key="web", name="Website", kind="online"),
            Channel(key="club", name={"nl": "Sportschool", "en": "Club"}, kind="offline"),
            Channel(key="app", name="App", kind="online"),
            Channel(key="email", name="E-mail", kind="online"),
        ],
        touchpoints=tps,
        personas=[
            Persona(
                key="sanne",
                name="Sanne",
                story="Drukke starter, 28 jaar",
                needs=["flexibele tijden"],
            )
        ],
        triggers=[Trigger(key="newyear", name="Goede voornemens", touchpoint="ad")],
        improvements=[
            Improvement(
                key="prices",
                name="Duidelijke prijzen",
                touchpoint="site",
                owner="Web team",
                status="planned",
                due=date(2027, 1, 15),
            )
        ],
    )
