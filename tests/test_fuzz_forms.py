"""Every form of the app, posted with whatever hypothesis makes up: never a 500.

Each case posts one form through the real test client as a user of the right role (any text,
control characters, NUL, long strings, numbers and dates as text, several values for one field,
stray fields, and now and then the values a person would pick, so the services are reached
too). The answer is below 500; a page answered 200 or 4xx shows the form again (one of its
fields is on the page), and a redirect stays on the site and leads to a page that is not a 500.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from io import BytesIO
from urllib.parse import urlsplit

import pytest
from fuzzing import FUZZ, form_data
from helpers import PASSWORD, SHARED_TESTDATA, AuthActions
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from marketplace.extensions import db
from marketplace.models import (
    Alert,
    AlertFrequency,
    Category,
    Claim,
    ClaimStatus,
    Condition,
    ImpactFactor,
    Language,
    Listing,
    ListingPhoto,
    ListingStatus,
    ModerationReason,
    NotificationPreference,
    Organisation,
    OrganisationKind,
    Province,
    Report,
    Role,
    SynonymGroup,
    Unit,
    User,
    Wanted,
    WatchWordKind,
)
from marketplace.services import claims as claim_service
from marketplace.services.errors import DomainError
from marketplace.services.photos import prepare_photo, save_prepared
from marketplace.services.tokens import TokenPurpose, make_token

GOOD_PHOTO = SHARED_TESTDATA / "images" / "good" / "hopper.jpg"
TODAY = date.today()
DATES = [(TODAY + timedelta(days=days)).isoformat() for days in (-1, 0, 1, 30, 400)]


@dataclass
class World:
    """One of each thing a form acts on, and the people who may post each form."""

    giver_org: Organisation
    poster: User  # member of the giving organisation, created the listings
    colleague: User  # a second member of it, for the org admin's member forms
    org_admin: User
    claimant: User  # member of another organisation
    admin: User  # platform admin
    stranger: User  # member of a third organisation, for the admin's user forms
    departing: User  # another, whom the admin's deletion form is about
    listing: Listing  # published, with a photo
    withdrawn: Listing
    pending: Listing  # waiting for review
    claim: Claim  # the claimant's, on `listing`
    wanted: Wanted  # the claimant's
    alert: Alert  # the claimant's
    category: Category
    reason: ModerationReason
    factor: ImpactFactor
    spare_category: Category  # without a factor of its own, for the new-factor form
    clients: dict[str, object] = field(default_factory=dict)

    def client_of(self, app, who: str | None):
        if who not in self.clients:
            client = app.test_client()
            if who is not None:
                response = AuthActions(client).login(getattr(self, who))
                assert response.status_code == 302
            self.clients[who] = client
        return self.clients[who]


def with_photo(listing: Listing) -> Listing:
    photo = save_prepared(prepare_photo(GOOD_PHOTO.read_bytes(), GOOD_PHOTO.name))
    listing.photos.append(ListingPhoto(photo=photo, position=0))
    db.session.commit()
    return listing


@pytest.fixture
def world(app, make_org, make_user, make_listing) -> World:
    giver_org = make_org(name="Gevend Ziekenhuis")
    poster = make_user(organisation=giver_org)
    colleague = make_user(organisation=giver_org)
    org_admin = make_user(organisation=giver_org, role=Role.ORG_ADMIN)
    claimant = make_user()
    listing = with_photo(make_listing("Rolstoelen", organisation=giver_org, created_by=poster,
                                      quantity=50))
    claim = claim_service.claim_listing(claimant, listing, 1)
    wanted = Wanted(author=claimant, organisation_id=claimant.organisation_id,
                    title="Hoog-laag bed", description="", needed_by=TODAY + timedelta(days=20))
    alert = Alert(user=claimant, words="rolstoel", frequency=AlertFrequency.INSTANT)
    spare_category = Category(slug="tilliften", name_nl="Tilliften", name_en="Hoists")
    db.session.add_all([wanted, alert, spare_category])
    db.session.commit()
    return World(
        giver_org=giver_org, poster=poster, colleague=colleague, org_admin=org_admin,
        claimant=claimant, admin=make_user(role=Role.PLATFORM_ADMIN), stranger=make_user(),
        departing=make_user(),
        listing=listing,
        withdrawn=with_photo(make_listing(organisation=giver_org, created_by=poster,
                                          status=ListingStatus.WITHDRAWN)),
        pending=make_listing(organisation=giver_org, created_by=poster,
                             status=ListingStatus.PENDING_REVIEW),
        claim=claim, wanted=wanted, alert=alert,
        category=db.session.scalar(select(Category).where(Category.slug == "furniture")),
        reason=db.session.scalar(select(ModerationReason).limit(1)),
        factor=db.session.scalar(select(ImpactFactor).limit(1)),
        spare_category=spare_category,
    )


def fresh_claim(world: World) -> None:
    """The giver's forms need a claim waiting for an answer: close the last one, make one."""
    for claim in db.session.scalars(select(Claim).where(
            Claim.claimant_id == world.claimant.id,
            Claim.status.in_([ClaimStatus.REQUESTED, ClaimStatus.ACCEPTED]))):
        claim_service.cancel_claim(world.claimant, claim)
    listing = db.session.get(Listing, world.listing.id)
    db.session.refresh(listing)
    world.claim = claim_service.claim_listing(world.claimant, listing, 1)


