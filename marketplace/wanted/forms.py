"""Forms for wanted posts."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectChoice, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import NumberRange, province_choices


def _optional_int(value: str | int | None) -> int | None:
    if value in (None, ""):
        return None
    return int(value)


class WantedForm(FlaskForm):
    title = StringField(_l("What do you need?"),
                        validators=[DataRequired(_l("Enter what you need")), Length(max=120)],
                        description=_l("In a few words, for example: \"Hoog-laag bed\"."))
    description = TextAreaField(_l("Details (optional)"),
                                validators=[Optional(), Length(max=5000)],
                                render_kw={"rows": 4})
    quantity = IntegerField(_l("How many (optional)"),
                            validators=[Optional(), NumberRange(min=1, max=100_000)],
                            render_kw={"min": 1, "inputmode": "numeric"})
    needed_by = DateField(_l("Needed by"),
                          validators=[DataRequired(_l("Enter the date you need it by"))])
    category = SelectField(_l("Category (optional)"), coerce=_optional_int,
                           validators=[Optional()])
    province = SelectField(_l("Province (optional)"), validators=[Optional()])

    def set_choices(self, categories: list[tuple[int, str]]) -> None:
        self.category.choices = [SelectChoice("", _l("Any category")),
                                 *[SelectChoice(value, label) for value, label in categories]]
        self.province.choices = province_choices()


class AnswerForm(FlaskForm):
    listing = SelectField(_l("Offer one of your listings"), coerce=_optional_int,
                          validators=[DataRequired(_l("Choose one of your listings"))])
