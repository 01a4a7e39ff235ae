"""Forms for claiming, deciding and writing on a claim."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from ..forms import NumberRange
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


def _time_field(label: object) -> StringField:
    # Text, read by the service (services/opening_hours.parse_time): "9:00" and "09.00" count
    # too, and what was typed comes back as typed with the error.
    return StringField(label, validators=[Optional(), Length(max=10)],
                       render_kw={"type": "time", "placeholder": "09:00", "inputmode": "numeric"})


class PickupTimeFields:
    """A pick-up day and window, "HH:MM" in the platform's time."""

    agreed_pickup_date = DateField(_l("Pick-up date"), validators=[Optional()])
    pickup_from = _time_field(_l("Pick up from"))
    pickup_until = _time_field(_l("Pick up until"))


class AcceptForm(PickupTimeFields, FlaskForm):
    agreed_pickup_date = DateField(_l("Agreed pick-up date"), validators=[Optional()])
    note = TextAreaField(_l("Note for the claimant (optional)"),
                         validators=[Optional(), Length(max=1000)], render_kw={"rows": 2})


class ProposeTimeForm(PickupTimeFields, FlaskForm):
    """Either side proposes another pick-up time for an accepted claim."""


class DeclineForm(FlaskForm):
    note = TextAreaField(_l("Reason (optional, sent to the claimant)"),
                         validators=[Optional(), Length(max=1000)], render_kw={"rows": 2})


class MessageForm(FlaskForm):
    body = TextAreaField(_l("Message"), validators=[InputRequired(_l("Write a message")),
                                                   Length(max=MAX_MESSAGE_LENGTH)],
                         render_kw={"rows": 3})


class RefuseSignOffForm(FlaskForm):
    """Medical technology does not approve a claim, and says why (the claimant reads it)."""

    reason = TextAreaField(_l("Reason (sent to your colleague who claimed)"),
                           validators=[InputRequired(_l("Write why, for your colleague who "
                                                        "asked.")),
                                       Length(max=1000)], render_kw={"rows": 2})
