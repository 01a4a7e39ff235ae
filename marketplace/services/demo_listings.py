"""About forty realistic demo listings with generated photos (no downloads), for seed-demo."""

from __future__ import annotations

import functools
import hashlib
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from ..extensions import db
from ..models import (
    Category,
    Condition,
    DevicePassport,
    Listing,
    ListingPhoto,
    ListingStatus,
    Organisation,
    Unit,
)
from ..models.base import utcnow
from ..unit_of_work import atomic
from .photos import PreparedPhoto, prepare_photo, save_prepared


@dataclass(frozen=True)
class DemoListing:
    organisation: str
    title: str
    description: str
    category: str
    condition: Condition
    quantity: int
    unit: Unit
    value: str | None
    weight: str | None
    colour: tuple[int, int, int]
    days_left: int = 30
    status: ListingStatus = ListingStatus.PUBLISHED
    delivery: bool = False
    best_before_days: int | None = None
    cleaned: bool = False


R, L, B = "Ziekenhuis Rivierenland", "Zorggroep De Linde", "Stichting Het Baken"
C = Condition
U = Unit

LISTINGS: tuple[DemoListing, ...] = (
    DemoListing(R, "Rollators, inklapbaar", "Twaalf inklapbare rollators met mandje en "
                "zitje. Remmen nagekeken.", "mobility", C.GOOD, 12, U.PIECE, "89", "7.5",
                (70, 130, 180), cleaned=True),
    DemoListing(R, "Elektrische hoog-laagbedden", "Vier elektrisch verstelbare zorgbedden met "
                "matras en bedhekken. Vrijgekomen na verbouwing.", "care-beds", C.GOOD, 4,
                U.PIECE, "1450", "95", (120, 90, 160), delivery=True, cleaned=True),
    DemoListing(R, "Nitrile handschoenen maat M", "Dozen van 100 stuks, poedervrij. "
                "Houdbaar tot volgend voorjaar.", "ppe", C.NEW, 40, U.BOX, "6.50", "0.8",
                (60, 160, 200), best_before_days=150),
    DemoListing(R, "Office chairs, adjustable", "Ergonomic office chairs with armrests, "
                "a few years old. Fabric in good condition.", "office-furniture", C.GOOD, 18,
                U.PIECE, "120", "14", (90, 90, 90)),
    DemoListing(R, "Verbandmiddelen, diverse", "Gaasjes, pleisters en hydrocolloïd "
                "verband in ongeopende verpakking.", "wound-care", C.NEW, 25, U.PACK, "12",
                "0.4", (200, 80, 80), best_before_days=200),
    DemoListing(R, "Infuuspalen op wielen", "Zes RVS infuuspalen met vier haken, "
                "wielen lopen soepel.", "medical-aids", C.AS_NEW, 6, U.PIECE, "75", "6",
                (150, 150, 170), cleaned=True),
    DemoListing(R, "Computer monitors 24 inch", "Full HD monitors with VGA and HDMI. "
                "Cables included.", "office-it", C.GOOD, 30, U.PIECE, "90", "4.2",
                (40, 40, 60)),
    DemoListing(R, "Bloeddrukmeters, automatisch", "Bovenarm-bloeddrukmeters met manchet, "
                "gekalibreerd.", "monitoring", C.AS_NEW, 8, U.PIECE, "45", "0.6",
                (230, 120, 60), cleaned=True),
    DemoListing(R, "Beddengoed, wit katoen", "Hoeslakens en kussenslopen, gewassen en "
                "gevouwen.", "linen-textiles", C.GOOD, 10, U.PACK, "35", "3",
                (240, 240, 235)),
    DemoListing(R, "Wheelchairs, self-propelled", "Foldable wheelchairs, seat width 45 cm, "
                "with footrests.", "mobility", C.FAIR, 5, U.PIECE, "250", "16",
                (50, 100, 150), cleaned=True, delivery=True),
    DemoListing(R, "Desinfectiemiddel, 5 liter", "Oppervlaktedesinfectie op alcoholbasis, "
                "jerrycans van 5 liter.", "cleaning", C.NEW, 16, U.PIECE, "28", "5.2",
                (90, 180, 120), best_before_days=300),
    DemoListing(R, "Kantoorkasten met slot", "Roldeurkasten, grijs, met sleutels.",
                "office-furniture", C.FAIR, 7, U.PIECE, "150", "45", (130, 130, 130)),
    DemoListing(R, "Oxygen cylinder trolleys", "Trolleys for size D cylinders.",
                "medical-aids", C.GOOD, 9, U.PIECE, "60", "5", (180, 180, 200), days_left=10),
    DemoListing(R, "Mondkapjes type IIR", "Chirurgische mondmaskers, dozen van 50.",
                "ppe", C.NEW, 60, U.BOX, "9", "0.3", (100, 170, 220), best_before_days=90),
    DemoListing(L, "Tillift met tilbanden", "Mobiele passieve tillift met twee tilbanden "
                "maat M en L. Jaarlijkse keuring gedaan.", "lifting", C.GOOD, 1, U.PIECE,
                "2400", "38", (200, 150, 50), cleaned=True),
    DemoListing(L, "Douchestoelen", "Douchestoelen met rugleuning en armleuningen, "
                "in hoogte verstelbaar.", "medical-aids", C.AS_NEW, 6, U.PIECE, "65", "4",
                (80, 160, 170), cleaned=True),
    DemoListing(L, "Incontinentiemateriaal maat L", "Pakken van 14 stuks, ongeopend.",
                "incontinence", C.NEW, 30, U.PACK, "18", "1.2", (180, 120, 200),
                best_before_days=400),
    DemoListing(L, "Fauteuils voor de huiskamer", "Sta-op-fauteuils en gewone fauteuils, "
                "bekleding afneembaar.", "residential-furniture", C.GOOD, 8, U.PIECE, "300",
                "30", (160, 100, 70), delivery=True),
    DemoListing(L, "Dining tables", "Height-adjustable dining tables for wheelchair users.",
                "residential-furniture", C.GOOD, 5, U.PIECE, "220", "28", (140, 110, 80)),
    DemoListing(L, "Bordenwarmers en serveerwagens", "Twee bordenwarmers en drie RVS "
                "serveerwagens uit de centrale keuken.", "kitchen", C.FAIR, 5, U.PIECE,
                "180", "25", (170, 170, 170)),
    DemoListing(L, "Puzzels en spellen", "Grootletter-spellen, puzzels van 100 stukjes, "
                "bingo-set.", "activities", C.GOOD, 3, U.BOX, "25", "4", (230, 180, 60)),
    DemoListing(L, "Anti-decubitus matrassen", "Wisseldrukmatrassen met pomp.",
                "care-beds", C.GOOD, 6, U.PIECE, "600", "9", (110, 140, 190), cleaned=True),
    DemoListing(L, "Walking sticks and crutches", "Adjustable aluminium walking sticks and "
                "forearm crutches.", "mobility", C.GOOD, 20, U.PIECE, "20", "0.6",
                (90, 120, 100), cleaned=True),
    DemoListing(L, "Handdoeken en washandjes", "Witte badstof, industrieel gewassen.",
                "linen-textiles", C.GOOD, 15, U.PACK, "22", "2.5", (200, 220, 235)),
    DemoListing(L, "Koffiezetapparaten", "Twee filterkoffieapparaten voor de huiskamers.",
                "kitchen", C.AS_NEW, 2, U.PIECE, "80", "4", (60, 40, 30)),
    DemoListing(L, "Laptops, wiped", "Business laptops, 8 GB, drives wiped, no charger.",
                "office-it", C.FAIR, 10, U.PIECE, "150", "1.8", (70, 70, 80)),
    DemoListing(L, "Zuurstofsaturatiemeters", "Vingerpulsoximeters in etui.", "monitoring",
                C.AS_NEW, 12, U.PIECE, "30", "0.1", (220, 90, 120), cleaned=True,
                days_left=7),
    DemoListing(L, "Schoonmaakwagens", "Werkwagens met emmers en moppenhouder.",
                "cleaning", C.FAIR, 3, U.PIECE, "140", "18", (60, 150, 90)),
    DemoListing(B, "Verzwaringsdekens", "Verzwaringsdekens van 7 kg met hoes.",
                "residential-furniture", C.GOOD, 4, U.PIECE, "160", "7", (100, 80, 140),
                cleaned=True),
    DemoListing(B, "Sensory toys", "Tactile balls, fidget toys and a bubble tube.",
                "activities", C.GOOD, 2, U.BOX, "120", "5", (240, 120, 180)),
    DemoListing(B, "Aangepaste bestekset", "Verdikt bestek en antislip borden.", "kitchen",
                C.AS_NEW, 12, U.SET, "25", "0.5", (200, 160, 90)),
    DemoListing(B, "Schortjes, wegwerp", "Wegwerpschorten in doos van 100.", "ppe", C.NEW,
                20, U.BOX, "15", "1", (150, 200, 240), best_before_days=700),
    DemoListing(B, "Buggy's voor volwassenen", "Revalidatiebuggy's, inklapbaar.",
                "mobility", C.GOOD, 2, U.PIECE, "900", "20", (40, 90, 130), cleaned=True,
                delivery=True),
    DemoListing(B, "Bureaus, zit-sta", "Elektrisch verstelbare zit-stabureaus.",
                "office-furniture", C.GOOD, 6, U.PIECE, "350", "40", (180, 160, 140)),
    DemoListing(B, "Printer toner cartridges", "Unopened toner for the HP LaserJet "
                "series.", "office-it", C.NEW, 14, U.PIECE, "70", "1", (30, 30, 30)),
    DemoListing(B, "Zonneschermen voor de tuin", "Parasols met voet.", "other", C.FAIR, 4,
                U.PIECE, "60", "12", (230, 200, 80)),
    DemoListing(B, "Glucosemeters", "Bloedglucosemeters zonder strips, nieuw in doos.",
                "monitoring", C.NEW, 10, U.PIECE, "25", "0.2", (200, 60, 60)),
    DemoListing(B, "Tilbanden maat S", "Ongebruikte tilbanden maat S.", "lifting", C.NEW,
                5, U.PIECE, "110", "1", (210, 140, 60), status=ListingStatus.PENDING_REVIEW),
    DemoListing(R, "Stapelstoelen voor de aula", "Stapelbare kuipstoelen, blauw.",
                "furniture", C.FAIR, 60, U.PIECE, "20", "4", (60, 90, 170),
                status=ListingStatus.PENDING_REVIEW),
    DemoListing(L, "Rolstoelkussens", "Anti-decubituskussens voor rolstoelen.",
                "medical-aids", C.GOOD, 9, U.PIECE, "70", "1", (120, 80, 160),
                status=ListingStatus.DRAFT),
)


