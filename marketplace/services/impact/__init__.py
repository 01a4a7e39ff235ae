"""The impact figures: what was given, received, saved and avoided over a period.

Only collected claims count; `collected_at` dates them. The figures come from four aggregate
queries (the claims grouped by month, category and side; the organisations; the listings
posted; the time to first claim), so the cost grows with the number of months and
categories, not with the number of claims (see bench/impact.py). CO₂e is kilograms per
category times that category's factor (its own, else its nearest ancestor's, else the floor
row), added up in Python per group, which is exact because the factor is per category. Dates
and months are UTC, like every time the application shows. docs/impact.md explains it all.

The package, by concern:
  period.py    Period, Preset, parse_period (what a request asks for; bad input never raises)
  factors.py   FactorBook, factor_for, factors_in_use; update_factor and set_factor (audited)
  report.py    ImpactReport and its parts (Totals, CategoryFigure, MonthFigure, FirstClaim),
               top_categories
  queries.py   the aggregate SQL on both databases (bench/impact.py times each query)
  figures.py   impact_figures: the report of a period
  export.py    collected_claims, row by row for the CSV export
  rounding.py  kilograms to the gram, euros to the cent

Everything other modules use is imported from here (`from ..services import impact`).
"""

from .export import CollectedClaim, collected_claims
from .factors import (
    FACTOR_MAX,
    CategoryName,
    FactorBook,
    FactorChoice,
    FactorInUse,
    categories_without_factor,
    factor_for,
    factors_in_use,
    set_factor,
    update_factor,
)
from .figures import impact_figures
from .period import (
    DEFAULT_PRESET,
    EARLIEST_DATE,
    LATEST_DATE,
    MAX_PERIOD_YEARS,
    PRESET_LABELS,
    Period,
    Preset,
    parse_period,
)
from .report import (
    METRICS,
    TOP_CATEGORIES,
    CategoryFigure,
    FirstClaim,
    ImpactReport,
    MonthFigure,
    Totals,
    top_categories,
)
from .rounding import CENTS, KG, ZERO

__all__ = [
    "CENTS", "DEFAULT_PRESET", "EARLIEST_DATE", "FACTOR_MAX", "KG", "LATEST_DATE",
    "MAX_PERIOD_YEARS", "METRICS", "PRESET_LABELS", "TOP_CATEGORIES", "ZERO",
    "CategoryFigure", "CategoryName", "CollectedClaim", "FactorBook", "FactorChoice",
    "FactorInUse", "FirstClaim", "ImpactReport", "MonthFigure", "Period", "Preset", "Totals",
    "categories_without_factor", "collected_claims", "factor_for", "factors_in_use",
    "impact_figures", "parse_period", "set_factor", "top_categories", "update_factor",
]
