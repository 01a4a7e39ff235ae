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
  green_deal.py  Green Deal terms: kilograms per material class, CO₂e net of transport and
               with displacement; materials.py: the material classes and those settings
  performance.py  uptake: how well it works (claim rate, times to first claim and collection,
               expired without a taker), in total, per category and per organisation
  comparison.py  an organisation beside the median of its kind (at least 5 organisations)
  paper.py     the dashboard's HTML as a PDF (xhtml2pdf), its charts as SVG images

Everything other modules use is imported from here (`from ..services import impact`).
"""

from .comparison import (
    COMPARED_LABELS,
    MIN_ORGANISATIONS_TO_COMPARE,
    Compared,
    ComparedFigure,
    Comparison,
    compare,
    comparison_csv_rows,
)
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
from .green_deal import (
    FactorRow,
    GreenDealFigures,
    MaterialFigure,
    Transport,
    green_deal_csv_rows,
    green_deal_factor_rows,
    green_deal_figures,
    material_class_rows,
)
from .materials import (
    SETTING_NAMES,
    SETTING_UNITS,
    CategoryMaterialInUse,
    SettingInUse,
    category_materials,
    set_category_material,
    settings_in_use,
    update_green_deal_setting,
)
from .paper import html_to_pdf, paper_font, svg_image
from .performance import uptake
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
    CategoryUptake,
    FirstClaim,
    ImpactReport,
    MonthFigure,
    OrganisationUptake,
    Performance,
    Totals,
    Uptake,
    Waits,
    top_categories,
)
from .rounding import CENTS, KG, ZERO

__all__ = [
    "CENTS",
    "COMPARED_LABELS",
    "DEFAULT_PRESET",
    "EARLIEST_DATE",
    "FACTOR_MAX",
    "KG",
    "LATEST_DATE",
    "MAX_PERIOD_YEARS",
    "METRICS",
    "MIN_ORGANISATIONS_TO_COMPARE",
    "PRESET_LABELS",
    "SETTING_NAMES",
    "SETTING_UNITS",
    "TOP_CATEGORIES",
    "ZERO",
    "CategoryFigure",
    "CategoryMaterialInUse",
    "CategoryName",
    "CategoryUptake",
    "CollectedClaim",
    "Compared",
    "ComparedFigure",
    "Comparison",
    "FactorBook",
    "FactorChoice",
    "FactorInUse",
    "FactorRow",
    "FirstClaim",
    "GreenDealFigures",
    "ImpactReport",
    "MaterialFigure",
    "MonthFigure",
    "OrganisationUptake",
    "Performance",
    "Period",
    "Preset",
    "SettingInUse",
    "Totals",
    "Transport",
    "Uptake",
    "Waits",
    "categories_without_factor",
    "category_materials",
    "collected_claims",
    "compare",
    "comparison_csv_rows",
    "factor_for",
    "factors_in_use",
    "green_deal_csv_rows",
    "green_deal_factor_rows",
    "green_deal_figures",
    "html_to_pdf",
    "impact_figures",
    "material_class_rows",
    "paper_font",
    "parse_period",
    "set_category_material",
    "set_factor",
    "settings_in_use",
    "svg_image",
    "top_categories",
    "update_factor",
    "update_green_deal_setting",
    "uptake",
]