# Device passports of the demo's medical devices (fictitious manufacturers, GTINs with valid
# check digits), by title: what a receiving hospital's medical technology asks. Ages in years,
# maintenance and safety tests in days ago: dates are made when the demo is seeded.
DEMO_PASSPORTS: dict[str, dict[str, object]] = {
    "Tillift met tilbanden": {
        "manufacturer": "LiftCare Nederland", "model": "Mobilift P-180", "single_use": False,
        "ce_marked": True, "udi_di": "08712345000011", "serial_numbers": "LC180-2231",
        "age": 6, "maintenance": 120,
        "instructions_url": "https://example.com/liftcare/mobilift-p180-handleiding.pdf",
        "history_notes": "Jaarlijks onderhoud door de leverancier; accu in 2024 vervangen."},
    "Elektrische hoog-laagbedden": {
        "manufacturer": "Bedco Zorgbedden", "model": "Verso 3", "single_use": False,
        "ce_marked": True, "udi_di": "08712345000028",
        "serial_numbers": "VS3-10442\nVS3-10443\nVS3-10447\nVS3-10451",
        "age": 8, "maintenance": 200},
    "Rollators, inklapbaar": {
        "manufacturer": "Mobiro", "model": "Flex 2", "single_use": False, "ce_marked": True,
        "udi_di": "08712345000035", "age": 4},
    "Wheelchairs, self-propelled": {
        "manufacturer": "Rolwerk", "model": "Duo 45", "single_use": False, "ce_marked": True,
        "udi_di": "08712345000042",
        "serial_numbers": "RD45-0091\nRD45-0092\nRD45-0107\nRD45-0111\nRD45-0112", "age": 7},
    "Bloeddrukmeters, automatisch": {
        "manufacturer": "Tensio Medical", "model": "BP-300", "single_use": False,
        "ce_marked": True, "udi_di": "08712345000059", "age": 3, "safety_test": 60},
}


