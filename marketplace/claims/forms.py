"""Forms for claiming, deciding and writing on a claim."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, TextAreaField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from ..services.claims import MAX_MESSAGE_LENGTH


class ClaimForm(FlaskForm):
    quantity = IntegerField(_l("How many do you need?"),
                            validators=[InputRequired(_l("Enter how many you need")),
                                        NumberRange(min=1, max=100_000)],
                            render_kw={"min": 1, "inputmode": "numeric"})
    preferred_pickup_date = DateField(_l("Preferred pick-up date (optional)"),
                                      validators=[Optional()])
    message = TextAreaField(_l("Message to the giver (optional)"),
                            validators=[Optional(), Length(max=MAX_MESSAGE_LENGTH)],
                            description=_l("What it is for, when you could come, questions."),
                            render_kw={"rows": 3})


class AcceptForm(FlaskForm):
    agreed_pickup_date = DateField(_l("Agreed pick-up date"), validators=[Optional()])
    note = TextAreaField(_l("Note for the claimant (optional)"),
                         validators=[Optional(), Length(max=1000)], render_kw={"rows": 2})


class DeclineForm(FlaskForm):
    note = TextAreaField(_l("Reason (optional, sent to the claimant)"),
                         validators=[Optional(), Length(max=1000)], render_kw={"rows": 2})


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Message"), validators=[InputRequired(_l("Write a message")),
                                                   Length(max=MAX_MESSAGE_LENGTH)],
                         render_kw={"rows": 3})
