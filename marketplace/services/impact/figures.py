"""impact_figures: the report of a period, for the platform or one organisation, from one pass
over the period's claims grouped by month, category and side, plus three small queries."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, literal, select

from ...extensions import db
from ...models import Listing
from . import performance, queries
from .factors import FactorBook, category_names, unknown_category
from .period import Period
from .report import METRICS, CategoryFigure, ImpactReport, MonthFigure, Totals, top_categories


def impact_figures(period: Period, organisation_id: int | None = None) -> ImpactReport:
    """The figures of `period`, for the platform or for one organisation (where it gave or
    received). For the platform, given and received are both the total reused."""
    book = FactorBook()
    names = category_names()
    scope = queries.collected_in(period, organisation_id)
    sums = _Sums(period)
    for row in _grouped_rows(scope, organisation_id):
        sums.add(row, queries.totals_of(row, book.for_category(row.category_id).value))

    def figures_of(by_category: dict[int, Totals]) -> list[CategoryFigure]:
        named = [(category_id, names.get(category_id) or unknown_category(category_id), totals)
                 for category_id, totals in by_category.items()]
        named.sort(key=lambda row: (-row[2].items, row[1].name_en))
        return [CategoryFigure(name, totals, book.for_category(category_id))
                for category_id, name, totals in named]

    categories = figures_of(sums.by_category)
    single = organisation_id is not None
    gave, got = queries.organisations(scope, organisation_id)
    return ImpactReport(
        period=period, organisation_id=organisation_id,
        listings_posted=queries.listings_posted(period, organisation_id),
        total=sums.total, given=sums.given, received=sums.received,
        organisations_gave=gave, organisations_received=got,
        categories=categories,
        months=list(sums.months.values()),
        first_claim=queries.first_claim(period, organisation_id),
        top={metric: top_categories(categories, metric) for metric in METRICS},
        received_categories=figures_of(sums.sides["received"].by_category) if single else [],
        given_categories=figures_of(sums.sides["given"].by_category) if single else [],
        received_months=list(sums.sides["received"].months.values()) if single else [],
        given_months=list(sums.sides["given"].months.values()) if single else [],
        performance=performance.uptake(period, organisation_id),
    )


def _grouped_rows(scope: list, organisation_id: int | None) -> Any:
    """The period's claims grouped by month, category and side (given, received, or all for
    the platform): the month series, the categories and the totals are all sums of these."""
    side = (case((Listing.organisation_id == organisation_id, literal("given")),
                 else_=literal("received"))
            if organisation_id is not None else literal("all")).label("side")
    month = queries.month_expression().label("month")
    return db.session.execute(
        queries.sums(select(month, Listing.category_id, side)).where(*scope)
        .group_by(month, Listing.category_id, side))


class _Breakdown:
    """Groups added up per category and per month (every month of the period, zeros too)."""

    def __init__(self, period: Period) -> None:
        self.months = {month.strftime("%Y-%m"): MonthFigure(month) for month in period.months()}
        self.by_category: dict[int, Totals] = {}

    def add(self, row: Any, totals: Totals) -> None:
        self.by_category.setdefault(row.category_id, Totals()).add(totals)
        figure = self.months.get(row.month)
        if figure is not None:  # always: the scope is inside the period
            figure.add(totals)


class _Sums(_Breakdown):
    """The groups added up: in total, per category and per month, and each of these per side
    (for one organisation; the platform's one side is "all")."""

    def __init__(self, period: Period) -> None:
        super().__init__(period)
        self.given, self.received, self.total = Totals(), Totals(), Totals()
        self.sides = {"given": _Breakdown(period), "received": _Breakdown(period)}

    def add(self, row: Any, totals: Totals) -> None:
        super().add(row, totals)
        self.total.add(totals)
        if row.side in ("given", "all"):
            self.given.add(totals)
        if row.side in ("received", "all"):
            self.received.add(totals)
        if row.side in self.sides:
            self.sides[row.side].add(row, totals)
