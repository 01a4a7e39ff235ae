"""Platform admins add, rename, move, retire and delete categories; a category in use is only
retired, never deleted."""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from builders import fields_in_error, listing_details, post_listing
from helpers import PASSWORD, csrf_token, reload
from sqlalchemy import event, func, select

from marketplace.extensions import db
from marketplace.models import (
    Alert,
    AuditEvent,
    Category,
    ImpactFactor,
    Language,
    Listing,
    ListingStatus,
    Role,
    Wanted,
)
from marketplace.services import categories as category_service
from marketplace.services.errors import DomainError, PermissionDenied
from marketplace.services.listings import PhotoChanges, create_listing
from marketplace.services.search import SearchQuery, search_listings


def category(slug: str) -> Category:
    found = db.session.scalar(select(Category).where(Category.slug == slug))
    assert found is not None, slug
    return found


def top_level_slugs() -> list[str]:
    return list(db.session.scalars(select(Category.slug).where(Category.parent_id.is_(None))
                                   .order_by(Category.position, Category.id)))


def child_slugs(parent: str) -> list[str]:
    return list(db.session.scalars(select(Category.slug)
                                   .where(Category.parent_id == category(parent).id)
                                   .order_by(Category.position, Category.id)))


def audit_actions(target: Category | int) -> list[str]:
    target_id = target if isinstance(target, int) else target.id
    return list(db.session.scalars(
        select(AuditEvent.action).where(AuditEvent.target_type == "category",
                                        AuditEvent.target_id == target_id)
        .order_by(AuditEvent.id)))


def option_labels(html: str, select_name: str) -> dict[int, str]:
    block = re.search(rf'<select[^>]*name="{select_name}"[^>]*>(.*?)</select>', html, re.S)
    assert block, select_name
    return {int(value): label.strip() for value, label in
            re.findall(r'<option[^>]*value="(\d+)"[^>]*>([^<]*)</option>', block.group(1))}


def row_of(page: str, slug: str) -> str:
    row = re.search(rf'id="category-{category(slug).id}".*?</li>', page, re.S)
    assert row, slug
    return row.group(0)


@pytest.fixture
def admin(app, make_user):
    return make_user(role=Role.PLATFORM_ADMIN, name="Ada Admin")


@pytest.fixture
def admin_client(admin, login_as):
    return login_as(admin)


# --- adding ---------------------------------------------------------------------------------

def test_a_new_category_gets_an_ascii_slug_and_goes_last(app, admin):
    added = category_service.add_category(admin, "Rolstoelen & scootmobielen",
                                          "  Wheelchairs & Scooters (électrique) ")
    assert added.slug == "wheelchairs-scooters-electrique"
    assert added.name_en == "Wheelchairs & Scooters (électrique)"
    assert top_level_slugs()[-1] == added.slug
    assert audit_actions(added) == ["category.add"]


def test_slugs_are_made_unique_with_a_number(app, admin):
    under_medical = category_service.add_category(admin, "Meubels", "Furniture",
                                                  category("medical-aids").id)
    under_kitchen = category_service.add_category(admin, "Meubels", "Furniture",
                                                  category("kitchen").id)
    assert (under_medical.slug, under_kitchen.slug) == ("furniture-2", "furniture-3")
    assert child_slugs("kitchen") == ["furniture-3"]


def test_a_name_without_letters_still_gets_a_slug(app, admin):
    assert category_service.add_category(admin, "€€€", "€€€").slug == "category"


@pytest.mark.parametrize(("name_nl", "name_en", "field"), [
    ("Zorgbedden", "Beds for care", "name_nl"),  # an existing Dutch name
    ("zorgBEDDEN", "Beds for care", "name_nl"),
    ("Bedden", "CARE BEDS", "name_en"),
    ("", "Beds", "name_nl"),
    ("Bedden", "   ", "name_en"),
    ("B" * 81, "Beds", "name_nl"),
    ("Bedden", "B" * 81, "name_en"),
])
def test_names_are_required_short_and_unique_among_siblings(app, admin, name_nl, name_en,
                                                            field):
    count = db.session.scalar(select(func.count(Category.id)))
    with pytest.raises(DomainError) as refused:
        category_service.add_category(admin, name_nl, name_en)
    assert refused.value.field == field
    db.session.rollback()
    assert db.session.scalar(select(func.count(Category.id))) == count


