"""Forms of the moderation pages: decisions on listings, standard reasons, watch-words."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import NumberRange
from ..models import WatchWordKind
from ..models.moderation import WATCH_WORD_KIND_LABELS


class DecisionForm(FlaskForm):
    """Reject, ask for changes or remove: a standard reason, own words, or both.

    One form per listing on the queue page, so it is built with a prefix per listing; its
    buttons post to the action they name (formaction), which works without JavaScript."""

    reason_id = SelectField(_l("Standard reason (sent in the poster's language)"),
                            choices=[], validate_choice=True)
    text = TextAreaField(_l("Your own words (added after the standard reason, or alone)"),
                         validators=[Optional(), Length(max=1000)])

    def set_reason_choices(self, choices: list[tuple[str, str]]) -> None:
        self.reason_id.choices = [SelectChoice("", _l("Write my own")),
                                  *(SelectChoice(value, label) for value, label in choices)]

    @property
    def chosen_reason_id(self) -> int | None:
        return int(self.reason_id.data) if self.reason_id.data else None


class ReasonTextsForm(FlaskForm):
    # Each text is marked as its language (screen readers, spelling checkers), whatever the page.
    text_en = TextAreaField(_l("Reason in English"), render_kw={"lang": "en"},
                            validators=[DataRequired(_l("Enter the reason in English")),
                                        Length(max=500)])
    text_nl = TextAreaField(_l("Reason in Dutch"), render_kw={"lang": "nl"},
                            validators=[DataRequired(_l("Enter the reason in Dutch")),
                                        Length(max=500)])
    position = IntegerField(_l("Position in the list (lower comes first)"),
                            validators=[Optional(), NumberRange(min=0, max=10_000)])


class WatchWordForm(FlaskForm):
    word = StringField(_l("Word or phrase"),
                       description=_l("Letters, digits, spaces and hyphens; matched as a whole "
                                      "word, whatever the capitals and accents."),
                       validators=[DataRequired(_l("Enter a word or phrase")), Length(max=60)])
    kind = SelectField(_l("Kind"), choices=[SelectChoice(kind.value, WATCH_WORD_KIND_LABELS[kind])
                                       for kind in WatchWordKind],
                       default=WatchWordKind.MEDICINE.value)
