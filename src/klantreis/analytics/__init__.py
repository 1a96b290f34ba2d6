"""Analytics: pure functions from the workspace's Ibis tables to small results.

Every analytic takes a workspace (or a :func:`scoped` part of one) and returns a
:class:`Result` carrying its table, definition and parameters. The functions are
imported here eagerly on purpose: several share their module's name (``funnel`` in
``analytics/funnel.py``), and only an eager import keeps ``klantreis.analytics.funnel``
the function rather than the module once the module is loaded.
"""

from klantreis.analytics.attribution import attribution
from klantreis.analytics.compare import compare
from klantreis.analytics.drivers import drivers
from klantreis.analytics.experience import ambassadors, experience
from klantreis.analytics.funnel import dropoff, funnel, phase_funnel
from klantreis.analytics.gap import gap
from klantreis.analytics.lifecycle import churn, lifecycle
from klantreis.analytics.loops import loops, repeat_purchase
from klantreis.analytics.overview import Overview, run_all
from klantreis.analytics.paths import paths, sankey
from klantreis.analytics.retention import retention
from klantreis.analytics.scope import scoped
from klantreis.analytics.timing import timing
from klantreis.analytics.transitions import transitions
from klantreis.result import SQL, Result, execute

__all__ = [
    "SQL",
    "Overview",
    "Result",
    "ambassadors",
    "attribution",
    "churn",
    "compare",
    "drivers",
    "dropoff",
    "execute",
    "experience",
    "funnel",
    "gap",
    "lifecycle",
    "loops",
    "paths",
    "phase_funnel",
    "repeat_purchase",
    "retention",
    "run_all",
    "sankey",
    "scoped",
    "timing",
    "transitions",
]