def no_open_claim(world: World) -> None:
    """The claim form is for a member without an open claim on the listing."""
    for claim in db.session.scalars(select(Claim).where(
            Claim.claimant_id == world.claimant.id,
            Claim.status.in_([ClaimStatus.REQUESTED, ClaimStatus.ACCEPTED]))):
        try:
            claim_service.cancel_claim(world.claimant, claim)
        except DomainError:
            db.session.rollback()


def no_open_report(world: World) -> None:
    """The report form is shown to a member who has not reported the listing yet."""
    db.session.execute(delete(Report).where(Report.reporter_id == world.claimant.id))
    db.session.commit()


def back_in_review(world: World) -> None:
    """Moderators' forms are shown for listings they can still decide on."""
    for listing, status in ((world.pending, ListingStatus.PENDING_REVIEW),
                            (world.listing, ListingStatus.PUBLISHED)):
        db.session.execute(update(Listing).where(Listing.id == listing.id).values(status=status))
    db.session.commit()


def spare_category_without_factor(world: World) -> None:
    db.session.execute(delete(ImpactFactor).where(
        ImpactFactor.category_id == world.spare_category.id))
    db.session.commit()


def reset_token(world: World) -> str:
    """A valid link for the stranger (the fingerprint changes with each new password)."""
    from marketplace.services.accounts import _password_fingerprint

    user = db.session.get(User, world.stranger.id)
    db.session.refresh(user)
    return make_token(TokenPurpose.RESET_PASSWORD, {"u": user.id, "p": _password_fingerprint(user)})


def values(enum_class) -> list[str]:
    return [member.value for member in enum_class]


SITE_FIELDS = {"site_name": ["Magazijn"], "street": ["Zorgweg 1"], "postcode": ["3511 AB"],
               "city": ["Utrecht"], "province": values(Province)}
SEARCH_FIELDS = {"q": ["rolstoel"], "category": ["1", "2"], "condition": values(Condition),
                 "province": values(Province), "kind": values(OrganisationKind),
                 "delivery": ["1"], "days": ["7"], "sort": ["relevance", "expiring"],
                 "page": ["2"]}


def listing_fields(world: World) -> dict[str, list[str]]:
    return {
        "title": ["Rollators, inklapbaar"], "description": ["Twaalf rollators."],
        "category": [str(world.category.id)], "condition": values(Condition),
        "quantity": ["1", "12", "100000"], "unit": values(Unit),
        "value_per_unit": ["89.50"], "weight_per_unit_kg": ["7.5"],
        "site": [str(world.giver_org.sites[0].id)], "available_until": DATES,
        "delivery_possible": ["y"], "internal_days": ["0", "3"], "best_before": DATES,
        "batch_number": ["LOT-1"], "packaging_unopened": ["yes", "no", ""],
        "storage_conditions": ["droog"], "cleaned_on": DATES, "inspected_on": DATES,
        "save_draft": ["Save as draft"], "submit": ["Publish"],
    }


@dataclass(frozen=True)
class Case:
    """One form: who posts it where, its fields (with sensible values), what runs first."""

    who: str | None
    url: Callable[[World], str]
    fields: Callable[[World], dict[str, list[str]]]
    before: Callable[[World], None] | None = None
    files: bool = False  # a photo field: a multipart post with made-up files
    # A button on a list page, not a page of its own: a bad value answers the 400 error page.
    button: bool = False


