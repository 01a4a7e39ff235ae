"""Platform admin pages: categories (routes on the admin blueprint, behind its permission check).

The list shows the tree with what uses each category and the buttons (up, down, retire,
restore, delete); renaming and moving to another parent happen on a category's own page, so
the list stays readable on a phone.
"""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import BooleanField, IntegerField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..extensions import db
from ..forms import NumberRange
from ..i18n import current_language
from ..models import Category
from ..models.base import DATABASE_INT_MAX
from ..organisations.forms import ConfirmForm
from ..services import categories as category_service
from ..services import device_passports
from ..web import attempt, refusals_on, render_form
from .views import bp

MAX_POSITION = 10_000


def _optional_id(value: object) -> int | None:
    """'' (the top level) as None, else the id; anything else is 0, which no choice has."""
    if value is None or value == "":
        return None
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0


class CategoryNamesForm(FlaskForm):
    # Each name is marked as its language (screen readers, spelling checkers), whatever the page.
    name_nl = StringField(_l("Name in Dutch"), render_kw={"lang": "nl"}, validators=[
        DataRequired(_l("Enter the Dutch name.")),
        Length(max=category_service.NAME_MAX_LENGTH)])
    name_en = StringField(_l("Name in English"), render_kw={"lang": "en"}, validators=[
        DataRequired(_l("Enter the English name.")),
        Length(max=category_service.NAME_MAX_LENGTH)])


class AddCategoryForm(CategoryNamesForm):
    parent = SelectField(_l("Under"), coerce=_optional_id,
                         description=_l("Leave at the top level, or choose the category it "
                                        "belongs to (two levels at most)."))


class MoveCategoryForm(FlaskForm):
    parent = SelectField(_l("Under"), coerce=_optional_id)
    position = IntegerField(_l("Place among the categories there (1 is first)"),
                            validators=[Optional(), NumberRange(min=1, max=MAX_POSITION)],
                            description=_l("Leave empty to keep its place, or to put it last "
                                           "under another category."))


class MedicalDeviceForm(FlaskForm):
    """Whether a category holds medical devices, and which passport fields they must fill in."""

    medical_device = BooleanField(_l("Medical devices: listings carry a device passport"))
    requirements = SelectMultipleField(
        _l("Required before publishing"), coerce=str,
        description=_l("Drafts may leave them empty; publishing asks for them."),
        widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
    )


def _medical_form(category: Category, formdata: bool = False) -> MedicalDeviceForm:
    if formdata:
        form = MedicalDeviceForm()
    else:
        form = MedicalDeviceForm(formdata=None, medical_device=category.medical_device,
                                 requirements=device_passports.required_fields(category))
    form.requirements.choices = list(device_passports.field_labels().items())
    return form


def _parent_choices(exclude: Category | None = None,
                    include_retired: bool = False) -> list[tuple[int | str, str]]:
    choices: list[tuple[int | str, str]] = [("", _("Top level"))]
    for category in category_service.top_level_categories():
        if category is exclude or (category.retired and not include_retired):
            continue
        label = category.name(current_language())
        if category.retired:
            label = _("%(name)s (retired)", name=label)
        choices.append((category.id, label))
    return choices


def _category_or_404(category_id: int) -> Category:
    # Ids past the integer column's range would make PostgreSQL raise, not find nothing.
    category = db.session.get(Category, category_id) if category_id <= DATABASE_INT_MAX else None
    if category is None:
        abort(404)
    return category


def _confirmed() -> None:
    if not ConfirmForm().validate_on_submit():
        abort(400)


@bp.route("/categories", methods=["GET", "POST"])
def categories() -> Response | tuple[str, int]:
    """The tree, and the form to add a category."""
    form = AddCategoryForm()
    form.parent.choices = _parent_choices()
    if form.validate_on_submit():
        with refusals_on(form) as call:
            category = category_service.add_category(current_user, form.name_nl.data or "",
                                                     form.name_en.data or "", form.parent.data)
        if call.succeeded:
            flash(_("%(name)s has been added.", name=category.name(current_language())), "success")
            return redirect(url_for("admin.categories"))
    return render_form("admin/categories.html", form=form,
                       rows=category_service.admin_category_rows(),
                       language=current_language())


def _render_edit(category: Category, names_form: CategoryNamesForm,
                 move_form: MoveCategoryForm,
                 medical_form: MedicalDeviceForm | None = None) -> tuple[str, int]:
    medical_form = medical_form or _medical_form(category)
    failed: FlaskForm = move_form
    for form in (names_form, medical_form):
        if form.errors or form.form_errors:
            failed = form
    return render_form("admin/category_form.html", form=failed, names_form=names_form,
                       move_form=move_form, medical_form=medical_form, category=category,
                       use=category_service.category_use(category), language=current_language())


