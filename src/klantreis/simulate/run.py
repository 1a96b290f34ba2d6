"""``simulate()``: personas walk a journey and leave canonical events, feedback, customers.

>>> from klantreis.model import Journey, Touchpoint, TouchpointWalk
>>> j = Journey(key="j", touchpoints=[
...     Touchpoint(key="ad", phase="awareness", successors=["shop"],
...                walk=TouchpointWalk(next={"shop": 0.4}, delay="2h")),
...     Touchpoint(key="shop", phase="purchase", conversion=True)])
>>> sim = simulate(j, customers=1000, seed=1, days=30)
>>> sim.customers.num_rows, sim.events.column_names[:3]
(1000, ['event_id', 'customer_id', 'timestamp'])
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from klantreis.simulate.engine import walk
from klantreis.simulate.model import JourneyModel, journey_model
from klantreis.simulate.output import Simulation, to_tables

if TYPE_CHECKING:
    from klantreis.model.journey import Journey

__all__ = ["as_model", "simulate"]


def as_model(journey: Journey | JourneyModel, *, state: str = "as-is") -> JourneyModel:
    """A behaviour model: given, or written in the journey's ``walk`` blocks."""
    if isinstance(journey, JourneyModel):
        return journey
    return journey_model(journey, state=state)


def simulate(
    journey: Journey | JourneyModel,
    customers: int | None = None,
    *,
    seed: int = 0,
    persona: str | None = None,
    start: date | str = date(2026, 1, 1),
    days: int = 365,
    timezone: str = "Europe/Amsterdam",
    state: str = "as-is",
    max_steps: int = 200,
) -> Simulation:
    """Simulate ``customers`` journeys starting over ``days`` days from ``start``.

    ``journey`` is a Journey (its walks and personas) or a fitted
    :class:`~klantreis.simulate.model.JourneyModel`. ``customers`` are split over the
    personas by their ``share``; None takes each persona's ``starts_per_day`` x
    ``days``. ``persona`` keeps one persona. Events after the window's end are not
    observed (the walk stops there). Same arguments, same tables, on any machine.
    """
    model = as_model(journey, state=state).only(persona)
    walked = walk(
        model,
        customers=customers,
        seed=seed,
        start=start,
        days=days,
        timezone=timezone,
        max_steps=max_steps,
    )
    events, feedback, custs = to_tables(walked)
    params = {
        "journey": model.journey,
        "customers": walked.customers,
        "seed": seed,
        "persona": persona,
        "start": str(start),
        "days": days,
        "timezone": timezone,
        "state": state,
        "model": model.source,
    }
    return Simulation(
        events=events, feedback=feedback, customers=custs, params=params, walked=walked
    )
