"""The figures CSV's rows that a board reads: one organisation's received and given, each on
its own (never added), and how well it works. docs/impact.md ("CSV exports") lists them."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from flask_babel import format_date
from flask_babel import gettext as _

from ..i18n import current_language
from ..services.impact import CategoryFigure, ImpactReport, Totals, Uptake, Waits

# `figure` rows that would add one organisation's given and received: per side instead.
SUMMED_METRICS = frozenset({"claims_collected", "kilograms", "euros", "co2e_kg",
                            "claims_without_weight", "claims_without_value"})
SIDES = ("received", "given")


def side_rows(report: ImpactReport) -> Iterator[tuple]:
    """One organisation's totals, months and categories, per side; CO₂e on the received side
    only (it is counted once, at the receiver)."""
    for side in SIDES:
        yield from _totals_rows(side, getattr(report, side))
    for side in SIDES:
        for figure in getattr(report, f"{side}_months"):
            label = format_date(figure.month, "MMMM yyyy")
            key = figure.month.strftime("%Y-%m")
            for metric, unit in _metrics(side):
                yield ("month", key, f"{side}_{metric}", getattr(figure, metric), unit, label)
    for side in SIDES:
        for category in getattr(report, f"{side}_categories"):
            yield from _category_rows(side, category)


def _metrics(side: str) -> list[tuple[str, str]]:
    metrics = [("items", "items"), ("kilograms", "kg"), ("euros", "EUR")]
    return [*metrics, ("co2e_kg", "kg CO2e")] if side == "received" else metrics


def _totals_rows(side: str, totals: Totals) -> Iterator[tuple]:
    yield (side, "", "claims", totals.claims, "claims", "")
    for metric, unit in _metrics(side):
        yield (side, "", metric, getattr(totals, metric), unit, "")
    if side == "given":
        yield (side, "", "disposal_avoided_kg", totals.kilograms, "kg",
               _("Disposal avoided (kilograms passed on)"))
    yield (side, "", "claims_without_weight", totals.claims_without_weight, "claims", "")
    yield (side, "", "claims_without_value", totals.claims_without_value, "claims", "")


def _category_rows(side: str, figure: CategoryFigure) -> Iterator[tuple]:
    if figure.category is None:  # never: only top_categories() adds the rest's row
        return
    key, label = figure.category.slug, figure.category.name(current_language())
    for metric, unit in _metrics(side):
        yield ("category", key, f"{side}_{metric}", getattr(figure.totals, metric), unit, label)
    yield ("category", key, f"{side}_claims_without_weight", figure.totals.claims_without_weight,
           "claims", label)
    if side == "received" and figure.factor is not None:
        yield ("category", key, "factor", figure.factor.value, "kg CO2e per kg", label)


def performance_rows(report: ImpactReport) -> Iterator[tuple]:
    """How well it works: in total (key empty), per category (`category:<slug>`) and, for the
    platform, per organisation (`organisation:<id>`, labelled with its name)."""
    performance = report.performance
    yield from _uptake_rows("", _("All listings published in the period"), performance.total)
    language = current_language()
    for row in performance.categories:
        yield from _uptake_rows(f"category:{row.category.slug}", row.category.name(language),
                                row.uptake)
    for organisation in performance.organisations:
        yield from _uptake_rows(f"organisation:{organisation.organisation_id}",
                                organisation.name, organisation.uptake)


def _uptake_rows(key: str, label: str, uptake: Uptake) -> Iterator[tuple]:
    yield ("performance", key, "listings_published", uptake.listings, "listings", label)
    for metric, count in (("got_a_claim", uptake.claimed), ("found_a_taker", uptake.taken),
                          ("collected", uptake.collected),
                          ("expired_without_taker", uptake.expired_unclaimed)):
        yield ("performance", key, metric, count, "listings", label)
        yield ("performance", key, f"{metric}_percent", _percent(count, uptake.listings),
               "percent", label)
    for event, waits in (("first_claim", uptake.to_first_claim),
                         ("first_collection", uptake.to_first_collection)):
        yield from _wait_rows(key, label, event, waits)


def _wait_rows(key: str, label: str, event: str, waits: Waits) -> Iterator[tuple]:
    yield ("performance", key, f"listings_with_{event}", waits.listings, "listings", label)
    yield ("performance", key, f"median_hours_to_{event}", _hours(waits.median_hours), "hours",
           label)
    yield ("performance", key, f"p80_hours_to_{event}", _hours(waits.p80_hours), "hours", label)


def _percent(part: int, whole: int) -> Decimal | str:
    return (Decimal(part * 100) / whole).quantize(Decimal("0.1")) if whole else ""


def _hours(value: float | None) -> Decimal | str:
    return Decimal(str(round(value, 1))) if value is not None else ""
