"""What earlier listings of a category were worth and weighed per unit: the posting form
suggests it, since the impact figures count both and most posters have to guess."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import or_, select

from ..extensions import db
from ..models import Listing, ListingStatus

# The newest listings read (an index walk on the id); older ones say little about today's prices.
SAMPLE_LISTINGS = 2000
# Fewer listings than this in a category suggest nothing: one poster's guess is no typical value.
FEWEST_LISTINGS = 3


@dataclass(frozen=True)
class Typical:
    """The median value (euros) and weight (kg) per unit, each None when too few listings say."""
    value: Decimal | None
    weight: Decimal | None


def typical_amounts() -> dict[int, Typical]:
    """Per category id, the median value and weight per unit of its recent listings that were
    offered (drafts are guesses in progress)."""
    rows = db.session.execute(
        select(Listing.category_id, Listing.value_per_unit, Listing.weight_per_unit_kg)
        .where(Listing.status != ListingStatus.DRAFT, Listing.category_id.is_not(None),
               or_(Listing.value_per_unit.is_not(None), Listing.weight_per_unit_kg.is_not(None)))
        .order_by(Listing.id.desc()).limit(SAMPLE_LISTINGS)).all()
    values: dict[int, list[Decimal]] = defaultdict(list)
    weights: dict[int, list[Decimal]] = defaultdict(list)
    for category_id, value, weight in rows:
        if value is not None:
            values[category_id].append(value)
        if weight is not None:
            weights[category_id].append(weight)
    typical = {category_id: Typical(_median(values[category_id]), _median(weights[category_id]))
               for category_id in values.keys() | weights.keys()}
    return {category_id: amounts for category_id, amounts in typical.items()
            if amounts.value is not None or amounts.weight is not None}


def _median(amounts: list[Decimal]) -> Decimal | None:
    return statistics.median(amounts) if len(amounts) >= FEWEST_LISTINGS else None
