"""Personas walk the journey: behaviour models, simulation, fitted models and what-if.

Depends on :mod:`klantreis.model` only; fitting receives Ibis tables from the caller.
"""

from klantreis.simulate.fit import fit_model
from klantreis.simulate.model import GroupModel, JourneyModel, WalkModel, journey_model
from klantreis.simulate.output import Simulation
from klantreis.simulate.run import simulate

__all__ = [
    "GroupModel",
    "JourneyModel",
    "Simulation",
    "WalkModel",
    "fit_model",
    "journey_model",
    "simulate",
]
