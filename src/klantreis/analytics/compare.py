"""Comparison: any analytic for two or more personas or segments side by side.

``compare(ws, analytic, by="persona", groups=None, **kwargs)`` runs ``analytic``
(a function taking a workspace, or its name: "retention", "experience", "funnel"...)
once per group on :func:`klantreis.analytics.scope.scoped` workspaces, so funnels,
transitions and every other analytic that takes ``ws`` can be compared too. The
result table is the analytic's table per group with a ``group`` column in front.

For tables with counts and rates, ``extras["tests"]`` holds a two-proportion z-test
(pooled) per row (a funnel step, a retention cohort and period, a touchpoint...) for
every group against the first group, Holm-corrected over all tests, ``significant``
when the corrected p is below 0.05. The count pair (successes, trials) is found by the
result's name (retention: retained/customers; loops: entered/buyers; experience with
CSAT: satisfied/responses; drivers: outcome/customers; funnel: customers at a step /
customers at its first step...) or given as ``rate=("numerator", "denominator")``;
``rate=("customers", "first")`` divides by the first row of each group. Rows where
every rate is 1 (the cohort's period 0, a funnel's first step) are not tested.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from klantreis.analytics._stats import holm, two_proportion_test
from klantreis.analytics.scope import journey_of, scoped
from klantreis.errors import InvalidSpec
from klantreis.result import Result

__all__ = ["compare", "proportion_tests"]

BYS = ("persona", "segment")

#: result name -> (identity columns, numerator, denominator)
RATES: dict[str, tuple[list[str], str, str]] = {
    "retention": (["cohort", "period"], "retained", "customers"),
    "loops": (["loop"], "entered", "buyers"),
    "repeat_purchase": ([], "repeat_buyers", "buyers"),
    "drivers": (["kind", "value"], "outcome", "customers"),
    "funnel": (["step"], "customers", "first"),
}
_GENERIC = [
    ("converted", "entered"),
    ("retained", "customers"),
    ("satisfied", "responses"),
    ("outcome", "customers"),
]


def _resolve(analytic: str | Callable[..., Result]) -> tuple[str, Callable[..., Result]]:
    if callable(analytic):
        return getattr(analytic, "__name__", "analytic"), analytic
    import importlib

    import klantreis.analytics as package

    fn = getattr(package, analytic, None)
    if not callable(fn):
        homes = {
            "retention": "retention",
            "lifecycle": "lifecycle",
            "churn": "lifecycle",
            "loops": "loops",
            "repeat_purchase": "loops",
            "experience": "experience",
            "ambassadors": "experience",
            "gap": "gap",
            "drivers": "drivers",
            "funnel": "funnel",
            "transitions": "transitions",
        }
        if analytic in homes:
            try:
                module = importlib.import_module(f"klantreis.analytics.{homes[analytic]}")
                fn = getattr(module, analytic, None)
            except ModuleNotFoundError:
                fn = None
        if not callable(fn):
            raise InvalidSpec("analytic", "unknown analytic", value=analytic, allowed=sorted(homes))
    return analytic, fn


def _groups(ws: Any, by: str, journey: str | None) -> list[str]:
    from klantreis.result import execute

    cust = ws.customers
    values, _, _ = execute(
        cust.filter(cust[by].notnull()).select(value=cust[by]).distinct(), ws.con
    )
    found = {str(v) for v in values["value"]}
    if by == "persona":
        j = journey_of(ws, journey)
        if j is not None:
            found |= {p.key for p in j.personas if p.match}
    return sorted(found)


def compare(
    ws: Any,
    analytic: str | Callable[..., Result],
    by: str = "persona",
    groups: list[str] | None = None,
    *,
    rate: tuple[str, str] | None = None,
    journey: str | None = None,
    **kwargs: Any,
) -> Result:
    """``analytic`` per group side by side, with per-row proportion tests (module docstring)."""
    import pandas as pd

    if by not in BYS:
        raise InvalidSpec("by", "compare by persona or segment", value=by, allowed=BYS)
    name, fn = _resolve(analytic)
    chosen = list(groups) if groups else _groups(ws, by, journey)
    if len(chosen) < 2:
        raise InvalidSpec(
            "groups",
            f"need two or more {by}s to compare",
            value=chosen or None,
            hint=f"add '{by}' to the customers table or name the groups",
        )
    results = {}
    for g in chosen:
        results[g] = fn(scoped(ws, **{by: g}, journey=journey), **kwargs)
    first = next(iter(results.values()))
    parts = [r.table.assign(group=g)[["group", *r.table.columns]] for g, r in results.items()]
    table = pd.concat(parts, ignore_index=True)
    spec = _rate_spec(first, rate)
    tests = proportion_tests(table, *spec) if spec is not None else pd.DataFrame()
    extras: dict[str, Any] = {"tests": tests}
    definition = f"{first.definition} Compared by {by}: {', '.join(chosen)}."
    if spec is not None:
        definition += (
            f" Two-proportion z-test ({spec[1]} / {spec[2]}) per row against '{chosen[0]}', "
            "Holm-corrected; significant when the corrected p < 0.05."
        )
    return Result(
        name="compare",
        table=table,
        definition=definition,
        params={
            "analytic": name,
            "by": by,
            "groups": chosen,
            "rate": list(spec[1:]) if spec else None,
            **first.params,
        },
        sql=first.sql,
        seconds=sum(r.seconds for r in results.values()),
        extras=extras,
    )


def _rate_spec(result: Result, rate: tuple[str, str] | None) -> tuple[list[str], str, str] | None:
    cols = list(result.table.columns)
    if rate is not None:
        num, den = rate
        missing = [c for c in (num, den) if c not in cols and c != "first"]
        if missing:
            raise InvalidSpec("rate", "column not in the result", value=missing[0], allowed=cols)
        ident = RATES.get(result.name, ([],))[0] or _identity(result.table, {num, den})
        return (ident, num, den)
    if result.name in RATES and all(c in cols for c in RATES[result.name][0]):
        ident, num, den = RATES[result.name]
        if num in cols and (den in cols or den == "first"):
            return (ident, num, den)
    for num, den in _GENERIC:
        if num in cols and den in cols:
            return (_identity(result.table, {num, den}), num, den)
    return None


def _identity(table: Any, skip: set[str]) -> list[str]:
    return [c for c in table.columns if c not in skip and table[c].dtype.kind not in "if"]


def proportion_tests(table: Any, ident: list[str], num: str, den: str) -> Any:
    """Per identity row: every group against the first group, Holm-corrected."""
    import pandas as pd

    data = table.copy()
    if den == "first":
        data["_den"] = data.groupby("group", sort=False)[num].transform("first")
        den = "_den"
    groups = list(dict.fromkeys(data["group"]))
    reference, others = groups[0], groups[1:]
    keyed = {}
    for g in groups:
        part = data[data["group"] == g]
        keyed[g] = {tuple(row[ident]) if ident else (): row for _, row in part.iterrows()}
    rows = []
    for key, ra in keyed[reference].items():
        for g in others:
            rb = keyed[g].get(key)
            if rb is None:
                continue
            ka, na, kb, nb = int(ra[num]), int(ra[den]), int(rb[num]), int(rb[den])
            if ka == na and kb == nb:  # both 100% by construction (period 0, first step)
                continue
            z, p = two_proportion_test(ka, na, kb, nb)
            row = dict(zip(ident, key, strict=True))
            row |= {
                "group_a": reference,
                "group_b": g,
                "k_a": ka,
                "n_a": na,
                "k_b": kb,
                "n_b": nb,
                "rate_a": ka / na if na else float("nan"),
                "rate_b": kb / nb if nb else float("nan"),
            }
            row |= {"diff": row["rate_b"] - row["rate_a"], "z": z, "p": p}
            rows.append(row)
    cols = [
        *ident,
        "group_a",
        "group_b",
        "k_a",
        "n_a",
        "k_b",
        "n_b",
        "rate_a",
        "rate_b",
        "diff",
        "z",
        "p",
    ]
    out = pd.DataFrame(rows, columns=cols)
    out["p_holm"] = holm(list(out["p"]))
    out["significant"] = (out["p_holm"] < 0.05).astype(bool)
    return out