def _demo_passport(title: str) -> DevicePassport | None:
    spec = dict(DEMO_PASSPORTS.get(title) or {})
    if not spec:
        return None
    today = date.today()
    age, maintenance, safety_test = (spec.pop(key, None) for key in
                                     ("age", "maintenance", "safety_test"))
    passport = DevicePassport(**spec)
    passport.year_of_manufacture = today.year - int(str(age)) if age is not None else None
    if maintenance is not None:
        passport.last_maintenance_on = today - timedelta(days=int(str(maintenance)))
    if safety_test is not None:
        passport.last_safety_test_on = today - timedelta(days=int(str(safety_test)))
    return passport


def demo_photo(spec: DemoListing, variant: int = 0) -> bytes:
    """A 1600x1200 JPEG that reads as a product shot: a shape on a soft background, a label."""
    width, height = 1600, 1200
    base = tuple(min(255, channel + 90) for channel in spec.colour)
    image = Image.new("RGB", (width, height), base)
    draw = ImageDraw.Draw(image)
    for row in range(0, height, 8):  # a soft vertical gradient, like a studio backdrop
        shade = int(40 * row / height)
        draw.rectangle([0, row, width, row + 8],
                       fill=tuple(max(0, channel - shade) for channel in base))
    offset = 80 * variant
    draw.rounded_rectangle([380 + offset, 260, 1220 + offset, 900], radius=60,
                           fill=spec.colour, outline=(30, 30, 30), width=6)
    draw.ellipse([520 + offset, 880, 640 + offset, 1000], fill=(40, 40, 40))
    draw.ellipse([960 + offset, 880, 1080 + offset, 1000], fill=(40, 40, 40))
    font = ImageFont.load_default(size=64)
    draw.text((80, 1060), spec.title, fill=(20, 20, 20), font=font)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=82)
    return buffer.getvalue()