CASES: dict[str, Case] = {
    # Accounts.
    "sign-up": Case(None, lambda w: "/auth/signup", lambda w: {
        "name": ["Anna"], "email": ["anna@example.org", "USER1@example.org"],
        "password": [PASSWORD, "kort"], "language": values(Language),
        "organisation_choice": ["existing", "new"], "organisation": [str(w.giver_org.id)],
        "organisation_name": ["Zorg Oost"], "organisation_kind": values(OrganisationKind),
        "kvk_number": ["12345678"], **SITE_FIELDS}),
    "login": Case(None, lambda w: "/auth/login", lambda w: {
        "email": [w.poster.email], "password": ["wrong password"], "remember": ["y"],
        "next": ["/listings/", "//evil.example", "https://evil.example/"]}),
    "forgot password": Case(None, lambda w: "/auth/forgot-password",
                            lambda w: {"email": [w.poster.email]}),
    "resend confirmation": Case(None, lambda w: "/auth/confirm",
                                lambda w: {"email": [w.poster.email]}),
    "reset password": Case(None, lambda w: f"/auth/reset/{reset_token(w)}",
                           lambda w: {"password": [PASSWORD + "!", "kort"]}),
    "profile": Case("claimant", lambda w: "/account/", lambda w: {
        "name": ["Bram"], "phone": ["+31 (0)30-1234567"], "language": values(Language),
        "notifications": values(NotificationPreference),
        "email_kinds": ["claims", "matches", "moderation"]}),
    "change password": Case("claimant", lambda w: "/account/password", lambda w: {
        "current_password": ["not my password"], "new_password": [PASSWORD + "?"]}),
    "email preferences": Case(
        None, lambda w: "/account/email-preferences/"
        + make_token(TokenPurpose.PREFERENCES, {"u": w.claimant.id}),
        lambda w: {"notifications": values(NotificationPreference),
                   "email_kinds": ["claims", "messages"]}),
    "delete account": Case("claimant", lambda w: "/account/delete", lambda w: {
        "password": ["not my password"], "understood": ["y"]}),
    # Listings.
    "new listing": Case("poster", lambda w: "/listings/new", listing_fields, files=True),
    "edit listing": Case("poster", lambda w: f"/listings/{w.listing.id}/edit",
                         lambda w: {**listing_fields(w), **{
                             f"photo-{p.id}-{name}": ["1", "y", "A chair"]
                             for p in w.listing.photos for name in ("position", "alt", "remove")
                         }}, files=True),
    "relist": Case("poster", lambda w: f"/listings/{w.withdrawn.id}/relist",
                   lambda w: {"available_until": DATES}),
    "report listing": Case("claimant", lambda w: f"/listings/{w.listing.id}/report", lambda w: {
        "reason": ["medicine", "other", "misleading"], "text": ["Dit klopt niet."]},
        before=no_open_report),
    # Claims.
    "claim": Case("claimant", lambda w: f"/listings/{w.listing.id}/claim", lambda w: {
        "quantity": ["1", "50", "51"], "preferred_pickup_date": DATES,
        "message": ["Graag!"]}, before=no_open_claim),
    "accept claim": Case("poster", lambda w: f"/claims/{w.claim.id}/accept", lambda w: {
        "agreed_pickup_date": DATES, "note": ["Tot dan."]}, before=fresh_claim),
    "decline claim": Case("poster", lambda w: f"/claims/{w.claim.id}/decline",
                          lambda w: {"note": ["Helaas."]}, before=fresh_claim),
    "claim message": Case("claimant", lambda w: f"/claims/{w.claim.id}/messages",
                          lambda w: {"body": ["Wanneer kan ik komen?"]}),
    # Wanted posts and alerts.
    "wanted post": Case("claimant", lambda w: "/wanted/new", lambda w: {
        "title": ["Hoog-laag bed"], "description": ["Voor een bewoner."],
        "quantity": ["1", "2"], "needed_by": DATES, "category": [str(w.category.id)],
        "province": values(Province)}),
    "answer wanted": Case("poster", lambda w: f"/wanted/{w.wanted.id}/answer",
                          lambda w: {"listing": [str(w.listing.id), str(w.pending.id)]}),
    "alert": Case("claimant", lambda w: "/alerts/", lambda w: {
        **SEARCH_FIELDS, "frequency": values(AlertFrequency)}),
    "alert frequency": Case("claimant", lambda w: f"/alerts/{w.alert.id}/frequency",
                            lambda w: {"frequency": values(AlertFrequency)}, button=True),
    # Organisation admins.
    "new site": Case("org_admin", lambda w: f"/organisations/{w.giver_org.id}/sites/new",
                     lambda w: SITE_FIELDS),
    "edit site": Case("org_admin", lambda w: f"/organisations/{w.giver_org.id}/sites/"
                      f"{w.giver_org.sites[0].id}/edit", lambda w: SITE_FIELDS),
    "member role": Case("org_admin", lambda w: f"/organisations/{w.giver_org.id}/members/"
                        f"{w.colleague.id}/role", lambda w: {"role": values(Role)}, button=True),
    "deactivate member": Case("org_admin", lambda w: f"/organisations/{w.giver_org.id}/members/"
                              f"{w.colleague.id}/deactivate",
                              lambda w: {"reason": ["Weg."], "confirmed": ["yes"]},
                              button=True),
    # Platform admins.
    "reject listing": Case("admin", lambda w: f"/admin/listings/{w.pending.id}/reject",
                           lambda w: {f"listing-{w.pending.id}-reason_id": [str(w.reason.id)],
                                      f"listing-{w.pending.id}-text": ["Geen foto."]},
                           before=back_in_review),
    "remove listing": Case("admin", lambda w: f"/admin/listings/{w.listing.id}/remove",
                           lambda w: {f"listing-{w.listing.id}-reason_id": [str(w.reason.id)],
                                      f"listing-{w.listing.id}-text": ["Verboden."]},
                           before=back_in_review),
    "resolve reports": Case("admin", lambda w: f"/admin/reports/{w.listing.id}/resolve",
                            lambda w: {f"listing-{w.listing.id}-{name}": good for name, good in {
                                "outcome": ["dismissed", "changes_requested"],
                                "standard_reason": ["0", str(w.reason.id)],
                                "reason_for_poster": ["Pas aan."], "note": ["Ok."]}.items()}),
    "suspend organisation": Case("admin", lambda w: f"/admin/organisations/"
                                 f"{w.stranger.organisation_id}/suspend",
                                 lambda w: {"reason": ["Misbruik."]}),
    "trust organisation": Case("admin", lambda w: f"/admin/organisations/{w.giver_org.id}/trust",
                               lambda w: {"trust-reason": ["Betrouwbaar."],
                                          "next": ["/admin/", "//evil.example"]}),
    "deactivate user": Case("admin", lambda w: f"/admin/users/{w.stranger.id}/deactivate",
                            lambda w: {"reason": ["Misbruik."]}),
    "user role": Case("admin", lambda w: f"/admin/users/{w.stranger.id}/role",
                      lambda w: {"role": values(Role)}),
    "delete user": Case("admin", lambda w: f"/admin/users/{w.departing.id}/delete",
                        lambda w: {"delete-reason": ["Op verzoek."]}),
    "moderation reason": Case("admin", lambda w: "/admin/moderation/reasons", lambda w: {
        "text_nl": ["Geen foto."], "text_en": ["No photo."], "position": ["0", "3"]}),
    "edit moderation reason": Case("admin", lambda w: f"/admin/moderation/reasons/{w.reason.id}",
                                   lambda w: {"text_nl": ["Geen foto."], "text_en": ["No photo."],
                                              "position": ["1"]}),
    "watch-word": Case("admin", lambda w: "/admin/moderation/watch-words", lambda w: {
        "word": ["morfine", "oxy-codon"], "kind": values(WatchWordKind)}),
    "synonyms": Case("admin", lambda w: "/admin/synonyms", lambda w: {
        "words": ["fietsbel, bicycle bell", "gloves, handschoen", "x"]}),
    "edit synonyms": Case("admin", lambda w: f"/admin/synonyms/{a_synonym_group()}/edit",
                          lambda w: {"words": ["rolstoel, wheelchair", "walker, rolstoel"]}),
    "new category": Case("admin", lambda w: "/admin/categories", lambda w: {
        "name_nl": ["Tilliften"], "name_en": ["Hoists"], "parent": ["", str(w.category.id)]}),
    "edit category": Case("admin", lambda w: f"/admin/categories/{w.category.id}/edit",
                          lambda w: {"name_nl": ["Meubels"], "name_en": ["Furniture"]}),
    "move category": Case("admin", lambda w: f"/admin/categories/{w.category.id}/move",
                          lambda w: {"parent": ["", "1"], "position": ["1", "2"]}),
    "impact factor": Case("admin", lambda w: f"/admin/impact/factors/{w.factor.id}",
                          lambda w: {f"factor-{w.factor.id}-value": ["1.5"],
                                     f"factor-{w.factor.id}-source": ["CE Delft"]}),
    "new impact factor": Case("admin", lambda w: "/admin/impact/factors/new", lambda w: {
        "new-category": [str(w.spare_category.id)], "new-value": ["2,5", "0.3"],
        "new-source": ["RIVM"]}, before=spare_category_without_factor),
    "switch language": Case(None, lambda w: "/language", lambda w: {
        "language": values(Language), "next": ["/listings/", "//evil.example"]}),
}