def _move_form(category: Category, formdata: bool = False) -> MoveCategoryForm:
    if formdata:
        form = MoveCategoryForm()
    else:
        form = MoveCategoryForm(formdata=None, parent=category.parent_id)
    form.parent.choices = _parent_choices(exclude=category, include_retired=True)
    return form


@bp.route("/categories/<int:category_id>/edit", methods=["GET", "POST"])
def edit_category(category_id: int) -> Response | tuple[str, int]:
    """Rename a category in both languages (and, below, move it)."""
    category = _category_or_404(category_id)
    form = CategoryNamesForm(obj=category)
    if form.validate_on_submit():
        with refusals_on(form) as call:
            category_service.rename_category(current_user, category, form.name_nl.data or "",
                                             form.name_en.data or "")
        if call.succeeded:
            flash(_("The names have been saved."), "success")
            return redirect(url_for("admin.categories"))
    return _render_edit(category, form, _move_form(category))


@bp.route("/categories/<int:category_id>/move", methods=["POST"])
def move_category(category_id: int) -> Response | tuple[str, int]:
    """Put a category under another parent (or at the top level), at a given place."""
    category = _category_or_404(category_id)
    form = _move_form(category, formdata=True)
    if form.validate_on_submit():
        with refusals_on(form) as call:
            category_service.move_category(current_user, category, form.parent.data,
                                           form.position.data)
        if call.succeeded:
            flash(_("%(name)s has been moved.", name=category.name(current_language())), "success")
            return redirect(url_for("admin.categories"))
    names_form = CategoryNamesForm(formdata=None, obj=category)
    return _render_edit(category, names_form, form)


@bp.route("/categories/<int:category_id>/medical", methods=["POST"])
def medical_category(category_id: int) -> Response | tuple[str, int]:
    """Mark a category as medical devices and choose its required passport fields."""
    category = _category_or_404(category_id)
    form = _medical_form(category, formdata=True)
    if form.validate_on_submit():
        with refusals_on(form) as call:
            device_passports.set_medical_device(current_user, category,
                                                bool(form.medical_device.data),
                                                list(form.requirements.data or []))
        if call.succeeded:
            flash(_("The device passport settings of %(name)s have been saved.",
                    name=category.name(current_language())), "success")
            return redirect(url_for("admin.edit_category", category_id=category.id))
    return _render_edit(category, CategoryNamesForm(formdata=None, obj=category),
                        _move_form(category), form)


def _step(category_id: int, step: int) -> Response:
    category = _category_or_404(category_id)
    _confirmed()
    siblings = category_service.siblings_of(category)
    place = siblings.index(category) + 1 + step
    attempt(lambda: category_service.move_category(current_user, category, category.parent_id,
                                                   max(place, 1)),
            _("%(name)s has been moved.", name=category.name(current_language())))
    return redirect(url_for("admin.categories"))


@bp.route("/categories/<int:category_id>/up", methods=["POST"])
def move_category_up(category_id: int) -> Response:
    return _step(category_id, -1)


@bp.route("/categories/<int:category_id>/down", methods=["POST"])
def move_category_down(category_id: int) -> Response:
    return _step(category_id, 1)


@bp.route("/categories/<int:category_id>/retire", methods=["POST"])
def retire_category(category_id: int) -> Response:
    category = _category_or_404(category_id)
    _confirmed()
    attempt(lambda: category_service.set_category_retired(current_user, category, True),
            _("%(name)s is retired: it takes no new listings.",
              name=category.name(current_language())))
    return redirect(url_for("admin.categories"))


@bp.route("/categories/<int:category_id>/restore", methods=["POST"])
def restore_category(category_id: int) -> Response:
    category = _category_or_404(category_id)
    _confirmed()
    message = _("%(name)s is in use again.", name=category.name(current_language()))
    if any(child.retired for child in category.children):
        message += " " + _("Its subcategories stay retired until you restore them.")
    attempt(lambda: category_service.set_category_retired(current_user, category, False),
            message)
    return redirect(url_for("admin.categories"))


@bp.route("/categories/<int:category_id>/delete", methods=["POST"])
def delete_category(category_id: int) -> Response:
    category = _category_or_404(category_id)
    _confirmed()
    name = category.name(current_language())
    attempt(lambda: category_service.delete_category(current_user, category),
            _("%(name)s has been deleted.", name=name))
    return redirect(url_for("admin.categories"))