@functools.cache
def _prepared_demo_photo(spec: DemoListing, variant: int) -> PreparedPhoto:
    """The same every time, so made once per process: tests seed many databases (0.06 s a
    photo, 5 s of the 7 a seeding took)."""
    file_name = hashlib.sha1(spec.title.encode(), usedforsecurity=False).hexdigest()
    return prepare_photo(demo_photo(spec, variant), f"{file_name}.jpg")


@atomic
def seed_listings() -> Iterator[str]:
    """Create the demo listings that are missing (by title and organisation)."""
    categories = {category.slug: category for category in db.session.scalars(select(Category))}
    organisations = {organisation.name: organisation
                     for organisation in db.session.scalars(select(Organisation))}
    existing = set(db.session.execute(select(Listing.organisation_id, Listing.title)).all())
    created = 0
    now = utcnow()
    for index, spec in enumerate(LISTINGS):
        organisation = organisations.get(spec.organisation)
        if organisation is None or (organisation.id, spec.title) in existing:
            continue
        author = next((user for user in organisation.users), None)
        published = spec.status is ListingStatus.PUBLISHED
        listing = Listing(
            organisation=organisation, created_by=author, site=organisation.sites[0],
            category=categories[spec.category], title=spec.title,
            description=spec.description, condition=spec.condition, quantity=spec.quantity,
            quantity_available=spec.quantity, unit=spec.unit,
            value_per_unit=Decimal(spec.value) if spec.value else None,
            weight_per_unit_kg=Decimal(spec.weight) if spec.weight else None,
            available_until=date.today() + timedelta(days=spec.days_left),
            delivery_possible=spec.delivery,
            best_before=date.today() + timedelta(days=spec.best_before_days)
            if spec.best_before_days else None,
            packaging_unopened=True if spec.best_before_days else None,
            cleaned_on=date.today() - timedelta(days=3) if spec.cleaned else None,
            status=spec.status,
            submitted_at=None if spec.status is ListingStatus.DRAFT else now,
            # Spread over the last weeks, so "newest" and "posted within" have something to do.
            # (a stride through the list mixes the organisations on the first page).
            published_at=now - timedelta(hours=7 * ((index * 17) % len(LISTINGS)))
            if published else None,
        )
        for variant in range(1 + index % 3):
            photo = save_prepared(_prepared_demo_photo(spec, variant))
            listing.photos.append(ListingPhoto(photo=photo, position=variant,
                                               alt_text=spec.title))
        listing.passport = _demo_passport(spec.title)
        db.session.add(listing)
        created += 1
    yield f"Demo listings: {created} created" if created else "Demo listings present already."


