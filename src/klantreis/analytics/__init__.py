"""Analytics: pure functions from the workspace's Ibis tables to small results."""

from klantreis.analytics._result import Result, execute

__all__ = ["Result", "execute"]
