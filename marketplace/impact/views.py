"""The impact dashboard of one organisation, for its admins (the platform's is under /admin).

The page, its charts and the CSV exports are built here for both; `admin/impact.py` calls the
same helpers for the platform.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import Iterable, Iterator
from datetime import date
from decimal import Decimal
from itertools import chain
from typing import Any

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import force_locale, format_date, format_decimal, format_percent, ngettext
from flask_babel import gettext as _
from flask_login import login_required
from sqlalchemy import select
from werkzeug.wsgi import wrap_file

from ..extensions import db
from ..formats import money_text
from ..i18n import current_language
from ..localtime import local_today
from ..models import Organisation
from ..security import Action
from ..services import impact
from ..services.charts import Bar, column_chart, row_chart
from ..services.impact import CategoryFigure, ImpactReport, Period, Preset
from ..web import require
from . import board_rows

bp = Blueprint("impact", __name__)

# Cells a spreadsheet would read as a formula (OWASP "CSV injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
SPOOL_BYTES = 4 * 1024 * 1024


@bp.route("/organisations/<int:organisation_id>/impact")
@login_required
def organisation(organisation_id: int) -> str:
    return render_dashboard(_viewable(organisation_id))


@bp.route("/organisations/<int:organisation_id>/impact.csv")
@login_required
def organisation_csv(organisation_id: int) -> Response:
    return figures_csv(_viewable(organisation_id))


@bp.route("/organisations/<int:organisation_id>/impact/claims.csv")
@login_required
def organisation_claims_csv(organisation_id: int) -> Response:
    return claims_csv(_viewable(organisation_id))


@bp.route("/organisations/<int:organisation_id>/impact.pdf")
@login_required
def organisation_pdf(organisation_id: int) -> Response:
    return dashboard_pdf(_viewable(organisation_id))


def _viewable(organisation_id: int) -> Organisation:
    organisation = db.get_or_404(Organisation, organisation_id)
    require(Action.VIEW_IMPACT, organisation)
    return organisation


# --- the page --------------------------------------------------------------------------------

def render_dashboard(organisation: Organisation | None, *, platform: bool = False,
                     paper: bool = False) -> str:
    """The dashboard of `organisation` (None: the platform). `platform`: shown in the admin
    section, with its navigation and the organisation filter. `paper`: the HTML of the PDF
    (impact/paper_base.html: no form, navigation or links; the charts as images)."""
    period, messages = impact.parse_period(request.args)
    report = impact.impact_figures(period, organisation.id if organisation else None)
    organisations = (db.session.execute(select(Organisation.id, Organisation.name)
                                        .order_by(Organisation.name)).all()
                     if platform else [])
    return render_template(
        "impact/dashboard.html", report=report, period=period, messages=messages,
        organisation=organisation, platform=platform, organisations=organisations,
        presets=list(Preset), month_rows=_month_rows(report), sides=_sides(report),
        charts=_charts(report, paper=paper), factors=impact.factors_in_use(),
        export_args=_export_args(period, organisation if platform else None),
        duration=duration, kilograms=kilograms, euros=euros, number=number, share=share,
        category_name=category_name, **_comparison_and_paper(period, organisation, paper),
        **_green_deal(period, organisation, paper))


def dashboard_pdf(organisation: Organisation | None, *, platform: bool = False) -> Response:
    """The dashboard of the period as a PDF download, in the language `lang` asks for (nl or
    en; else the page's)."""
    language = request.args.get("lang", "")
    if language not in current_app.config["LANGUAGES"]:
        language = current_language()
    with force_locale(language):
        html = render_dashboard(organisation, platform=platform, paper=True)
        period, _messages = impact.parse_period(request.args)
    response = Response(impact.html_to_pdf(html), mimetype="application/pdf")
    filename = _filename("impact", period, organisation, f"{language}.pdf")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _green_deal(period: Period, organisation: Organisation | None,
                paper: bool) -> dict[str, Any]:
    """The Green Deal terms for templates/impact/_green_deal.html: figures, chart, factors."""
    figures = impact.green_deal_figures(period, organisation.id if organisation else None)
    chart = row_chart([Bar(figure.label, figure.kilograms) for figure in figures.materials],
                      title=_("Kilograms avoided per material class"),
                      chart_id="chart-material-classes", format_value=kilograms)
    return {"green_deal": figures, "green_deal_factors": impact.green_deal_factor_rows(),
            "material_classes": impact.material_class_rows(),
            "green_deal_chart": impact.svg_image(chart) if paper else chart}


def _comparison_and_paper(period: Period, organisation: Organisation | None,
                          paper: bool) -> dict[str, Any]:
    return {"comparison": impact.compare(organisation, period) if organisation else None,
            "minimum_to_compare": impact.MIN_ORGANISATIONS_TO_COMPARE, "percent": percent,
            "paper": paper, "paper_font": impact.paper_font() if paper else None,
            "made_on": local_today()}


def _export_args(period: Period, organisation: Organisation | None) -> dict[str, str]:
    args = {"period": Preset.CUSTOM.value, "from": period.start.isoformat(),
            "to": period.end.isoformat()}
    if period.preset is not Preset.CUSTOM:
        args = {"period": period.preset.value}
    if organisation is not None:
        args["organisation"] = str(organisation.id)
    return args



def category_name(figure: CategoryFigure) -> str:
    if figure.category is None:
        return _("All other categories")
    return figure.category.name(current_language())


def number(value: Decimal | int | float) -> str:
    return format_decimal(value, format="#,##0")


def kilograms(value: Decimal | int | float) -> str:
    return format_decimal(value, format="#,##0") + " kg"


def euros(value: Decimal | int | float) -> str:
    return money_text(value, cents=False)


def percent(share: Decimal) -> str:
    return format_percent(share, format="#,##0%")


def share(part: int, whole: int) -> str:
    """`part` of `whole` as a whole percentage as the page's language writes it; "-" of none."""
    return format_percent(part / whole) if whole else "-"


def duration(hours: float | None) -> str:
    if hours is None:
        return "-"
    # A plural form needs a whole number: 1 says "hour", any other amount (1.5 too) "hours".
    if hours < 48:
        shown = round(hours, 1)
        return ngettext("%(hours)s hour", "%(hours)s hours", 1 if shown == 1 else 2,
                        hours=format_decimal(shown, format="#,##0.#"))
    shown = round(hours / 24, 1)
    return ngettext("%(days)s day", "%(days)s days", 1 if shown == 1 else 2,
                    days=format_decimal(shown, format="#,##0.#"))


def _month_label(month: date) -> str:
    return format_date(month, "MMMM yyyy")


def _month_rows(report: ImpactReport) -> list[tuple[str, Any]]:
    return [(_month_label(figure.month), figure) for figure in report.months]


def _sides(report: ImpactReport) -> dict[str, Any]:
    """One organisation's months and top categories per side (never added together)."""
    return {
        "received_months": [(_month_label(figure.month), figure)
                            for figure in report.received_months],
        "given_months": [(_month_label(figure.month), figure) for figure in report.given_months],
        "received_top": {metric: impact.top_categories(report.received_categories, metric)
                         for metric in ("co2e_kg", "euros")},
        "given_top": {"kilograms": impact.top_categories(report.given_categories, "kilograms")},
    }


def _side_charts(report: ImpactReport) -> dict[str, Any]:
    """One organisation's charts: what it received and what it gave, each on its own."""
    sides = _sides(report)

    def months(side: str, attribute: str, title: str, formatter) -> Any:
        bars = [Bar(label, getattr(figure, attribute),
                    short_label=format_date(figure.month, "MMM yy"))
                for label, figure in sides[f"{side}_months"]]
        return column_chart(bars, title=title, chart_id=f"chart-{side}-months-{attribute}",
                            format_value=formatter)

    def top(side: str, metric: str, title: str, formatter) -> Any:
        bars = [Bar(category_name(figure), getattr(figure.totals, metric))
                for figure in sides[f"{side}_top"][metric]]
        return row_chart(bars, title=title, chart_id=f"chart-{side}-categories-{metric}",
                         format_value=formatter)

    return {
        "received_months_euros": months("received", "euros", _(
            "Value received per month (purchase avoided)"), euros),
        "received_months_co2e": months("received", "co2e_kg", _(
            "CO₂e avoided per month by what it received"), kilograms),
        "given_months_items": months("given", "items", _("Items given per month"), number),
        "given_months_kilograms": months("given", "kilograms", _(
            "Kilograms passed on per month (disposal avoided)"), kilograms),
        "received_categories_co2e": top("received", "co2e_kg", _(
            "Received: top categories by CO₂e avoided"), kilograms),
        "received_categories_euros": top("received", "euros", _(
            "Received: top categories by value"), euros),
        "given_categories_kilograms": top("given", "kilograms", _(
            "Given: top categories by kilograms"), kilograms),
    }


def _charts(report: ImpactReport, *, paper: bool = False) -> dict[str, Any]:
    def months(attribute: str, title: str, formatter) -> Any:
        bars = [Bar(_month_label(figure.month), getattr(figure, attribute),
                    short_label=format_date(figure.month, "MMM yy"))
                for figure in report.months]
        return column_chart(bars, title=title, chart_id=f"chart-months-{attribute}",
                            format_value=formatter)

    def categories(metric: str, title: str, formatter) -> Any:
        bars = [Bar(category_name(figure), getattr(figure.totals, metric))
                for figure in report.top[metric]]
        return row_chart(bars, title=title, chart_id=f"chart-categories-{metric}",
                         format_value=formatter)

    charts = _side_charts(report) if report.organisation_id is not None else {
        "months_items": months("items", _("Items reused per month"), number),
        "months_kilograms": months("kilograms", _("Kilograms diverted from waste per month"),
                                   kilograms),
        "months_co2e": months("co2e_kg", _("Kilograms of CO₂e avoided per month"), kilograms),
        "months_euros": months("euros", _("Estimated value per month (EUR)"), euros),
        "categories_items": categories("items", _("Top categories by items"), number),
        "categories_kilograms": categories("kilograms", _("Top categories by kilograms"),
                                           kilograms),
        "categories_co2e": categories("co2e_kg", _("Top categories by CO₂e avoided"),
                                      kilograms),
    }
    # xhtml2pdf draws no inline <svg>, but draws it as an image.
    return {name: impact.svg_image(chart) for name, chart in charts.items()} if paper else charts


# --- CSV ---------------------------------------------------------------------------------------

def figures_csv(organisation: Organisation | None) -> Response:
    """The figures of the period: one value per row (documented in docs/impact.md)."""
    period, _messages = impact.parse_period(request.args)
    report = impact.impact_figures(period, organisation.id if organisation else None)
    green_deal = impact.green_deal_figures(period, organisation.id if organisation else None)
    comparison = impact.compare(organisation, period) if organisation else None
    return csv_response(chain(_figure_rows(report, organisation),
                              impact.green_deal_csv_rows(green_deal),
                              impact.comparison_csv_rows(comparison)),
                        _filename("impact", period, organisation))


def claims_csv(organisation: Organisation | None) -> Response:
    """Every collected claim of the period (for an organisation: where it gave or received)."""
    period, _messages = impact.parse_period(request.args)
    rows = _claim_rows(period, organisation)
    return csv_response(rows, _filename("collected-claims", period, organisation))


def _filename(kind: str, period: Period, organisation: Organisation | None,
              extension: str = "csv") -> str:
    who = f"organisation-{organisation.id}" if organisation else "platform"
    return f"{kind}-{who}-{period.slug()}.{extension}"


FIGURE_COLUMNS = ("section", "key", "metric", "value", "unit", "label")
CLAIM_COLUMNS = ("collected_on", "claim_id", "listing_id", "listing_title", "category",
                 "giver_organisation", "receiver_organisation", "quantity", "unit",
                 "kilograms", "euros", "co2e_kg", "factor_kg_co2e_per_kg")


def _figure_rows(report: ImpactReport, organisation: Organisation | None) -> Iterator[tuple]:
    yield FIGURE_COLUMNS
    period = report.period
    yield ("period", "start", "date", period.start.isoformat(), "", _("Start of the period"))
    yield ("period", "end", "date", period.end.isoformat(), "", _("End of the period"))
    yield ("period", "organisation", "organisation",
           organisation.name if organisation else "", "",
           _("Organisation (empty: the whole platform)"))
    single = organisation is not None
    figures = [
        ("listings_posted", report.listings_posted, "listings", _("Listings posted")),
        ("claims_collected", report.total.claims, "claims", _("Collected claims")),
        ("items_given", report.given.items, "items", _("Items given")),
        ("items_received", report.received.items, "items", _("Items received")),
        ("kilograms", report.total.kilograms, "kg", _("Kilograms diverted from waste")),
        ("euros", report.total.euros, "EUR", _("Estimated value of collected items")),
        ("co2e_kg", report.total.co2e_kg, "kg CO2e", _("CO₂e avoided")),
        ("claims_without_weight", report.total.claims_without_weight, "claims",
         _("Collected claims without a weight (not in kilograms and CO₂e)")),
        ("claims_without_value", report.total.claims_without_value, "claims",
         _("Collected claims without a value (not in euros)")),
        ("organisations_gave", report.organisations_gave, "organisations",
         _("Organisations it received from") if single else _("Organisations that gave")),
        ("organisations_received", report.organisations_received, "organisations",
         _("Organisations it gave to") if single else _("Organisations that received")),
        ("listings_claimed", report.first_claim.listings, "listings",
         _("Listings posted in the period that got a claim")),
        ("median_hours_to_first_claim", _hours(report.first_claim.median_hours), "hours",
         _("Median time from posting to first claim")),
        ("mean_hours_to_first_claim", _hours(report.first_claim.mean_hours), "hours",
         _("Mean time from posting to first claim")),
    ]
    for metric, value, unit, label in figures:
        if not (single and metric in board_rows.SUMMED_METRICS):
            yield ("figure", "", metric, value, unit, label)
    yield from board_rows.side_rows(report) if single else _platform_rows(report)
    yield from board_rows.performance_rows(report)


def _platform_rows(report: ImpactReport) -> Iterator[tuple]:
    """The platform's sides (each the total: a hand-over counted once), months, categories."""
    for side, totals in (("given", report.given), ("received", report.received)):
        for metric, unit in (("kilograms", "kg"), ("euros", "EUR"), ("co2e_kg", "kg CO2e")):
            yield (side, "", metric, getattr(totals, metric), unit, "")
    for label, figure in _month_rows(report):
        key = figure.month.strftime("%Y-%m")
        yield ("month", key, "items", figure.items, "items", label)
        yield ("month", key, "kilograms", figure.kilograms, "kg", label)
        yield ("month", key, "co2e_kg", figure.co2e_kg, "kg CO2e", label)
        yield ("month", key, "euros", figure.euros, "EUR", label)
    for figure in report.categories:
        if figure.category is None:  # never: only top_categories() adds the rest's row
            continue
        key, label = figure.category.slug, category_name(figure)
        totals = figure.totals
        yield ("category", key, "items", totals.items, "items", label)
        yield ("category", key, "kilograms", totals.kilograms, "kg", label)
        yield ("category", key, "co2e_kg", totals.co2e_kg, "kg CO2e", label)
        yield ("category", key, "euros", totals.euros, "EUR", label)
        yield ("category", key, "claims_without_weight", totals.claims_without_weight,
               "claims", label)
        yield ("category", key, "factor", figure.factor.value if figure.factor else "",
               "kg CO2e per kg", label)


def _hours(value: float | None) -> Decimal | str:
    return Decimal(str(round(value, 1))) if value is not None else ""


def _claim_rows(period: Period, organisation: Organisation | None) -> Iterator[tuple]:
    yield CLAIM_COLUMNS
    language = current_language()
    for claim in impact.collected_claims(period, organisation.id if organisation else None):
        yield (claim.collected_at.date().isoformat(), claim.claim_id, claim.listing_id,
               claim.title, claim.category.name(language), claim.giver, claim.receiver,
               claim.quantity, claim.unit, _blank(claim.kilograms), _blank(claim.euros),
               _blank(claim.co2e_kg), claim.factor)


def _blank(value: Decimal | None) -> Decimal | str:
    return "" if value is None else value


def csv_cell(value: Any, decimal_comma: bool = False) -> str:
    """A value as a CSV cell: numbers plainly (with a decimal comma for Dutch), text with a
    leading apostrophe when a spreadsheet would read it as a formula."""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, Decimal | float):
        text = format(Decimal(str(value)), "f")
        return text.replace(".", ",") if decimal_comma else text
    if isinstance(value, int):
        return str(value)
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_response(rows: Iterable[tuple], filename: str) -> Response:
    """`rows` as a CSV download with a UTF-8 byte order mark (so Excel reads the accents).
    Dutch pages get semicolons and decimal commas, as Dutch Excel expects; English ones commas
    and decimal points. Written to a spooled file: in memory up to a few megabytes, on disk
    beyond (and sent from there), so that a large export keeps memory bounded."""
    dutch = current_language() == "nl"
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES, mode="w+b")  # noqa: SIM115 - closed by the response
    text = io.TextIOWrapper(spool, encoding="utf-8-sig", newline="")
    writer = csv.writer(text, delimiter=";" if dutch else ",", lineterminator="\r\n")
    for row in rows:
        writer.writerow([csv_cell(value, dutch) for value in row])
    text.flush()
    text.detach()
    size = spool.tell()
    spool.seek(0)
    if size <= SPOOL_BYTES:  # still in memory: hand over the bytes
        with spool:
            response = Response(spool.read(), mimetype="text/csv")
    else:  # on disk: the response reads and closes the file
        response = Response(wrap_file(request.environ, spool), mimetype="text/csv",
                            direct_passthrough=True)
        response.content_length = size
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