def test_the_same_name_may_be_used_under_another_parent(app, admin):
    added = category_service.add_category(admin, "Wondzorg", "Wound care",
                                          category("medical-aids").id)
    assert added.parent_id == category("medical-aids").id


def test_categories_go_two_levels_deep_at_most(app, admin):
    with pytest.raises(DomainError, match="two levels") as refused:
        category_service.add_category(admin, "Rollators", "Rollators", category("mobility").id)
    assert refused.value.field == "parent"


def test_nothing_is_added_under_a_retired_category(app, admin):
    category_service.set_category_retired(admin, category("kitchen"), True)
    with pytest.raises(DomainError, match="retired"):
        category_service.add_category(admin, "Pannen", "Pans", category("kitchen").id)


def test_an_admin_adds_a_category_through_the_page(admin_client):
    response = admin_client.post("/admin/categories", data={
        "name_nl": "Sondevoeding", "name_en": "Tube feeding",
        "parent": str(category("consumables").id)})
    assert response.status_code == 302
    assert child_slugs("consumables")[-1] == "tube-feeding"
    page = admin_client.get("/admin/categories").get_data(as_text=True)
    assert "Tube feeding" in page and "Sondevoeding" in page and "tube-feeding" in page


@pytest.mark.parametrize(("data", "message"), [
    ({"name_nl": "", "name_en": "Beds", "parent": ""}, "Enter the Dutch name."),
    ({"name_nl": "Zorgbedden", "name_en": "Beds", "parent": ""},
     "There is a category named Zorgbedden here already."),
    ({"name_nl": "Bedden", "name_en": "Beds", "parent": "abc"}, "Not a valid choice"),
    ({"name_nl": "Bedden", "name_en": "Beds", "parent": "999999"}, "Not a valid choice"),
    ({"name_nl": "Bedden", "name_en": "Beds", "parent": "99999999999999999999999"},
     "Not a valid choice"),
    ({"name_nl": "Bedden", "name_en": "B" * 200, "parent": ""}, "80"),
])
def test_a_refused_category_form_answers_422_and_keeps_the_input(admin_client, data, message):
    count = db.session.scalar(select(func.count(Category.id)))
    response = admin_client.post("/admin/categories", data=data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert message in html
    assert f'value="{data["name_en"]}"' in html
    assert db.session.scalar(select(func.count(Category.id))) == count


def test_only_top_level_categories_are_offered_as_parent(admin_client):
    html = admin_client.get("/admin/categories").get_data(as_text=True)
    offered = option_labels(html, "parent")
    assert category("medical-aids").id in offered
    assert category("mobility").id not in offered


# --- renaming -------------------------------------------------------------------------------

def test_renaming_shows_the_new_name_in_each_members_language(app, admin, make_user,
                                                               login_as):
    beds = category("care-beds")
    category_service.rename_category(admin, beds, "Hoog-laagbedden", "Adjustable beds")
    assert audit_actions(beds) == ["category.rename"]
    assert reload(beds).slug == "care-beds"

    dutch = login_as(make_user(language=Language.NL))
    english = login_as(make_user(language=Language.EN))
    assert option_labels(dutch.get("/listings/new").get_data(as_text=True),
                         "category")[beds.id] == "Hoog-laagbedden"
    assert option_labels(english.get("/listings/new").get_data(as_text=True),
                         "category")[beds.id] == "Adjustable beds"
    assert option_labels(dutch.get("/listings/").get_data(as_text=True),
                         "category")[beds.id] == "Hoog-laagbedden"
    assert option_labels(english.get("/listings/").get_data(as_text=True),
                         "category")[beds.id] == "Adjustable beds"


def test_renaming_checks_the_names_but_not_against_itself(app, admin):
    beds = category("care-beds")
    category_service.rename_category(admin, beds, "ZORGBEDDEN", "Care beds")
    assert reload(beds).name_nl == "ZORGBEDDEN"
    with pytest.raises(DomainError) as refused:
        category_service.rename_category(admin, beds, "Meubilair", "Beds")
    assert refused.value.field == "name_nl"


def test_an_admin_renames_through_the_edit_page(admin_client):
    beds = category("care-beds")
    page = admin_client.get(f"/admin/categories/{beds.id}/edit")
    assert page.status_code == 200
    assert 'value="Zorgbedden"' in page.get_data(as_text=True)
    response = admin_client.post(f"/admin/categories/{beds.id}/edit",
                                 data={"name_nl": "Bedden", "name_en": "Beds"})
    assert response.status_code == 302
    assert (reload(beds).name_nl, beds.name_en) == ("Bedden", "Beds")

    refused = admin_client.post(f"/admin/categories/{beds.id}/edit",
                                data={"name_nl": "Meubilair", "name_en": "Some beds"})
    assert refused.status_code == 422
    assert 'value="Some beds"' in refused.get_data(as_text=True)


# --- moving ---------------------------------------------------------------------------------

def test_a_category_cannot_go_under_itself_or_its_subcategory(app, admin):
    medical = category("medical-aids")
    for parent in (medical, category("mobility")):
        with pytest.raises(DomainError, match="under itself") as refused:
            category_service.move_category(admin, medical, parent.id)
        assert refused.value.field == "parent"


def test_a_category_with_subcategories_stays_at_the_top_level(app, admin):
    with pytest.raises(DomainError, match="two levels"):
        category_service.move_category(admin, category("medical-aids"), category("kitchen").id)
    with pytest.raises(DomainError, match="two levels"):
        category_service.move_category(admin, category("kitchen"), category("mobility").id)


def test_a_subcategory_moves_to_another_parent_and_to_the_top_level(app, admin):
    lifting = category("lifting")
    category_service.move_category(admin, lifting, category("care-beds").id)
    assert child_slugs("care-beds") == ["lifting"]
    assert child_slugs("medical-aids") == ["mobility", "monitoring"]

    category_service.move_category(admin, lifting, None, position=1)
    assert top_level_slugs()[:2] == ["lifting", "medical-aids"]
    assert audit_actions(lifting) == ["category.move", "category.move"]


def test_position_orders_siblings(app, admin):
    category_service.move_category(admin, category("monitoring"), category("medical-aids").id,
                                   position=1)
    assert child_slugs("medical-aids") == ["monitoring", "mobility", "lifting"]
    category_service.move_category(admin, category("monitoring"), category("medical-aids").id,
                                   position=99)
    assert child_slugs("medical-aids") == ["mobility", "lifting", "monitoring"]


def test_up_and_down_buttons_reorder_siblings(admin_client):
    kitchen = category("kitchen")
    before = top_level_slugs()
    at = before.index("kitchen")
    assert admin_client.post(f"/admin/categories/{kitchen.id}/up").status_code == 302
    assert top_level_slugs()[at - 1:at + 1] == ["kitchen", before[at - 1]]
    admin_client.post(f"/admin/categories/{kitchen.id}/down")
    admin_client.post(f"/admin/categories/{kitchen.id}/down")
    assert top_level_slugs()[at:at + 2] == [before[at + 1], "kitchen"]
    assert audit_actions(kitchen) == ["category.move"] * 3


def test_the_first_cannot_move_up_nor_the_last_down(admin_client):
    page = admin_client.get("/admin/categories").get_data(as_text=True)
    first, last = category(top_level_slugs()[0]), category(top_level_slugs()[-1])
    assert f"/admin/categories/{first.id}/up" not in page
    assert f"/admin/categories/{first.id}/down" in page
    assert f"/admin/categories/{last.id}/down" not in page
    admin_client.post(f"/admin/categories/{first.id}/up")
    assert top_level_slugs()[0] == first.slug
    assert audit_actions(first) == []


def test_the_move_form_puts_a_category_under_another(admin_client):
    wound_care = category("wound-care")
    page = admin_client.get(f"/admin/categories/{wound_care.id}/edit").get_data(as_text=True)
    assert category("consumables").id in option_labels(page, "parent")
    response = admin_client.post(f"/admin/categories/{wound_care.id}/move",
                                 data={"parent": str(category("medical-aids").id),
                                       "position": "2"})
    assert response.status_code == 302
    assert child_slugs("medical-aids") == ["mobility", "wound-care", "lifting", "monitoring"]


@pytest.mark.parametrize("data", [
    {"parent": "abc"}, {"parent": "999999"}, {"parent": "", "position": "0"},
    {"parent": "", "position": "many"},
])
def test_a_refused_move_form_answers_422(admin_client, data):
    wound_care = category("wound-care")
    response = admin_client.post(f"/admin/categories/{wound_care.id}/move", data=data)
    assert response.status_code == 422
    assert reload(wound_care).parent_id == category("consumables").id


def test_a_refused_move_is_explained_on_the_form(admin_client):
    medical = category("medical-aids")
    response = admin_client.post(f"/admin/categories/{medical.id}/move",
                                 data={"parent": str(category("kitchen").id)})
    assert response.status_code == 422
    assert "at most two levels" in response.get_data(as_text=True)
    assert reload(medical).parent_id is None


# --- retiring -------------------------------------------------------------------------------

def test_retiring_takes_a_category_off_the_posting_form_but_its_listings_stay_findable(
        app, admin, make_user, make_listing, login_as):
    beds = category("care-beds")
    listing = make_listing("Hoog-laagbed Volker", category="care-beds")
    category_service.set_category_retired(admin, beds, True)
    assert audit_actions(beds) == ["category.retire"]

    member = login_as(make_user())
    assert beds.id not in option_labels(member.get("/listings/new").get_data(as_text=True),
                                        "category")
    found = search_listings(None, SearchQuery(category_id=beds.id)).listings
    assert [item.id for item in found] == [listing.id]
    search_page = member.get(f"/listings/?category={beds.id}").get_data(as_text=True)
    assert beds.id in option_labels(search_page, "category")
    assert "Hoog-laagbed Volker" in search_page
    assert listing.title in member.get("/listings/?q=Volker").get_data(as_text=True)
    assert reload(listing).category_id == beds.id


def test_a_retired_category_without_published_listings_leaves_the_search_filter(
        app, admin, make_listing, client):
    make_listing(category="kitchen", status=ListingStatus.CLOSED)
    category_service.set_category_retired(admin, category("kitchen"), True)
    assert category("kitchen").id not in option_labels(
        client.get("/listings/").get_data(as_text=True), "category")


def test_a_retired_category_takes_no_new_listings(app, admin, make_user, login_as):
    kitchen = category("kitchen")  # not a medical one, whose form asks for a device passport
    member = make_user()
    client = login_as(member)
    assert post_listing(client, member, category=str(kitchen.id)).status_code == 302  # valid
    category_service.set_category_retired(admin, kitchen, True)

    response = post_listing(client, member, category=str(kitchen.id), title="Nog een pan")

    assert response.status_code == 422
    assert fields_in_error(response.get_data(as_text=True)) == ["category"]
    assert db.session.scalar(select(func.count(Listing.id))) == 1


def test_the_listing_service_refuses_a_retired_category(app, admin, make_user):
    """The form offers no retired category; the rule itself is the service's."""
    beds = category("care-beds")
    member = make_user()
    category_service.set_category_retired(admin, beds, True)
    with pytest.raises(DomainError) as refusal:
        create_listing(member, listing_details(member, category_id=beds.id), PhotoChanges(),
                       submit=False)
    assert refusal.value.field == "category"
    assert db.session.scalar(select(func.count(Listing.id))) == 0


def test_retiring_a_parent_retires_its_children(app, admin):
    medical = category("medical-aids")
    category_service.set_category_retired(admin, category("lifting"), True)
    category_service.set_category_retired(admin, medical, True)
    assert all(child.retired for child in reload(medical).children)
    assert audit_actions(category("mobility")) == ["category.retire"]
    assert audit_actions(category("lifting")) == ["category.retire"]  # retired once only


def test_a_child_of_a_retired_parent_cannot_be_restored_before_it(app, admin):
    medical, mobility = category("medical-aids"), category("mobility")
    category_service.set_category_retired(admin, medical, True)
    with pytest.raises(DomainError, match="restore Medical aids first"):
        category_service.set_category_retired(admin, mobility, False)
    category_service.set_category_retired(admin, medical, False)
    category_service.set_category_retired(admin, mobility, False)
    assert not reload(medical).retired and not reload(mobility).retired
    assert category("lifting").retired  # restored one by one
    assert audit_actions(mobility) == ["category.retire", "category.restore"]


def test_retiring_twice_is_refused(app, admin):
    category_service.set_category_retired(admin, category("kitchen"), True)
    with pytest.raises(DomainError, match="retired already"):
        category_service.set_category_retired(admin, category("kitchen"), True)
    with pytest.raises(DomainError, match="not retired"):
        category_service.set_category_retired(admin, category("cleaning"), False)


def test_an_active_category_cannot_move_under_a_retired_one(app, admin):
    category_service.set_category_retired(admin, category("kitchen"), True)
    with pytest.raises(DomainError, match="retired"):
        category_service.move_category(admin, category("wound-care"), category("kitchen").id)


def test_retire_and_restore_buttons(admin_client):
    kitchen = category("kitchen")
    admin_client.post(f"/admin/categories/{kitchen.id}/retire")
    assert reload(kitchen).retired
    page = admin_client.get("/admin/categories").get_data(as_text=True)
    assert "Restore Kitchen" in page and "Retire Kitchen" not in page
    admin_client.post(f"/admin/categories/{kitchen.id}/restore")
    assert not reload(kitchen).retired


def test_restoring_a_child_of_a_retired_parent_is_explained(admin_client):
    medical, mobility = category("medical-aids"), category("mobility")
    admin_client.post(f"/admin/categories/{medical.id}/retire")
    response = admin_client.post(f"/admin/categories/{mobility.id}/restore",
                                 follow_redirects=True)
    assert response.status_code == 200
    assert "restore Medical aids first" in response.get_data(as_text=True)
    assert reload(mobility).retired


# --- deleting -------------------------------------------------------------------------------

def _use_by_listing(make_user, make_listing, slug):
    make_listing(category=slug, status=ListingStatus.CLOSED)


def _use_by_alert(make_user, make_listing, slug):
    db.session.add(Alert(user=make_user(), words="stoel", category_id=category(slug).id))
    db.session.commit()


def _use_by_wanted(make_user, make_listing, slug):
    member = make_user()
    db.session.add(Wanted(author=member, organisation=member.organisation, title="Stoelen",
                          needed_by=date.today() + timedelta(days=10),
                          category_id=category(slug).id))
    db.session.commit()


@pytest.mark.parametrize(("use", "reason"), [
    (_use_by_listing, "1 listing uses it"),
    (_use_by_alert, "1 alert uses it"),
    (_use_by_wanted, "1 wanted post uses it"),
])
def test_a_category_in_use_cannot_be_deleted(app, admin, make_user, make_listing, use,
                                              reason):
    use(make_user, make_listing, "office-furniture")
    with pytest.raises(DomainError, match="Retire it instead") as refused:
        category_service.delete_category(admin, category("office-furniture"))
    assert reason in refused.value.message
    db.session.rollback()
    assert category("office-furniture") is not None
    assert audit_actions(category("office-furniture")) == []


def test_a_category_with_subcategories_cannot_be_deleted(app, admin, make_listing):
    for _ in range(2):
        make_listing(category="furniture")
    with pytest.raises(DomainError) as refused:
        category_service.delete_category(admin, category("furniture"))
    assert refused.value.message == (
        "Furniture cannot be deleted: 2 listings use it; it has 2 subcategories. Retire it "
        "instead: it then takes no new listings.")


def test_an_unused_category_is_deleted_with_its_impact_factor(app, admin):
    added = category_service.add_category(admin, "Rolstoelkussens", "Wheelchair cushions",
                                          category("medical-aids").id)
    db.session.add(ImpactFactor(category_id=added.id, kg_co2e_per_kg=Decimal("2.5")))
    db.session.commit()
    added_id = added.id
    category_service.delete_category(admin, added)
    assert db.session.get(Category, added_id) is None
    assert db.session.scalar(select(ImpactFactor).where(
        ImpactFactor.category_id == added_id)) is None
    assert db.session.scalar(select(ImpactFactor).where(
        ImpactFactor.category_id.is_(None))) is not None  # the floor stays
    assert audit_actions(added_id) == ["category.add", "category.delete"]
    assert child_slugs("medical-aids") == ["mobility", "lifting", "monitoring"]


def test_the_delete_button_is_only_offered_when_allowed(admin_client, make_listing):
    make_listing(category="office-furniture")
    page = admin_client.get("/admin/categories").get_data(as_text=True)
    office, lifting = category("office-furniture"), category("lifting")
    assert f"/admin/categories/{office.id}/delete" not in page
    assert f"/admin/categories/{lifting.id}/delete" in page

    refused = admin_client.post(f"/admin/categories/{office.id}/delete", follow_redirects=True)
    assert "1 listing uses it" in refused.get_data(as_text=True)
    assert db.session.get(Category, office.id) is not None
    lifting_id = lifting.id
    admin_client.post(f"/admin/categories/{lifting_id}/delete")
    db.session.expire_all()
    assert db.session.get(Category, lifting_id) is None


# --- the list -------------------------------------------------------------------------------

def test_the_list_shows_both_names_slug_counts_and_retired_badge(admin_client, admin,
                                                                 make_listing):
    for _ in range(3):
        make_listing(category="mobility")
    category_service.set_category_retired(admin, category("kitchen"), True)
    page = admin_client.get("/admin/categories").get_data(as_text=True)
    mobility_row = row_of(page, "mobility")
    assert "Walkers and wheelchairs" in mobility_row
    assert "Loophulpmiddelen en rolstoelen" in mobility_row
    assert "3 listings" in mobility_row
    assert "Retired" in row_of(page, "kitchen")
    assert "Retired" not in row_of(page, "cleaning")


def test_the_list_takes_the_same_queries_however_many_categories(app, admin, admin_client,
                                                                 make_listing):
    def queries() -> int:
        statements: list[str] = []

        def count(*args: object) -> None:
            statements.append(str(args[2]))

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert admin_client.get("/admin/categories").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(statements)

    before = queries()
    for number in range(5):
        added = category_service.add_category(admin, f"Groep {number}", f"Group {number}",
                                              category("kitchen").id)
        make_listing(category=added.slug)
    assert queries() == before


# --- who may ------------------------------------------------------------------------------

ROUTES = [
    ("get", "/admin/categories"), ("post", "/admin/categories"),
    ("get", "/admin/categories/{id}/edit"), ("post", "/admin/categories/{id}/edit"),
    ("post", "/admin/categories/{id}/move"), ("post", "/admin/categories/{id}/up"),
    ("post", "/admin/categories/{id}/down"), ("post", "/admin/categories/{id}/retire"),
    ("post", "/admin/categories/{id}/restore"), ("post", "/admin/categories/{id}/delete"),
]


@pytest.mark.parametrize("role", [Role.MEMBER, Role.ORG_ADMIN])
@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_only_platform_admins_manage_categories(make_user, login_as, role, method, path):
    lifting = category("lifting")
    client = login_as(make_user(role=role))
    response = getattr(client, method)(path.format(id=lifting.id), data={
        "name_nl": "Weg", "name_en": "Gone", "parent": ""})
    assert response.status_code == 403
    assert db.session.get(Category, lifting.id) is not None
    assert audit_actions(lifting) == []


@pytest.mark.parametrize(("method", "path"), ROUTES[:2])
def test_visitors_are_sent_to_log_in(client, method, path):
    response = getattr(client, method)(path)
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("call", [
    lambda actor: category_service.add_category(actor, "Nieuw", "New"),
    lambda actor: category_service.rename_category(actor, category("kitchen"), "K", "K"),
    lambda actor: category_service.move_category(actor, category("kitchen"), None, 1),
    lambda actor: category_service.set_category_retired(actor, category("kitchen"), True),
    lambda actor: category_service.delete_category(actor, category("lifting")),
])
@pytest.mark.parametrize("role", [Role.MEMBER, Role.ORG_ADMIN])
def test_the_services_refuse_anyone_but_platform_admins(app, make_user, call, role):
    with pytest.raises(PermissionDenied):
        call(make_user(role=role))


@pytest.mark.parametrize(("method", "path"), [
    (method, path) for method, path in ROUTES if "{id}" in path])
def test_an_unknown_category_is_404(admin_client, method, path):
    assert getattr(admin_client, method)(path.format(id=999999)).status_code == 404


def test_a_forged_button_without_csrf_is_refused(make_app, make_user, login_as):
    app = make_app(WTF_CSRF_ENABLED=True)
    with app.app_context():
        admin = make_user(role=Role.PLATFORM_ADMIN)
        client = app.test_client()
        login_page = client.get("/auth/login").get_data(as_text=True)
        token = csrf_token(login_page)
        client.post("/auth/login", data={"email": admin.email, "password": PASSWORD,
                                         "csrf_token": token})
        kitchen = category("kitchen")
        response = client.post(f"/admin/categories/{kitchen.id}/retire")
        assert response.status_code == 400
        assert not reload(kitchen).retired


def test_an_absurdly_large_category_id_is_404_not_500(admin_client):
    assert admin_client.get("/admin/categories/99999999999999999999999/edit").status_code == 404
    assert admin_client.post("/admin/categories/9223372036854775808/retire").status_code == 404
