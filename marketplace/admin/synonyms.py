"""Platform admin pages: synonyms, groups of words that search and alerts match as one
(routes on the admin blueprint, behind its permission check)."""

from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response
from wtforms import TextAreaField
from wtforms.validators import DataRequired, Length

from ..extensions import db
from ..models import SynonymGroup
from ..models.base import DATABASE_INT_MAX
from ..organisations.forms import ConfirmForm
from ..services import synonyms as synonym_service
from ..web import attempt, refusals_on, render_form
from .views import bp


class SynonymGroupForm(FlaskForm):
    words = TextAreaField(
        _l("Words that mean the same"),
        description=_l("Dutch and English, singular and plural, with a comma between them: "
                       "handschoenen, handschoen, gloves, glove. A search for one finds "
                       "listings with any of them."),
        validators=[DataRequired(_l("Enter at least two words that mean the same, separated "
                                    "by commas.")), Length(max=1500)],
        # Dutch and English words together: "mul" (several languages), whatever the page.
        render_kw={"lang": "mul"})


def _group_or_404(synonym_id: int) -> SynonymGroup:
    # Ids past the integer column's range would make PostgreSQL raise, not find nothing.
    group = db.session.get(SynonymGroup, synonym_id) if synonym_id <= DATABASE_INT_MAX else None
    if group is None:
        abort(404)
    return group


@bp.route("/synonyms", methods=["GET", "POST"])
def synonyms() -> Response | tuple[str, int]:
    """The groups, and the form to add one."""
    form = SynonymGroupForm()
    if form.validate_on_submit():
        with refusals_on(form) as call:
            synonym_service.add_group(current_user, form.words.data or "")
        if call.succeeded:
            flash(_("The synonyms have been added."), "success")
            return redirect(url_for("admin.synonyms"))
    return render_form("admin/synonyms.html", form, groups=synonym_service.all_groups())


@bp.route("/synonyms/<int:synonym_id>/edit", methods=["GET", "POST"])
def edit_synonyms(synonym_id: int) -> Response | tuple[str, int]:
    group = _group_or_404(synonym_id)
    form = SynonymGroupForm(data={"words": group.text})
    if form.validate_on_submit():
        with refusals_on(form) as call:
            synonym_service.update_group(current_user, group, form.words.data or "")
        if call.succeeded:
            flash(_("The synonyms have been saved."), "success")
            return redirect(url_for("admin.synonyms"))
    return render_form("admin/synonym_form.html", form, group=group)


@bp.route("/synonyms/<int:synonym_id>/delete", methods=["POST"])
def delete_synonyms(synonym_id: int) -> Response:
    group = _group_or_404(synonym_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    attempt(lambda: synonym_service.delete_group(current_user, group),
            _("The synonyms have been deleted."), forbid=True)
    return redirect(url_for("admin.synonyms"))
