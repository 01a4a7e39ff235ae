"""The scenario the security tests attack: two organisations, each with a draft, a published and
a pending listing (each with a photo of its own), a claim with messages, a wanted post and an
alert; a third organisation that claims; and a platform admin.

Everything private of organisation A carries a marker (`SECRET_*`) that no page shown to an
outsider may ever contain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from flask.testing import FlaskClient
from helpers import SHARED_TESTDATA, AuthActions, link_in, outbox
from sqlalchemy import select
from werkzeug.routing import AnyConverter, Rule

from marketplace.extensions import db
from marketplace.models import (
    Alert,
    Category,
    Claim,
    ClaimMessage,
    ImpactFactor,
    Listing,
    ListingPhoto,
    ListingStatus,
    ModerationReason,
    Organisation,
    OutboxMessage,
    OutboxStatus,
    Photo,
    Role,
    SafetyNotice,
    SafetyNoticeRecipient,
    StagedPhoto,
    SynonymGroup,
    User,
    UserStatus,
    Wanted,
    WatchWord,
)
from marketplace.services import accounts, organisations
from marketplace.services.photos import (
    PreparedPhoto,
    photo_file_name,
    prepare_photo,
    save_prepared,
)
from marketplace.services.tokens import TokenPurpose, make_token

GOOD = SHARED_TESTDATA / "images" / "good"
# One image per listing: a photo of a draft must be shown nowhere else.
PHOTO_FILES = {
    ("A", "draft"): GOOD / "hopper.jpg", ("A", "published"): GOOD / "hopper.png",
    ("A", "pending"): GOOD / "hopper.webp", ("B", "draft"): GOOD / "hopper_gray.jpg",
    ("B", "published"): GOOD / "exif_gps.jpg", ("B", "pending"): GOOD / "pil_sample_cmyk.jpg",
}

# What outsiders must never see of organisation A.
SECRET_DRAFT = "Conceptrolstoel-Aa7"
SECRET_PENDING = "Wachtendetillift-Aa7"
SECRET_MESSAGE_GIVER = "Ophaalcode-giver-Aa7"
SECRET_MESSAGE_CLAIMANT = "Ophaalcode-claimant-Aa7"
SECRET_ALERT = "zuurstofgeheim"
SECRETS_OF_A = (SECRET_DRAFT, SECRET_PENDING, SECRET_MESSAGE_GIVER, SECRET_MESSAGE_CLAIMANT,
                SECRET_ALERT)

ROLES = ("anonymous", "outsider", "org_admin", "platform_admin",
         # Accounts of organisation A not in good standing: each must see what a visitor sees
         # (plus its own profile): a confirmed member awaiting approval, a member deactivated
         # after logging in, and a member whose organisation is suspended after logging in.
         "pending_member", "deactivated_member", "suspended_member")


@dataclass
class OrganisationObjects:
    organisation: Organisation
    listings: dict[str, Listing]  # draft, published, pending
    photos: dict[str, Photo]  # per listing kind
    claim: Claim
    messages: list[ClaimMessage]
    wanted: Wanted
    alert: Alert


@dataclass
class World:
    a: OrganisationObjects
    b: OrganisationObjects
    users: dict[str, User]
    tokens: dict[str, str]
    ids: dict[str, int] = field(default_factory=dict)  # for the <…_id> arguments of routes


_PREPARED: dict[Path, PreparedPhoto] = {}  # processing is pure: once per test process


def _photo_for(listing: Listing, path: Path) -> Photo:
    if path not in _PREPARED:
        _PREPARED[path] = prepare_photo(path.read_bytes(), path.name)
    photo = save_prepared(_PREPARED[path])
    db.session.add(ListingPhoto(listing_id=listing.id, photo=photo, position=1,
                                alt_text=listing.title))
    return photo


def _objects(name: str, admin: User, member: User, claimant: User, make_listing,
             secret: bool) -> OrganisationObjects:
    organisation = admin.organisation
    draft_title = SECRET_DRAFT if secret else f"Concept van {name}"
    pending_title = SECRET_PENDING if secret else f"Wacht op review van {name}"
    listings = {
        "draft": make_listing(draft_title, organisation=organisation,
                              status=ListingStatus.DRAFT, created_by_id=member.id),
        "published": make_listing(f"Bureaustoelen van {name}", organisation=organisation,
                                  created_by_id=member.id),
        "pending": make_listing(pending_title, organisation=organisation,
                                status=ListingStatus.PENDING_REVIEW, created_by_id=member.id),
    }
    if secret:  # A's draft is saved with a title alone: every page must cope with the gaps
        _strip_to_title(listings["draft"])
    photos = {kind: _photo_for(listing, PHOTO_FILES[(name, kind)])
              for kind, listing in listings.items()}
    claim = Claim(listing=listings["published"], claimant=claimant,
                  claimant_organisation_id=claimant.organisation_id, quantity=1,
                  message="Graag twee")
    giver_text = SECRET_MESSAGE_GIVER if secret else f"Bericht van {name}"
    claimant_text = SECRET_MESSAGE_CLAIMANT if secret else f"Antwoord aan {name}"
    messages = [ClaimMessage(claim=claim, author=admin, body=giver_text),
                ClaimMessage(claim=claim, author=claimant, body=claimant_text)]
    wanted = Wanted(author=member, organisation_id=organisation.id,
                    title=f"Gezocht door {name}: tilliften", description="Twee stuks",
                    needed_by=date.today() + timedelta(days=20))
    alert = Alert(user=member, words=SECRET_ALERT if secret else f"bedden{name.lower()}")
    db.session.add_all([claim, *messages, wanted, alert])
    db.session.commit()
    return OrganisationObjects(organisation, listings, photos, claim, messages, wanted, alert)


def _strip_to_title(draft: Listing) -> None:
    for attribute in ("site_id", "category_id", "condition", "quantity", "quantity_available",
                      "available_until"):
        setattr(draft, attribute, None)
    draft.description = ""
    db.session.commit()


def build_world(make_org, make_user, make_listing) -> World:
    org_a, org_b, org_c = (make_org(f"Zorginstelling {letter}") for letter in "ABC")
    users = {
        "org_admin": make_user(organisation=org_a, role=Role.ORG_ADMIN, name="Anna Admin"),
        "member_of_a": make_user(organisation=org_a, name="Aart Lid"),
        "pending_of_a": make_user(organisation=org_a, status=UserStatus.PENDING),
        "deactivated_member": make_user(organisation=org_a, name="Dirk Gestopt"),
        "suspended_member": make_user(organisation=org_a, name="Sanne Geschorst"),
        "outsider": make_user(organisation=org_b, name="Bob Buiten"),
        "admin_of_b": make_user(organisation=org_b, role=Role.ORG_ADMIN),
        "claimant": make_user(organisation=org_c, name="Cees Claimant"),
        "platform_admin": make_user(role=Role.PLATFORM_ADMIN, name="Petra Platform"),
    }
    a = _objects("A", users["org_admin"], users["member_of_a"], users["claimant"],
                 make_listing, secret=True)
    b = _objects("B", users["admin_of_b"], users["outsider"], users["claimant"],
                 make_listing, secret=False)
    failed_mail = OutboxMessage(template="confirm_email", recipient="x@example.org",
                                subject="x", body_text="x", body_html="x",
                                status=OutboxStatus.FAILED)
    db.session.add(failed_mail)
    db.session.commit()
    accounts.request_password_reset(users["member_of_a"].email)
    reset_path = link_in(outbox("reset_password")[-1], "/auth/reset/")
    tokens = {
        "reset": reset_path.rsplit("/", 1)[1],
        "preferences": make_token(TokenPurpose.PREFERENCES, {"u": users["member_of_a"].id}),
        "unsubscribe": make_token(TokenPurpose.UNSUBSCRIBE, {"u": users["member_of_a"].id,
                                                             "k": "claims"}),
        # Of an address confirmed already: following it changes nothing.
        "confirm": make_token(TokenPurpose.CONFIRM_EMAIL, {"u": users["member_of_a"].id,
                                                           "e": users["member_of_a"].email}),
    }
    users["pending_member"] = users["pending_of_a"]
    world = World(a=a, b=b, users=users, tokens=tokens)
    world.ids = {
        "organisation_id": org_a.id,
        "user_id": users["pending_of_a"].id,
        "site_id": org_a.sites[0].id,
        "claim_id": a.claim.id,
        "alert_id": a.alert.id,
        "wanted_id": a.wanted.id,
        "message_id": failed_mail.id,
        "category_id": db.session.scalar(select(Category.id).where(Category.slug == "furniture")),
        "reason_id": db.session.scalar(select(ModerationReason.id).limit(1)),
        "word_id": db.session.scalar(select(WatchWord.id).limit(1)),
        "synonym_id": db.session.scalar(select(SynonymGroup.id).limit(1)),
        "factor_id": db.session.scalar(select(ImpactFactor.id).limit(1)),
        "staged_id": _staged_photo(users["member_of_a"], a.photos["draft"]),
        **_safety_notice_ids(org_a, users["platform_admin"]),
    }
    return world


def _safety_notice_ids(organisation: Organisation, admin: User) -> dict[str, int]:
    """A field safety notice sent to organisation A (not acknowledged yet)."""
    notice = SafetyNotice(manufacturer="Arjo", model="Maxi Move", text="Controleer de sluiting.",
                          created_by=admin)
    recipient = SafetyNoticeRecipient(notice=notice, organisation_id=organisation.id)
    db.session.add_all([notice, recipient])
    db.session.commit()
    return {"notice_id": notice.id, "recipient_id": recipient.id}


def _staged_photo(owner: User, photo: Photo) -> int:
    staged = StagedPhoto(owner_id=owner.id, photo=photo, original_name="kast.jpg")
    db.session.add(staged)
    db.session.commit()
    return staged.id


# --- the routes -------------------------------------------------------------------------------

# A variant of a URL: which listing or photo an argument takes ("" when it takes none).
LISTING_VARIANTS = ("draft", "published", "pending")


def variants(rule: Rule) -> tuple[str, ...]:
    if "listing_id" in rule.arguments or rule.endpoint == "photos.serve":
        return LISTING_VARIANTS
    return ("",)


def url_for_rule(rule: Rule, world: World, variant: str = "") -> str:
    """The URL of `rule` with real ids of organisation A's things, `variant` choosing the
    listing or photo."""
    owner = world.a
    values: dict[str, object] = {}
    for name in rule.arguments:
        converter = rule._converters.get(name)
        if isinstance(converter, AnyConverter):
            values[name] = sorted(converter.items)[0]
        elif name == "listing_id":
            values[name] = owner.listings[variant].id
        elif name == "name":
            values[name] = photo_file_name(owner.photos[variant], "card")
        elif name == "token":
            values[name] = world.tokens[TOKEN_OF_ENDPOINT[rule.endpoint]]
        elif name == "filename":
            values[name] = "css/app.css"
        else:
            assert name in world.ids, f"the walker has no value for <{name}> in {rule.rule}"
            values[name] = world.ids[name]
    return rule.build(values, append_unknown=False)[1]


TOKEN_OF_ENDPOINT = {
    "auth.reset_password": "reset",
    "auth.confirm_email": "confirm",
    "account.email_preferences": "preferences",
    "account.unsubscribe": "unsubscribe",
}


def client_for(app, role: str, world: World) -> FlaskClient:
    """A client logged in as `role` (the deactivated and suspended members log in while in
    good standing, then lose it through the admins' own actions, as it happens in use)."""
    client = app.test_client()
    user = None if role == "anonymous" else world.users[role]
    if user is not None:
        response = AuthActions(client).login(user)
        assert response.status_code == 302, response.get_data(as_text=True)
    if role == "deactivated_member":
        accounts.deactivate_member(world.users["org_admin"], user)
    elif role == "suspended_member":
        organisations.suspend_organisation(world.users["platform_admin"], user.organisation,
                                           reason="Proef")
    return client


def rules_with(app, method: str) -> list[Rule]:
    return sorted((rule for rule in app.url_map.iter_rules() if method in rule.methods),
                  key=lambda rule: (rule.rule, rule.endpoint))


def database_state(except_user: User | None = None) -> dict[str, list]:
    """Every row of every table, as the requests left them (but for the row of `except_user`,
    whose own profile may change)."""
    db.session.commit()
    state = {table.name: sorted(map(repr, db.session.execute(select(table)).all()))
             for table in db.metadata.sorted_tables}
    if except_user is not None:
        own = repr(db.session.execute(select(User.__table__).where(
            User.__table__.c.id == except_user.id)).one())
        state[User.__tablename__].remove(own)
    return state


def stored_photo_names(photo: Photo) -> list[str]:
    from marketplace.services.photos import VARIANTS

    return [photo_file_name(photo, variant) for variant in VARIANTS]


@dataclass
class Answer:
    """A response read and closed (file responses keep a file open until closed)."""

    status: int
    headers: dict[str, str]
    body: str


def fetch(client: FlaskClient, method: str, url: str, **kwargs: object) -> Answer:
    with client.open(url, method=method, **kwargs) as response:
        return Answer(response.status_code, dict(response.headers),
                      response.get_data(as_text=True) if response.mimetype.startswith("text")
                      or response.is_json else "")
