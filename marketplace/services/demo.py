"""Demo data for `flask seed-demo`: idempotent, so `make run` can call it every time."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..extensions import db
from ..models import (
    Language,
    Organisation,
    OrganisationKind,
    OrganisationStatus,
    Province,
    Role,
    User,
    UserStatus,
)
from ..models.base import utcnow
from ..unit_of_work import atomic
from .accounts import find_user_by_email
from .organisations import SiteDetails, build_site, find_organisation_by_name
from .passwords import hash_password

# The demo prints its password on purpose.
DEMO_PASSWORD = "hergebruik-in-de-zorg"  # noqa: S105  # nosec B105


@dataclass(frozen=True)
class DemoUser:
    email: str
    name: str
    role: Role
    status: UserStatus = UserStatus.ACTIVE
    language: Language = Language.NL


@dataclass(frozen=True)
class DemoOrganisation:
    name: str
    kind: OrganisationKind
    status: OrganisationStatus
    sites: tuple[SiteDetails, ...]
    users: tuple[DemoUser, ...]


# Pick-up hours of the demo sites, Monday first (services/opening_hours.py reads them).
_OFFICE_HOURS = ("08:00-16:30",) * 5 + ("", "")

PLATFORM_ADMIN = DemoUser("admin@example.org", "Petra Platform", Role.PLATFORM_ADMIN)

ORGANISATIONS = (
    DemoOrganisation(
        "Ziekenhuis Rivierenland", OrganisationKind.HOSPITAL, OrganisationStatus.ACTIVE,
        (SiteDetails("Hoofdgebouw", "President Kennedylaan 1", "4002 WP", "Tiel",
                     Province.GELDERLAND, opening_hours=_OFFICE_HOURS,
                     pickup_instructions="Meld je bij de centrale balie in de hal; vraag naar "
                                         "de dienstdoende facilitair medewerker."),
         SiteDetails("Magazijn", "Latenstein 20", "4005 AE", "Tiel", Province.GELDERLAND,
                     opening_hours=("07:30-12:00, 12:30-15:30",) * 5 + ("", ""),
                     pickup_instructions="Laadperron achterzijde, deur 3. Bel aan bij "
                                         "Logistiek; een steekwagen is er.")),
        (DemoUser("anna@rivierenland.example.org", "Anna de Vries", Role.ORG_ADMIN),
         DemoUser("bram@rivierenland.example.org", "Bram Jansen", Role.MEMBER,
                  language=Language.EN)),
    ),
    DemoOrganisation(
        "Zorggroep De Linde", OrganisationKind.ELDERLY_CARE, OrganisationStatus.ACTIVE,
        (SiteDetails("Locatie De Linde", "Lindelaan 12", "3581 KL", "Utrecht",
                     Province.UTRECHT, opening_hours=(*_OFFICE_HOURS[:5], "10:00-12:00", ""),
                     pickup_instructions="Receptie bij de hoofdingang; parkeren op het "
                                         "bezoekersterrein."),),
        (DemoUser("carla@delinde.example.org", "Carla Bakker", Role.ORG_ADMIN),
         DemoUser("daan@delinde.example.org", "Daan Visser", Role.MEMBER),
         DemoUser("eva@delinde.example.org", "Eva Smit", Role.MEMBER, UserStatus.PENDING)),
    ),
    DemoOrganisation(
        "Stichting Het Baken", OrganisationKind.DISABILITY_CARE, OrganisationStatus.ACTIVE,
        (SiteDetails("Woonlocatie Noord", "Bakenweg 5", "9741 AB", "Groningen",
                     Province.GRONINGEN, opening_hours=("09:00-16:00",) * 5 + ("", ""),
                     pickup_instructions="Aanbellen bij het kantoor naast de fietsenstalling."),),
        (DemoUser("fatima@hetbaken.example.org", "Fatima El Amrani", Role.ORG_ADMIN,
                  language=Language.EN),),
    ),
    DemoOrganisation(
        "Huisartsenpraktijk De Brug", OrganisationKind.GP, OrganisationStatus.PENDING,
        (SiteDetails("Praktijk", "Brugstraat 3", "5611 AA", "Eindhoven",
                     Province.NOORD_BRABANT, opening_hours=("08:00-17:00",) * 5 + ("", ""),
                     pickup_instructions="Na 16:00 via de achteringang; vraag naar de "
                                         "praktijkmanager."),),
        (DemoUser("gijs@debrug.example.org", "Gijs Mulder", Role.ORG_ADMIN),),
    ),
)


def _ensure_user(demo: DemoUser, organisation: Organisation | None) -> bool:
    if find_user_by_email(demo.email) is not None:
        return False
    db.session.add(User(
        email=demo.email, name=demo.name, role=demo.role, status=demo.status,
        language=demo.language, organisation=organisation,
        password_hash=hash_password(DEMO_PASSWORD), email_confirmed_at=utcnow(),
    ))
    return True


def _ensure_organisation(demo: DemoOrganisation) -> tuple[Organisation, bool]:
    organisation = find_organisation_by_name(demo.name)
    if organisation is not None:
        return organisation, False
    organisation = Organisation(name=demo.name, kind=demo.kind, status=demo.status)
    if demo.status is OrganisationStatus.ACTIVE:
        organisation.approved_at = utcnow()
    for site in demo.sites:
        organisation.sites.append(build_site(site))
    db.session.add(organisation)
    return organisation, True


@atomic
def seed() -> Iterator[str]:
    """Create whatever demo data is missing; yield what was done and the logins."""
    created = int(_ensure_user(PLATFORM_ADMIN, None))
    logins = [(PLATFORM_ADMIN.email, "platform admin", "")]
    for demo in ORGANISATIONS:
        organisation, new = _ensure_organisation(demo)
        created += int(new)
        for demo_user in demo.users:
            created += int(_ensure_user(demo_user, organisation))
            note = demo_user.role.value.replace("_", " ")
            if demo_user.status is UserStatus.PENDING:
                note += ", awaiting approval"
            if demo.status is OrganisationStatus.PENDING:
                note += ", organisation awaiting approval"
            logins.append((demo_user.email, note, demo.name))
    yield f"Demo data: {created} records created" if created else "Demo data present already."
    yield f"Every demo account has the password: {DEMO_PASSWORD}"
    width = max(len(email) for email, _note, _org in logins)
    for email, note, organisation_name in logins:
        where = f" ({organisation_name})" if organisation_name else ""
        yield f"  {email:<{width}}  {note}{where}"
