"""The collected claims of a period row by row, for the CSV export."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import cast

from sqlalchemy import and_, select
from sqlalchemy.orm import aliased

from ...extensions import db
from ...models import Claim, Listing, Organisation
from .factors import CategoryName, FactorBook, category_names, unknown_category
from .period import Period
from .queries import collected_in
from .rounding import CENTS, KG


@dataclass(frozen=True)
class CollectedClaim:
    collected_at: datetime
    claim_id: int
    listing_id: int
    title: str
    category: CategoryName
    giver: str
    receiver: str
    quantity: int
    unit: str
    kilograms: Decimal | None
    euros: Decimal | None
    co2e_kg: Decimal | None
    factor: Decimal


def collected_claims(period: Period, organisation_id: int | None = None,
                     batch: int = 1000) -> Iterator[CollectedClaim]:
    """Every collected claim of the period (for one organisation: where it gave or received),
    oldest first, read in batches so that an export of any size stays in bounded memory."""
    book = FactorBook()
    names = category_names()
    giver, receiver = aliased(Organisation), aliased(Organisation)
    statement = (
        select(Claim.collected_at, Claim.id, Claim.quantity, Listing.id, Listing.title,
               Listing.category_id, Listing.unit, Listing.weight_per_unit_kg,
               Listing.value_per_unit, giver.name, receiver.name)
        .select_from(Claim).join(Listing, Claim.listing_id == Listing.id)
        .join(giver, and_(giver.id == Listing.organisation_id))
        .join(receiver, receiver.id == Claim.claimant_organisation_id)
        .where(*collected_in(period, organisation_id))
        .order_by(Claim.collected_at, Claim.id)
        .execution_options(yield_per=batch))
    for (collected_at, claim_id, quantity, listing_id, title, category_id, unit, weight,
         value, giver_name, receiver_name) in db.session.execute(statement):
        factor = book.for_category(category_id).value
        kilograms = (Decimal(weight) * quantity).quantize(KG) if weight is not None else None
        yield CollectedClaim(
            # Never None: collected_in() selects collected claims only.
            collected_at=cast(datetime, collected_at), claim_id=claim_id, listing_id=listing_id,
            title=title,
            category=names.get(category_id) or unknown_category(category_id), giver=giver_name,
            receiver=receiver_name, quantity=quantity, unit=unit.value if unit else "",
            kilograms=kilograms,
            euros=(Decimal(value) * quantity).quantize(CENTS) if value is not None else None,
            co2e_kg=(kilograms * factor).quantize(KG) if kilograms is not None else None,
            factor=factor)
