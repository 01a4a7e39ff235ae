"""Platform admin page: the Green Deal terms (material class per category, transport and
displacement settings), next to the CO₂e factors; routes on the admin blueprint, behind its
permission check."""

from __future__ import annotations

from flask import flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response as WerkzeugResponse
from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length

from ..extensions import db
from ..models import Category, GreenDealSetting, MaterialClass
from ..services import impact
from ..web import refusals_on, render_form
from .views import bp

SETTINGS_PATTERN = "any(" + ", ".join(setting.value for setting in GreenDealSetting) + ")"


class MaterialForm(FlaskForm):
    material_class = SelectField(_l("Material class"), validate_choice=True)
    source = TextAreaField(_l("Source (shown on the dashboard)"),
                           validators=[DataRequired(_l("Enter the source")), Length(max=1000)])


class SettingForm(FlaskForm):
    value = StringField(_l("Value"), validators=[Length(max=20)])
    source = TextAreaField(_l("Source (shown on the dashboard)"),
                           validators=[DataRequired(_l("Enter the source")), Length(max=1000)])


def _material_form(row: impact.CategoryMaterialInUse | None = None,
                   category_id: int | None = None) -> MaterialForm:
    prefix = f"material-{row.category.id if row else category_id}"
    if row is None:
        form = MaterialForm(prefix=prefix)
    else:
        form = MaterialForm(prefix=prefix, formdata=None,
                            data={"material_class": row.material_class.value,
                                  "source": row.source})
    form.material_class.choices = [(choice.value, choice.label) for choice in MaterialClass]
    return form


def _setting_form(setting: impact.SettingInUse | None = None,
                  key: GreenDealSetting | None = None) -> SettingForm:
    prefix = f"setting-{setting.setting.value if setting else key}"
    if setting is None:
        return SettingForm(prefix=prefix)
    value = "" if setting.value is None else format(setting.value.normalize(), "f")
    return SettingForm(prefix=prefix, formdata=None,
                       data={"value": value, "source": setting.source})


def _render(failed: FlaskForm | None = None, failed_key: str | None = None) -> tuple[str, int]:
    settings = impact.settings_in_use()
    materials = impact.category_materials()
    setting_forms = {setting.value: (failed if failed_key == f"setting-{setting.value}"
                                     else _setting_form(row))
                     for setting, row in settings.items()}
    material_forms = {row.category.id: (failed if failed_key == f"material-{row.category.id}"
                                        else _material_form(row))
                      for row in materials}
    form = failed or next(iter(setting_forms.values()))
    return render_form("impact/green_deal.html", form, settings=settings, materials=materials,
                       setting_forms=setting_forms, material_forms=material_forms)


@bp.route("/impact/green-deal")
def impact_green_deal() -> tuple[str, int]:
    return _render()


@bp.route("/impact/green-deal/categories/<int:category_id>", methods=["POST"])
def update_category_material(category_id: int) -> tuple[str, int] | WerkzeugResponse:
    category = db.get_or_404(Category, category_id)
    form = _material_form(category_id=category.id)
    if form.validate_on_submit():
        with refusals_on(form) as call:
            impact.set_category_material(current_user, category, form.material_class.data,
                                         form.source.data)
        if call.succeeded:
            flash(_("The material class is saved; the figures use it from now on."), "success")
            return redirect(url_for("admin.impact_green_deal",
                                    _anchor=f"material-{category.id}"))
    return _render(form, f"material-{category.id}")


@bp.route(f"/impact/green-deal/settings/<{SETTINGS_PATTERN}:setting>", methods=["POST"])
def update_green_deal_setting(setting: str) -> tuple[str, int] | WerkzeugResponse:
    key = GreenDealSetting(setting)
    form = _setting_form(key=key)
    if form.validate_on_submit():
        with refusals_on(form) as call:
            impact.update_green_deal_setting(current_user, key, form.value.data,
                                             form.source.data)
        if call.succeeded:
            flash(_("The setting is saved; the figures use it from now on."), "success")
            return redirect(url_for("admin.impact_green_deal", _anchor=f"setting-{key.value}"))
    return _render(form, f"setting-{key.value}")
