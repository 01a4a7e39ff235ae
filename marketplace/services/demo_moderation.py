"""Demo data for moderation and the impact dashboard: a listing held for a watch-word, reports,
a trusted organisation, KvK numbers, and a year of hand-overs (for seed-demo; idempotent)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from ..extensions import db
from ..models import (
    Category,
    Claim,
    ClaimStatus,
    Condition,
    Listing,
    ListingPhoto,
    ListingStatus,
    Organisation,
    Report,
    ReportReason,
    Unit,
)
from ..models.base import utcnow
from ..unit_of_work import atomic
from .accounts import find_user_by_email
from .demo_listings import DemoListing, demo_photo
from .photos import prepare_photo, save_prepared

KVK_NUMBERS = {
    "Ziekenhuis Rivierenland": "11223344",
    "Zorggroep De Linde": "30112233",
    "Stichting Het Baken": "02334455",
    "Huisartsenpraktijk De Brug": "17445566",
}
TRUSTED = ("Ziekenhuis Rivierenland",)
R, L, B = "Ziekenhuis Rivierenland", "Zorggroep De Linde", "Stichting Het Baken"

# Held for review although De Linde's text is harmless-looking: "tabletten" is a watch-word.
HELD = DemoListing(L, "Tabletten voor de huiskamer", "Drie tabletten (10 inch) met hoes, "
                   "voor videobellen met familie. Gewist.", "office-it", Condition.GOOD, 3,
                   Unit.PIECE, "90", "0.5", (90, 110, 160),
                   status=ListingStatus.PENDING_REVIEW)

# (giver, title, category, unit, value, kg, quantity, receiver email, months ago)
HANDED_OVER: tuple[tuple[str, str, str, Unit, str, str, int, str, int], ...] = (
    (R, "Rolstoelen, opvouwbaar", "mobility", Unit.PIECE, "250", "16", 4,
     "daan@delinde.example.org", 11),
    (R, "Nachtkastjes", "residential-furniture", Unit.PIECE, "80", "22", 10,
     "fatima@hetbaken.example.org", 10),
    (L, "Hoog-laagbedden", "care-beds", Unit.PIECE, "1200", "95", 3,
     "bram@rivierenland.example.org", 9),
    (R, "Bureaustoelen", "office-furniture", Unit.PIECE, "110", "14", 12,
     "carla@delinde.example.org", 8),
    (B, "Handschoenen maat L", "ppe", Unit.BOX, "6", "0.8", 30,
     "daan@delinde.example.org", 8),
    (L, "Badlinnen", "linen-textiles", Unit.PACK, "20", "2.5", 20,
     "fatima@hetbaken.example.org", 7),
    (R, "Monitoren 22 inch", "office-it", Unit.PIECE, "60", "4", 15,
     "fatima@hetbaken.example.org", 6),
    (B, "Tilliftbanden", "lifting", Unit.PIECE, "100", "1", 6,
     "carla@delinde.example.org", 5),
    (L, "Serveerwagens", "kitchen", Unit.PIECE, "150", "25", 2,
     "bram@rivierenland.example.org", 4),
    (R, "Wondverband", "wound-care", Unit.PACK, "12", "0.4", 40,
     "daan@delinde.example.org", 3),
    (L, "Rollators", "mobility", Unit.PIECE, "90", "7.5", 6,
     "fatima@hetbaken.example.org", 2),
    (B, "Spelletjeskast", "activities", Unit.PIECE, "40", "30", 1,
     "daan@delinde.example.org", 1),
    (R, "Archiefkasten", "office-furniture", Unit.PIECE, "140", "45", 5,
     "fatima@hetbaken.example.org", 1),
    (L, "Incontinentiemateriaal", "incontinence", Unit.PACK, "18", "1.2", 25,
     "bram@rivierenland.example.org", 0),
)

# (listing title, reporter email, reason, text)
REPORTS = (
    ("Bureaus, zit-sta", "bram@rivierenland.example.org", ReportReason.FOR_SALE,
     "The description on the phone said they want a contribution per desk."),
    ("Bureaus, zit-sta", "daan@delinde.example.org", ReportReason.FOR_SALE,
     "Bij navraag werd om 50 euro per bureau gevraagd."),
    ("Glucosemeters", "carla@delinde.example.org", ReportReason.UNSAFE,
     "Zonder strips en kalibratie: zijn deze nog veilig te gebruiken?"),
)


@atomic
def seed_moderation() -> Iterator[str]:
    organisations = {organisation.name: organisation
                     for organisation in db.session.scalars(select(Organisation))}
    for name, number in KVK_NUMBERS.items():
        if name in organisations and organisations[name].kvk_number is None:
            organisations[name].kvk_number = number
    for name in TRUSTED:
        if name in organisations:
            organisations[name].trusted = True
    created = _seed_held_listing(organisations) + _seed_reports()
    yield f"Demo moderation: {created} records created" if created \
        else "Demo moderation present already."


def _listing(title: str) -> Listing | None:
    return db.session.scalar(select(Listing).where(Listing.title == title).limit(1))


def _with_photo(listing: Listing, spec: DemoListing) -> None:
    name = f"{hashlib.sha1(spec.title.encode(), usedforsecurity=False).hexdigest()}.jpg"
    listing.photos.append(ListingPhoto(photo=save_prepared(prepare_photo(demo_photo(spec), name)),
                                       position=0, alt_text=spec.title))


def _seed_held_listing(organisations: dict[str, Organisation]) -> int:
    organisation = organisations.get(HELD.organisation)
    if (organisation is None or _listing(HELD.title) is not None
            or HELD.value is None or HELD.weight is None):  # HELD above gives both
        return 0
    category = db.session.scalar(select(Category).where(Category.slug == HELD.category))
    listing = Listing(
        organisation=organisation, created_by=next(iter(organisation.users), None),
        site=organisation.sites[0], category=category, title=HELD.title,
        description=HELD.description, condition=HELD.condition, quantity=HELD.quantity,
        quantity_available=HELD.quantity, unit=HELD.unit, value_per_unit=Decimal(HELD.value),
        weight_per_unit_kg=Decimal(HELD.weight),
        available_until=date.today() + timedelta(days=30), status=HELD.status,
        submitted_at=utcnow() - timedelta(days=2), held_words="tabletten")
    _with_photo(listing, HELD)
    db.session.add(listing)
    return 1


def _seed_reports() -> int:
    if db.session.scalar(select(Report.id).limit(1)) is not None:
        return 0
    created = 0
    for title, email, reason, text in REPORTS:
        listing, reporter = _listing(title), find_user_by_email(email)
        if listing is None or reporter is None:
            continue
        db.session.add(Report(listing=listing, reporter=reporter, reason=reason, text=text,
                              created_at=utcnow() - timedelta(hours=5 + created)))
        created += 1
    return created


@atomic
def seed_history() -> Iterator[str]:
    """A year of listings handed over, so the impact dashboard has months to show."""
    organisations = {organisation.name: organisation
                     for organisation in db.session.scalars(select(Organisation))}
    categories = {category.slug: category for category in db.session.scalars(select(Category))}
    now = utcnow()
    created = 0
    for giver, title, slug, unit, value, kg, quantity, email, months_ago in HANDED_OVER:
        organisation, receiver = organisations.get(giver), find_user_by_email(email)
        if organisation is None or receiver is None or _listing(title) is not None:
            continue
        published = now - timedelta(days=30 * months_ago + 12)
        collected = published + timedelta(days=3 + months_ago % 5)
        listing = Listing(
            organisation=organisation, created_by=next(iter(organisation.users), None),
            site=organisation.sites[0], category=categories[slug], title=title,
            description=f"{title}: overgedragen via het marktplein.", condition=Condition.GOOD,
            quantity=quantity, quantity_available=0, unit=unit,
            value_per_unit=Decimal(value), weight_per_unit_kg=Decimal(kg),
            available_until=(published + timedelta(days=30)).date(),
            status=ListingStatus.CLOSED, submitted_at=published, published_at=published)
        db.session.add(listing)
        db.session.add(Claim(
            listing=listing, claimant=receiver, claimant_organisation_id=receiver.organisation_id,
            quantity=quantity, status=ClaimStatus.COLLECTED,
            created_at=published + timedelta(hours=6 + 5 * months_ago),
            decided_at=published + timedelta(days=1), collected_at=collected,
            decided_by=listing.created_by))
        created += 1
    yield f"Demo hand-overs: {created} created" if created else "Demo hand-overs present already."
