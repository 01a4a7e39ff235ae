"""The listing form and the search form."""

from __future__ import annotations

from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    FileField,
    HiddenField,
    IntegerField,
    MultipleFileField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from ..forms import NumberRange, as_member_of, enum_choices
from ..models import Condition, Unit
from ..services.listings import MAX_INTERNAL_DAYS, MAX_QUANTITY


def _optional_int(value: str | int | None) -> int | None:
    if value in (None, ""):
        return None
    return int(value)


def _tri_state(value: object) -> bool | None:
    return {"yes": True, "no": False}.get(str(value)) if value not in (None, "") else None


class FiniteDecimalField(DecimalField):
    """A DecimalField that refuses what Decimal reads but is no amount ("NaN", "sNaN",
    "Infinity"): the range check cannot compare them, and "sNaN" made it fail with an error."""

    data: Decimal | None  # what DecimalField reads, or None

    def process_formdata(self, valuelist: list) -> None:
        super().process_formdata(valuelist)
        if self.data is not None and not self.data.is_finite():
            self.data = None
            raise ValueError(self.gettext("Not a valid decimal value."))


class ListingForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(_l("Enter a title")),
                                                  Length(max=120)],
                        description=_l("What is it, in a few words: \"12 rollators, foldable\"."))
    description = TextAreaField(
        _l("Description"),
        validators=[DataRequired(_l("Describe what you offer")), Length(max=5000)],
        description=_l("Size, brand and model, state, what is included, how it is packed."),
        render_kw={"rows": 6},
    )
    category = SelectField(_l("Category"), coerce=_optional_int,
                           validators=[DataRequired(_l("Choose a category"))])
    condition = SelectField(
        _l("Condition"),
        # No preset: "new" was a likely wrong answer for surplus (required only to publish).
        choices=[SelectChoice("", _l("Choose…")), *enum_choices(Condition)],
        coerce=as_member_of(Condition),
        validators=[DataRequired(_l("Choose the condition"))],
    )
    quantity = IntegerField(_l("Quantity"),
                            validators=[InputRequired(_l("Enter how many you offer")),
                                        NumberRange(min=1, max=MAX_QUANTITY)],
                            render_kw={"min": 1, "inputmode": "numeric"})
    unit = SelectField(_l("Unit"),
                       choices=enum_choices(Unit), coerce=as_member_of(Unit),
                       validators=[DataRequired(_l("Choose a unit"))])
    value_per_unit = FiniteDecimalField(
        _l("Estimated value per unit in euros (optional)"), places=2,
        validators=[Optional(), NumberRange(min=0, max=999_999)],
        description=_l("What buying it new would cost; it counts in the savings the "
                       "cooperative reports."),
        render_kw={"inputmode": "decimal"},
    )
    weight_per_unit_kg = FiniteDecimalField(
        _l("Weight per unit in kg (optional)"), places=3,
        validators=[Optional(), NumberRange(min=0, max=999_999)],
        description=_l("For the kilograms kept out of the waste."),
        render_kw={"inputmode": "decimal"},
    )
    site = SelectField(_l("Pick-up site"), coerce=_optional_int,
                       validators=[DataRequired(_l("Choose a pick-up site"))])
    available_until = DateField(_l("Available until"),
                                validators=[DataRequired(_l("Enter the last day it is available"))])
    delivery_possible = BooleanField(_l("We can deliver"))
    internal_days = IntegerField(
        _l("Offer it to my own organisation first, for this many days"), default=0,
        validators=[Optional(), NumberRange(min=0, max=MAX_INTERNAL_DAYS)],
        description=_l("0 means everyone sees it at once. During these days only colleagues "
                       "of your organisation (all sites) see it."),
        render_kw={"min": 0, "max": MAX_INTERNAL_DAYS, "inputmode": "numeric"},
    )
    # Consumables.
    best_before = DateField(_l("Best-before date"), validators=[Optional()])
    batch_number = StringField(_l("Batch or lot number"), validators=[Optional(), Length(max=60)])
    packaging_unopened = SelectField(
        _l("Packaging unopened"), coerce=_tri_state,
        choices=[SelectChoice("", _l("Not applicable")), SelectChoice("yes", _l("Yes")),
                 SelectChoice("no", _l("No"))],
        validators=[Optional()],
    )
    storage_conditions = StringField(_l("Storage conditions"),
                                     validators=[Optional(), Length(max=200)],
                                     description=_l("For example: dry, 15-25 °C."))
    # Medical aids and equipment.
    cleaned_on = DateField(_l("Cleaned and disinfected on"), validators=[Optional()])
    inspected_on = DateField(_l("Technically inspected on"), validators=[Optional()])
    # The device passport (medical categories; services/device_passports.py checks it).
    passport_manufacturer = StringField(_l("Manufacturer"),
                                        validators=[Optional(), Length(max=120)])
    passport_model = StringField(_l("Model"), validators=[Optional(), Length(max=120)],
                                 description=_l("The type or model name on the label."))
    passport_single_use = SelectField(
        _l("Single use or reusable"), coerce=_tri_state,
        choices=[SelectChoice("", _l("Not stated")),
                 SelectChoice("yes", _l("Single use (only unopened, before its expiry date)")),
                 SelectChoice("no", _l("Reusable"))],
        validators=[Optional()],
    )
    passport_ce_marked = SelectField(
        _l("CE marking"), coerce=_tri_state,
        choices=[SelectChoice("", _l("Not stated")), SelectChoice("yes", _l("Yes")),
                 SelectChoice("no", _l("No"))],
        validators=[Optional()],
    )
    passport_udi_di = StringField(
        _l("UDI-DI (GTIN)"), validators=[Optional(), Length(max=40)],
        description=_l("The device identifier of the UDI on the label: a GS1 GTIN of 8 to 14 "
                       "digits, often after (01)."),
        render_kw={"inputmode": "numeric", "autocomplete": "off"},
    )
    passport_serial_numbers = TextAreaField(
        _l("Serial or lot numbers"), validators=[Optional(), Length(max=5000)],
        description=_l("One a line, for each unit of the batch."), render_kw={"rows": 3},
    )
    passport_year_of_manufacture = IntegerField(
        _l("Year of manufacture"), validators=[Optional()],
        render_kw={"inputmode": "numeric", "min": 1950},
    )
    passport_last_maintenance_on = DateField(_l("Last maintenance on"), validators=[Optional()])
    passport_last_safety_test_on = DateField(
        _l("Last electrical safety test on"), validators=[Optional()],
        description=_l("For devices with a mains plug or battery (NEN-EN-IEC 62353)."),
    )
    passport_instructions_file = FileField(
        _l("Instructions for use (PDF)"),
        render_kw={"accept": "application/pdf,.pdf"},
    )
    # A signed token naming a PDF already received, so a form shown again keeps it.
    passport_instructions_staged = HiddenField()
    passport_remove_instructions = BooleanField(_l("Remove the uploaded instructions"))
    passport_instructions_url = StringField(
        _l("Or a link to the manufacturer's instructions"),
        validators=[Optional(), Length(max=500)], render_kw={"inputmode": "url"},
    )
    passport_history_notes = TextAreaField(
        _l("History"), validators=[Optional(), Length(max=5000)],
        description=_l("Repairs, replaced parts, incidents, where it was used."),
        render_kw={"rows": 3},
    )
    photos = MultipleFileField(
        _l("Photos"),
        description=_l("1 to 8 photos: JPEG, PNG, WebP or HEIC, at most 15 MB each. "
                       "The first one is shown on the card."),
        render_kw={"accept": "image/*", "multiple": True},
    )
    save_draft = SubmitField(_l("Save as draft"))
    submit = SubmitField(_l("Publish"))

    def set_choices(self, categories: list[tuple[int, str]],
                    sites: list[tuple[int, str]]) -> None:
        self.category.choices = [SelectChoice("", _l("Choose…")),
                                 *[SelectChoice(value, label) for value, label in categories]]
        self.site.choices = [SelectChoice(value, label) for value, label in sites]


class RelistForm(FlaskForm):
    available_until = DateField(_l("Available until"),
                                validators=[DataRequired(_l("Enter the last day it is available"))])