def a_synonym_group() -> int | None:
    return db.session.scalar(select(SynonymGroup.id).order_by(SynonymGroup.id).limit(1))


made_up_files = st.lists(st.tuples(st.binary(max_size=64) | st.just(GOOD_PHOTO.read_bytes()),
                                   st.text(max_size=40) | st.sampled_from(
                                       ["x.jpg", "x.jpg.php", "../../x.png", "a" * 300 + ".jpg"])),
                         max_size=3)


def assert_answered_well(client, response, field_names: set[str], button: bool) -> None:
    assert response.status_code < 500, response.get_data(as_text=True)[:2000]
    if 300 <= response.status_code < 400:
        target = urlsplit(response.headers["Location"])
        assert target.netloc in ("", "localhost"), response.headers["Location"]
        followed = client.get(target.path + (f"?{target.query}" if target.query else ""))
        assert followed.status_code < 500, followed.get_data(as_text=True)[:2000]
        return
    html = response.get_data(as_text=True)
    if button and response.status_code == 400:
        assert "Go back, check what you entered and try again." in html
        return
    assert any(f'name="{name}"' in html for name in field_names), \
        f"{response.status_code} without the form:\n{html[:2000]}"


GROUPS = {
    "accounts": ["sign-up", "login", "forgot password", "resend confirmation", "reset password",
                 "profile", "change password", "email preferences", "delete account",
                 "switch language"],
    "listings": ["new listing", "edit listing", "relist", "report listing"],
    "claims": ["claim", "accept claim", "decline claim", "claim message"],
    "wanted and alerts": ["wanted post", "answer wanted", "alert", "alert frequency"],
    "organisation admin": ["new site", "edit site", "member role", "deactivate member"],
    "platform admin": ["reject listing", "remove listing", "resolve reports",
                       "suspend organisation", "trust organisation", "deactivate user",
                       "user role", "delete user", "moderation reason",
                       "edit moderation reason", "watch-word", "synonyms", "edit synonyms",
                       "new category",
                       "edit category", "move category", "impact factor",
                       "new impact factor"],
}
EXAMPLES_PER_FORM = 10


def test_every_form_is_in_a_group():
    assert sorted(name for names in GROUPS.values() for name in names) == sorted(CASES)


@pytest.mark.parametrize("group", GROUPS)
def test_no_form_answers_anything_with_a_server_error(group, app, world):
    """The app and its rows are made once; hypothesis picks a form of the group per example."""
    names = GROUPS[group]

    @settings(FUZZ, max_examples=EXAMPLES_PER_FORM * len(names))
    @given(name=st.sampled_from(names), data=st.data())
    def post_anything(name, data):
        case = CASES[name]
        client = world.client_of(app, case.who)
        if case.before:
            case.before(world)
        fields = case.fields(world)
        posted = data.draw(form_data(fields), label="form")
        if case.files and data.draw(st.booleans(), label="with files"):
            posted["photos"] = [(BytesIO(content), filename)
                                for content, filename in data.draw(made_up_files, label="files")]
        response = client.post(case.url(world), data=posted)
        assert_answered_well(client, response, set(fields), case.button)

    post_anything()
