"""How the figures are rounded: kilograms to the gram, euros to the cent, half up."""

from decimal import ROUND_HALF_UP, Decimal

KG = Decimal("0.001")
CENTS = Decimal("0.01")
ZERO = Decimal(0)


def to_places(value: object, places: Decimal) -> Decimal:
    """`value` (a number from the database, or None for zero) rounded half up to `places`."""
    if value is None:
        return ZERO.quantize(places)
    return Decimal(str(value)).quantize(places, rounding=ROUND_HALF_UP)