@atomic
def seed_activity() -> Iterator[str]:
    """A few claims, an alert and a wanted post, so every page has something to show."""
    from ..models import Alert, Claim, ClaimStatus, Wanted
    from .accounts import find_user_by_email

    if db.session.scalar(select(Claim.id).limit(1)) is not None:
        yield "Demo claims present already."
        return
    daan = find_user_by_email("daan@delinde.example.org")
    fatima = find_user_by_email("fatima@hetbaken.example.org")
    bram = find_user_by_email("bram@rivierenland.example.org")
    carla = find_user_by_email("carla@delinde.example.org")
    if (daan is None or fatima is None or bram is None or carla is None
            or carla.organisation is None):  # the demo users seeded above, carla in De Linde
        return

    def listing_titled(title: str) -> Listing | None:
        return db.session.scalar(select(Listing).where(Listing.title == title))

    rollators = listing_titled("Rollators, inklapbaar")
    gloves = listing_titled("Nitrile handschoenen maat M")
    if rollators is not None:
        db.session.add(Claim(listing=rollators, claimant=daan, quantity=2,
                             claimant_organisation_id=daan.organisation_id,
                             message="Voor onze nieuwe huiskamer op de tweede verdieping.",
                             preferred_pickup_date=date.today() + timedelta(days=4)))
    if gloves is not None:
        gloves.quantity_available -= 10
        db.session.add(Claim(listing=gloves, claimant=fatima, quantity=10,
                             claimant_organisation_id=fatima.organisation_id,
                             status=ClaimStatus.ACCEPTED, decided_at=utcnow(),
                             decided_by=next(iter(gloves.organisation.users), None),
                             agreed_pickup_date=date.today() + timedelta(days=2)))
    db.session.add(Alert(user=bram, words="tillift"))
    db.session.add(Wanted(author=carla, organisation_id=carla.organisation_id,
                          title="Hoog-laag bed", quantity=2,
                          description="Voor twee nieuwe bewoners, graag met matras.",
                          needed_by=date.today() + timedelta(days=30),
                          province=carla.organisation.sites[0].province))
    yield "Demo claims, an alert and a wanted post created."
