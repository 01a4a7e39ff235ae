"""Platform admin pages: impact (routes on the admin blueprint, behind its permission check)."""

from __future__ import annotations

from flask import Response, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..extensions import db
from ..i18n import current_language
from ..impact.views import claims_csv, dashboard_pdf, figures_csv, render_dashboard
from ..models import Category, ImpactFactor, Organisation
from ..services import impact
from ..web import id_value, refusals_on, render_form
from .views import bp


class FactorForm(FlaskForm):
    value = StringField(_l("Kilograms of CO₂e avoided per kilogram reused"),
                        validators=[DataRequired(_l("Enter the kilograms of CO₂e")),
                                    Length(max=20)])
    source = TextAreaField(_l("Source (shown on the dashboard)"),
                           validators=[DataRequired(_l("Enter the source")), Length(max=1000)])


class NewFactorForm(FactorForm):
    category = SelectField(_l("Category"), coerce=int, validate_choice=True)


def _chosen_organisation() -> Organisation | None:
    """The organisation filter of the admin page; an unknown or bad id shows the platform."""
    organisation_id = id_value(request.args, "organisation")
    return db.session.get(Organisation, organisation_id) if organisation_id else None


@bp.route("/impact", endpoint="impact")
def impact_dashboard() -> str:
    return render_dashboard(_chosen_organisation(), platform=True)


@bp.route("/impact.csv")
def impact_csv() -> Response:
    return figures_csv(_chosen_organisation())


@bp.route("/impact.pdf")
def impact_pdf() -> Response:
    return dashboard_pdf(_chosen_organisation(), platform=True)


@bp.route("/impact/claims.csv")
def impact_claims_csv() -> Response:
    return claims_csv(_chosen_organisation())


# --- factors ---------------------------------------------------------------------------------

def _factor_form(factor: ImpactFactor, data: bool = False) -> FactorForm:
    prefix = f"factor-{factor.id}"
    if data:
        return FactorForm(prefix=prefix)
    return FactorForm(prefix=prefix, formdata=None,
                      data={"value": format(factor.kg_co2e_per_kg.normalize(), "f"),
                            "source": factor.source})


def _new_factor_form(data: bool = False) -> NewFactorForm:
    form = NewFactorForm(prefix="new") if data else NewFactorForm(prefix="new", formdata=None)
    language = current_language()
    form.category.choices = [(category.id, category.name(language))
                             for category in impact.categories_without_factor()]
    return form


def _render_factors(failed: FactorForm | None = None, failed_id: int | None = None,
                    new_form: NewFactorForm | None = None) -> tuple[str, int]:
    rows = impact.factors_in_use()
    forms = {row.factor.id: (failed if row.factor.id == failed_id and failed is not None
                             else _factor_form(row.factor)) for row in rows}
    new_form = new_form or _new_factor_form()
    return render_form("impact/factors.html", failed or new_form, rows=rows, forms=forms,
                       new_form=new_form)


@bp.route("/impact/factors")
def impact_factors() -> tuple[str, int]:
    return _render_factors()


@bp.route("/impact/factors/<int:factor_id>", methods=["POST"])
def update_impact_factor(factor_id: int) -> tuple[str, int] | WerkzeugResponse:
    factor = db.get_or_404(ImpactFactor, factor_id)
    form = _factor_form(factor, data=True)
    if form.validate_on_submit():
        with refusals_on(form) as call:
            impact.update_factor(current_user, factor, form.value.data, form.source.data)
        if call.succeeded:
            flash(_("The factor is saved; the figures use it from now on."), "success")
            return redirect(url_for("admin.impact_factors", _anchor=f"factor-{factor.id}"))
    return _render_factors(form, factor.id)


@bp.route("/impact/factors/new", methods=["POST"])
def add_impact_factor() -> tuple[str, int] | WerkzeugResponse:
    form = _new_factor_form(data=True)
    if form.validate_on_submit():
        category = db.get_or_404(Category, form.category.data)
        with refusals_on(form) as call:
            impact.set_factor(current_user, category, form.value.data, form.source.data)
        if call.succeeded:
            flash(_("%(name)s has a factor of its own now.",
                    name=category.name(current_language())), "success")
            return redirect(url_for("admin.impact_factors"))
    return _render_factors(new_form=form)
