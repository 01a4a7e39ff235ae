"""The impact dashboard: figures of a period, CO₂e factors, charts, CSV exports, who sees what."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from helpers import YEAR, reload
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import (
    AuditEvent,
    Category,
    Claim,
    ClaimStatus,
    ImpactFactor,
    Language,
    ListingStatus,
    Role,
)
from marketplace.services import claims as claim_service
from marketplace.services import impact
from marketplace.services.charts import Bar, column_chart, row_chart
from marketplace.services.errors import DomainError, PermissionDenied
from marketplace.services.impact import Period, Preset, parse_period

pytestmark = pytest.mark.usefixtures("app")  # the builders need the app and its database



def at(day: date | str, hour: int = 12) -> datetime:
    day = date.fromisoformat(day) if isinstance(day, str) else day
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


@pytest.fixture
def collect():
    """A claim of `quantity` of `listing` by `organisation`, collected on `day` (or in
    another state), straight in the database."""

    def build(listing, organisation, quantity=1, day="2025-06-15", *,
              status=ClaimStatus.COLLECTED, created=None):
        moment = at(day)
        claim = Claim(listing=listing, claimant_organisation=organisation, quantity=quantity,
                      status=status, created_at=created or moment - timedelta(days=2),
                      collected_at=moment if status is ClaimStatus.COLLECTED else None)
        db.session.add(claim)
        db.session.commit()
        return claim

    return build


@pytest.fixture
def orgs(make_org):
    return make_org("Ziekenhuis Geeft"), make_org("Zorghuis Krijgt"), make_org("Kliniek Derde")


def listing_in(make_listing, organisation, category="furniture", weight="10", value="50",
               published="2025-03-01", **fields):
    listing = make_listing(organisation=organisation, category=category,
                           weight_per_unit_kg=Decimal(weight) if weight else None,
                           value_per_unit=Decimal(value) if value else None,
                           quantity=fields.pop("quantity", 100), **fields)
    listing.published_at = at(published) if published else None
    db.session.commit()
    return listing


def factor_of(slug: str | None) -> ImpactFactor:
    category_id = db.session.scalar(select(Category.id).where(Category.slug == slug)) \
        if slug else None
    return db.session.scalar(select(ImpactFactor).where(ImpactFactor.category_id == category_id))


# --- the figures -----------------------------------------------------------------------------

def test_only_collected_claims_inside_the_period_count(make_listing, orgs, collect):
    giver, receiver, _third = orgs
    chairs = listing_in(make_listing, giver)  # furniture: 10 kg, EUR 50 each, factor 1.05
    collect(chairs, receiver, 2, "2025-06-15")
    collect(chairs, receiver, 3, status=ClaimStatus.REQUESTED)
    collect(chairs, receiver, 4, status=ClaimStatus.ACCEPTED)
    collect(chairs, receiver, 5, status=ClaimStatus.CANCELLED)
    collect(chairs, receiver, 6, "2024-12-31")
    collect(chairs, receiver, 7, "2026-01-01")

    report = impact.impact_figures(YEAR)

    assert report.total.claims == 1
    assert report.total.items == report.items_given == report.items_received == 2
    assert report.total.kilograms == Decimal("20.000")
    assert report.total.euros == Decimal("100.00")
    assert report.total.co2e_kg == Decimal("21.000")
    assert (report.organisations_gave, report.organisations_received) == (1, 1)


def test_the_last_day_of_the_period_counts_until_midnight(make_listing, orgs, collect):
    giver, receiver, _third = orgs
    chairs = listing_in(make_listing, giver)
    late = collect(chairs, receiver, 1, "2025-12-31")
    late.collected_at = datetime(2025, 12, 31, 23, 59, tzinfo=UTC)
    db.session.commit()
    assert impact.impact_figures(YEAR).total.items == 1


def test_an_organisation_sees_what_it_gave_and_what_it_received(make_listing, orgs, collect):
    giver, receiver, third = orgs
    collect(listing_in(make_listing, giver), receiver, 3)
    collect(listing_in(make_listing, receiver, value="20"), giver, 2)
    collect(listing_in(make_listing, third), receiver, 5)  # not the giver's business

    mine = impact.impact_figures(YEAR, giver.id)
    platform = impact.impact_figures(YEAR)

    assert (mine.items_given, mine.items_received, mine.total.items) == (3, 2, 5)
    assert mine.given.kilograms == Decimal("30.000")
    assert mine.received.euros == Decimal("40.00")
    assert mine.total.euros == Decimal("190.00")
    # It received from one organisation and gave to one.
    assert (mine.organisations_gave, mine.organisations_received) == (1, 1)
    assert platform.items_given == platform.items_received == platform.total.items == 10
    assert (platform.organisations_gave, platform.organisations_received) == (3, 2)


def test_listings_posted_counts_publications_in_the_period(make_listing, orgs):
    giver, receiver, _third = orgs
    listing_in(make_listing, giver, published="2025-02-01")
    listing_in(make_listing, giver, published="2025-11-30")
    listing_in(make_listing, receiver, published="2025-05-05")
    listing_in(make_listing, giver, published="2024-12-31")
    listing_in(make_listing, giver, published=None, status=ListingStatus.DRAFT)

    assert impact.impact_figures(YEAR).listings_posted == 3
    assert impact.impact_figures(YEAR, giver.id).listings_posted == 2


def test_claims_without_a_weight_count_for_items_and_euros_but_not_kilograms(
        make_listing, orgs, collect):
    giver, receiver, _third = orgs
    collect(listing_in(make_listing, giver, weight=None, value="30"), receiver, 4)
    collect(listing_in(make_listing, giver, weight="2", value=None), receiver, 1)

    report = impact.impact_figures(YEAR)

    assert report.total.items == 5
    assert report.total.kilograms == Decimal("2.000")
    assert report.total.euros == Decimal("120.00")
    assert report.total.claims_without_weight == 1
    assert report.total.claims_without_value == 1


def test_months_without_claims_are_filled_with_zeros(make_listing, orgs, collect):
    giver, receiver, _third = orgs
    chairs = listing_in(make_listing, giver)
    collect(chairs, receiver, 2, "2025-02-10")
    collect(chairs, receiver, 1, "2025-02-28")
    collect(chairs, receiver, 4, "2025-05-01")

    months = impact.impact_figures(Period(date(2025, 1, 15), date(2025, 6, 30))).months

    assert [month.month for month in months] == [date(2025, number, 1) for number in range(1, 7)]
    assert [month.items for month in months] == [0, 3, 0, 0, 4, 0]
    assert months[1].kilograms == Decimal("30.000")
    assert months[4].co2e_kg == Decimal("42.000")
    assert months[4].euros == Decimal("200.00")


def test_time_to_first_claim_is_measured_from_publication(make_listing, orgs, collect):
    giver, receiver, _third = orgs
    published = at("2025-04-01", 8)
    for hours in (2, 6, 13):
        listing = listing_in(make_listing, giver)
        listing.published_at = published
        db.session.commit()
        collect(listing, receiver, status=ClaimStatus.REQUESTED,
                created=published + timedelta(hours=hours))
        collect(listing, receiver, status=ClaimStatus.CANCELLED,
                created=published + timedelta(hours=hours + 30))
    listing_in(make_listing, giver, published="2025-04-01")  # never claimed
    old = listing_in(make_listing, giver, published="2024-04-01")
    collect(old, receiver, status=ClaimStatus.REQUESTED, created=at("2024-06-01"))

    first = impact.impact_figures(YEAR).first_claim

    assert first.listings == 3
    assert first.median_hours == pytest.approx(6)
    assert first.mean_hours == pytest.approx(7)
    assert impact.impact_figures(YEAR, receiver.id).first_claim.median_hours is None


def test_the_median_of_an_even_number_is_the_mean_of_the_middle_two(
        make_listing, orgs, collect):
    giver, receiver, _third = orgs
    published = at("2025-04-01", 8)
    for hours in (1, 3, 5, 100):
        listing = listing_in(make_listing, giver)
        listing.published_at = published
        db.session.commit()
        collect(listing, receiver, status=ClaimStatus.REQUESTED,
                created=published + timedelta(hours=hours))
    assert impact.impact_figures(YEAR).first_claim.median_hours == pytest.approx(4)


def test_top_categories_show_five_and_the_rest_together(make_listing, orgs, collect):
    giver, receiver, _third = orgs
    slugs = ["furniture", "kitchen", "ppe", "cleaning", "activities", "linen-textiles", "other"]
    for quantity, slug in enumerate(slugs, start=1):
        collect(listing_in(make_listing, giver, category=slug), receiver, quantity)

    top = impact.impact_figures(YEAR).top["items"]

    assert [figure.category.slug if figure.category else None for figure in top] == \
        ["other", "linen-textiles", "activities", "cleaning", "ppe", None]
    assert top[-1].totals.items == 1 + 2


# --- CO₂e factors ----------------------------------------------------------------------------

def test_a_category_uses_its_own_factor_else_its_parents_else_the_floor(make_listing, orgs,
                                                                        collect):
    kitchen = db.session.scalar(select(Category).where(Category.slug == "kitchen"))
    ovens = Category(slug="ovens", name_nl="Ovens", name_en="Ovens", parent=kitchen)
    odd = Category(slug="odd", name_nl="Vreemd", name_en="Odd")
    db.session.add_all([ovens, odd])
    db.session.commit()
    office = db.session.scalar(select(Category).where(Category.slug == "office-furniture"))

    assert impact.factor_for(office).value == Decimal("2.6")
    assert impact.factor_for(ovens).value == Decimal("3.3")
    assert impact.factor_for(ovens).inherited_from == kitchen.id
    assert impact.factor_for(odd).value == Decimal("0.51")
    assert impact.factor_for(odd).floor

    giver, receiver, _third = orgs
    for slug in ("office-furniture", "ovens", "odd"):
        collect(listing_in(make_listing, giver, category=slug, weight="100"), receiver)
    assert impact.impact_figures(YEAR).total.co2e_kg == Decimal(260 + 330 + 51)


def test_changing_a_factor_changes_the_co2e_and_is_audited(make_listing, orgs, collect,
                                                          make_user):
    giver, receiver, _third = orgs
    collect(listing_in(make_listing, giver), receiver, 2)
    admin = make_user(role=Role.PLATFORM_ADMIN)

    impact.update_factor(admin, factor_of("furniture"), Decimal("2.5"), "Our own estimate [I]")

    assert impact.impact_figures(YEAR).total.co2e_kg == Decimal("50.000")
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "impact_factor.update"))
    assert "1.05 → 2.5" in event.reason
    assert event.actor_id == admin.id
    assert reload(factor_of("furniture")).source == "Our own estimate [I]"


@pytest.mark.parametrize(("value", "source", "field"), [
    ("-1", "x", "value"), ("100.5", "x", "value"), ("twee", "x", "value"),
    ("NaN", "x", "value"), ("", "x", "value"), ("2", "   ", "source"),
])
def test_a_factor_must_be_a_number_from_0_to_100_with_a_source(make_user, value, source,
                                                               field):
    admin = make_user(role=Role.PLATFORM_ADMIN)
    with pytest.raises(DomainError) as refused:
        impact.update_factor(admin, factor_of("furniture"), value, source)
    assert refused.value.field == field
    assert reload(factor_of("furniture")).kg_co2e_per_kg == Decimal("1.05")


@pytest.mark.parametrize("role", [Role.MEMBER, Role.ORG_ADMIN])
def test_only_platform_admins_change_factors(make_user, role):
    with pytest.raises(PermissionDenied):
        impact.update_factor(make_user(role=role), factor_of(None), "1", "mine")


def test_a_category_without_a_factor_can_get_one(make_user):
    admin = make_user(role=Role.PLATFORM_ADMIN)
    kitchen = db.session.scalar(select(Category).where(Category.slug == "kitchen"))
    ovens = Category(slug="ovens", name_nl="Ovens", name_en="Ovens", parent=kitchen)
    db.session.add(ovens)
    db.session.commit()
    assert ovens in impact.categories_without_factor()

    impact.set_factor(admin, ovens, "4,2", "Manufacturer's LCA [R]")

    assert impact.factor_for(ovens).value == Decimal("4.2")
    assert impact.factor_for(ovens).inherited_from is None
    assert ovens not in impact.categories_without_factor()
    assert any(row.category and row.category.slug == "ovens" and row.parent.slug == "kitchen"
               for row in impact.factors_in_use())


def test_the_factors_in_use_list_the_floor_last_with_its_source():
    rows = impact.factors_in_use()
    assert rows[-1].category is None
    assert rows[-1].value == Decimal("0.51")
    assert "Freegle" in rows[-1].source
    assert len(rows) == 19


# --- the period ------------------------------------------------------------------------------

TODAY = date(2026, 3, 18)


@pytest.mark.parametrize(("preset", "start", "end"), [
    ("this_month", date(2026, 3, 1), TODAY),
    ("last_12_months", date(2025, 4, 1), TODAY),
    ("this_year", date(2026, 1, 1), TODAY),
    ("last_year", date(2025, 1, 1), date(2025, 12, 31)),
])
def test_presets_cover_whole_months(preset, start, end):
    period, messages = parse_period({"period": preset}, TODAY)
    assert (period.start, period.end, period.preset.value, messages) == (start, end, preset, [])


def test_all_time_starts_at_the_first_publication(make_listing):
    listing = make_listing()
    listing.published_at = at("2024-02-29")
    db.session.commit()
    assert parse_period({"period": "all_time"}, TODAY)[0].start == date(2024, 2, 29)


def test_chosen_dates_are_used_as_given():
    period, messages = parse_period({"period": "custom", "from": "2025-02-03",
                                     "to": "2025-02-20"}, TODAY)
    assert (period.start, period.end, period.preset, messages) == \
        (date(2025, 2, 3), date(2025, 2, 20), Preset.CUSTOM, [])


@pytest.mark.parametrize("args", [
    {"period": "custom", "from": "2025-13-45"},
    {"from": "yesterday", "to": "2025-01-01"},
    {"period": "custom", "from": "1900-01-01"},
    {"period": "custom", "to": "99999-01-01"},
    {"period": "custom", "from": "2025-05-01", "to": "2025-04-01"},
])
def test_unusable_dates_fall_back_to_the_last_12_months_with_a_message(args):
    period, messages = parse_period(args, TODAY)
    assert (period.start, period.end) == (date(2025, 4, 1), TODAY)
    assert len(messages) == 1


def test_an_unknown_preset_is_the_default_without_a_message():
    assert parse_period({"period": "forever"}, TODAY) == \
        (Period(date(2025, 4, 1), TODAY, Preset.LAST_12_MONTHS), [])


def test_a_period_covers_at_most_ten_years():
    period, messages = parse_period({"from": "2001-01-01", "to": "2025-06-30"}, TODAY)
    assert period.start == date(2015, 7, 1)
    assert "10 years" in messages[0]


# --- charts ----------------------------------------------------------------------------------

def test_charts_escape_labels_and_describe_themselves():
    bars = [Bar("<script>alert(1)</script>", Decimal(3)), Bar('"quoted" & co', 5)]
    for chart in (row_chart(bars, title="A <b>title</b>", chart_id="c1"),
                  column_chart(bars, title="A <b>title</b>", chart_id="c2")):
        assert "<script>" not in chart
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in chart
        assert "&#34;quoted&#34; &amp; co" in chart
        assert 'role="img"' in chart and 'aria-label="A &lt;b&gt;title&lt;/b&gt;"' in chart
        assert "<title>A &lt;b&gt;title&lt;/b&gt;</title>" in chart
        assert "viewBox=" in chart and "style=" not in chart


def test_an_empty_chart_draws_nothing_tall():
    chart = column_chart([Bar("Jan", 0), Bar("Feb", 0)], title="Nothing", chart_id="c")
    assert 'height="0"' in chart


# --- pages -----------------------------------------------------------------------------------

@pytest.fixture
def people(orgs, make_user):
    giver, _receiver, third = orgs
    return {
        "member": make_user(organisation=giver),
        "org_admin": make_user(organisation=giver, role=Role.ORG_ADMIN),
        "other_org_admin": make_user(organisation=third, role=Role.ORG_ADMIN),
        "platform_admin": make_user(role=Role.PLATFORM_ADMIN),
    }


ORGANISATION_PATHS = ["/organisations/{id}/impact", "/organisations/{id}/impact.csv",
                      "/organisations/{id}/impact/claims.csv"]
ADMIN_PATHS = ["/admin/impact", "/admin/impact.csv", "/admin/impact/claims.csv",
               "/admin/impact/factors"]


@pytest.mark.parametrize("path", ORGANISATION_PATHS + ADMIN_PATHS)
@pytest.mark.parametrize(("who", "organisation_page", "admin_page"), [
    ("member", 403, 403),
    ("org_admin", 200, 403),
    ("other_org_admin", 403, 403),
    ("platform_admin", 200, 200),
])
def test_who_sees_the_impact_pages(client, login_as, orgs, people, path, who,
                                   organisation_page, admin_page):
    url = path.format(id=orgs[0].id)
    assert client.get(url).status_code == 302  # anonymous: to the login page
    assert "/auth/login" in client.get(url).headers["Location"]
    expected = organisation_page if path in ORGANISATION_PATHS else admin_page
    assert login_as(people[who]).get(url).status_code == expected


@pytest.mark.parametrize("path", [
    "/admin/impact/factors/1",
    "/admin/impact/factors/new",
])
@pytest.mark.parametrize("who", ["member", "org_admin"])
def test_only_platform_admins_post_factors(login_as, people, path, who):
    response = login_as(people[who]).post(path, data={"factor-1-value": "9"})
    assert response.status_code == 403
    assert factor_of("medical-aids").kg_co2e_per_kg == Decimal("3.3")


def test_an_unknown_organisation_is_404(login_as, people):
    admin = login_as(people["platform_admin"])
    for path in ORGANISATION_PATHS:
        assert admin.get(path.format(id=99999)).status_code == 404


def test_the_organisation_page_shows_its_figures_charts_and_factors(
        login_as, make_listing, orgs, people, collect):
    giver, receiver, _third = orgs
    collect(listing_in(make_listing, giver, title="Bureaustoelen"), receiver, 3,
            date.today().isoformat())
    collect(listing_in(make_listing, giver, weight=None), receiver, 1, date.today().isoformat())

    response = login_as(people["org_admin"]).get(f"/organisations/{giver.id}/impact")

    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'aria-current="page">Impact</a>' in html
    assert '<th scope="row">Kilograms passed on</th><td class="numeric">30 kg</td>' in html
    assert "1 collected claim had no weight" in html
    # Four month charts and the given side's top categories; it received nothing.
    assert html.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == 5
    assert '<div class="visually-hidden"><table>' in html
    assert "Freegle" in html  # the factors and their sources
    assert "Change the factors" not in html  # for platform admins only
    assert 'id="how-we-count"' in html
    assert "style=" not in html


def test_the_organisation_tabs_link_to_the_impact_page(login_as, orgs, people):
    giver = orgs[0]
    html = login_as(people["org_admin"]).get(f"/organisations/{giver.id}/members") \
        .get_data(as_text=True)
    assert f'href="/organisations/{giver.id}/impact"' in html


def test_a_category_named_script_is_escaped_on_the_page(login_as, make_listing, orgs, people,
                                                        collect):
    db.session.add(Category(slug="evil", name_nl="<script>alert(1)</script>",
                            name_en="<script>alert(1)</script>"))
    db.session.commit()
    giver, receiver, _third = orgs
    collect(listing_in(make_listing, giver, category="evil"), receiver, 2,
            date.today().isoformat())

    html = login_as(people["platform_admin"]).get("/admin/impact").get_data(as_text=True)

    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize("query", [
    "?period=custom&from=2025-13-45&to=nope",
    "?from=0001-01-01&to=9999-12-31",
    "?period=custom&from=2025-05-01&to=2025-01-01",
    "?period=%00&organisation=abc",
    "?organisation=99999&period=all_time",
    "?organisation=99999999999",
])
def test_bad_period_input_never_breaks_the_pages(login_as, people, orgs, query):
    admin = login_as(people["platform_admin"])
    for path in ("/admin/impact", "/admin/impact.csv", "/admin/impact/claims.csv",
                 f"/organisations/{orgs[0].id}/impact"):
        assert admin.get(path + query).status_code == 200


def test_a_bad_date_is_explained_on_the_page(login_as, people):
    html = login_as(people["platform_admin"]).get(
        "/admin/impact?period=custom&from=2025-02-30").get_data(as_text=True)
    assert "That is not a date we can use" in html


def test_the_admin_page_filters_by_organisation(login_as, make_listing, orgs, people, collect):
    giver, receiver, third = orgs
    collect(listing_in(make_listing, giver), receiver, 3, date.today().isoformat())
    collect(listing_in(make_listing, third), receiver, 5, date.today().isoformat())
    admin = login_as(people["platform_admin"])

    platform = admin.get("/admin/impact").get_data(as_text=True)
    one = admin.get(f"/admin/impact?organisation={giver.id}").get_data(as_text=True)

    assert "items reused, each hand-over counted once, in 2 collected claims" in platform
    assert f'<option value="{giver.id}" selected>' in one
    assert '<th scope="row">Kilograms passed on</th><td class="numeric">30 kg</td>' in one


# --- CSV -------------------------------------------------------------------------------------

def read_csv(response, delimiter=","):
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=delimiter))


def test_the_figures_csv_has_one_value_per_row(login_as, make_listing, orgs, people, collect):
    giver, receiver, _third = orgs
    collect(listing_in(make_listing, giver, category="office-furniture"), receiver, 2,
            "2025-03-10")

    response = login_as(people["org_admin"]).get(
        f"/organisations/{giver.id}/impact.csv?period=custom&from=2025-01-01&to=2025-06-30")

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="impact-organisation-{giver.id}-2025-01-01_2025-06-30.csv"')
    rows = read_csv(response)
    assert rows[0] == ["section", "key", "metric", "value", "unit", "label"]
    values = {(row[0], row[1], row[2]): row[3] for row in rows[1:]}
    assert values[("period", "start", "date")] == "2025-01-01"
    assert values[("figure", "", "items_given")] == "2"
    assert values[("figure", "", "items_received")] == "0"
    # One organisation's sides are never added: kilograms per side, CO₂e at the receiver.
    assert values[("given", "", "kilograms")] == "20.000"
    assert values[("received", "", "co2e_kg")] == "0"
    assert values[("month", "2025-03", "given_items")] == "2"
    assert values[("month", "2025-06", "given_items")] == "0"
    assert values[("category", "office-furniture", "given_kilograms")] == "20.000"
    assert sum(1 for row in rows if row[0] == "month") == 6 * (3 + 4)


def test_the_claims_csv_lists_collected_claims_and_defuses_formulas(
        login_as, make_listing, orgs, people, collect, make_org):
    giver, receiver, third = orgs
    sneaky = make_org("=cmd|' /C calc'!A0")
    collect(listing_in(make_listing, giver, title="=HYPERLINK(\"http://evil\")"), sneaky, 2,
            "2025-03-10")
    collect(listing_in(make_listing, giver, title="@SUM(1+1)", weight=None), receiver, 1,
            "2025-03-11")
    collect(listing_in(make_listing, giver), receiver, 9, status=ClaimStatus.ACCEPTED)
    collect(listing_in(make_listing, third, title="Not ours"), receiver, 4, "2025-03-12")

    response = login_as(people["org_admin"]).get(
        f"/organisations/{giver.id}/impact/claims.csv?period=last_year&from=x")

    rows = read_csv(response)
    assert rows[0][:5] == ["collected_on", "claim_id", "listing_id", "listing_title",
                           "category"]
    assert len(rows) == 3
    first, second = rows[1], rows[2]
    assert first[0] == "2025-03-10"
    assert first[3] == "'=HYPERLINK(\"http://evil\")"
    assert first[6] == "'=cmd|' /C calc'!A0"
    assert first[7:] == ["2", "piece", "20.000", "100.00", "21.000", "1.050"]
    assert second[3] == "'@SUM(1+1)"
    assert second[9] == ""  # no weight
    assert "Not ours" not in response.get_data(as_text=True)


def test_the_platform_claims_csv_has_every_collected_claim(login_as, make_listing, orgs,
                                                           people, collect):
    giver, receiver, third = orgs
    collect(listing_in(make_listing, giver), receiver, 1, date.today().isoformat())
    collect(listing_in(make_listing, third), giver, 1, date.today().isoformat())
    rows = read_csv(login_as(people["platform_admin"]).get("/admin/impact/claims.csv"))
    assert len(rows) == 3


def test_dutch_csv_uses_semicolons_and_decimal_commas(login_as, make_listing, orgs, make_user,
                                                      collect):
    giver, receiver, _third = orgs
    collect(listing_in(make_listing, giver, weight="1.5"), receiver, 1, date.today().isoformat())
    dutch_admin = make_user(organisation=giver, role=Role.ORG_ADMIN, language=Language.NL)

    rows = read_csv(login_as(dutch_admin).get(f"/organisations/{giver.id}/impact/claims.csv"),
                    delimiter=";")

    assert rows[1][9] == "1,500"


# --- editing factors through the page --------------------------------------------------------

def test_a_platform_admin_changes_a_factor_on_the_factors_page(login_as, people):
    admin = login_as(people["platform_admin"])
    factor = factor_of("kitchen")
    page = admin.get("/admin/impact/factors").get_data(as_text=True)
    assert f'name="factor-{factor.id}-value"' in page

    response = admin.post(f"/admin/impact/factors/{factor.id}",
                          data={f"factor-{factor.id}-value": "3,4",
                                f"factor-{factor.id}-source": "Updated [I]"})

    assert response.status_code == 302
    assert reload(factor).kg_co2e_per_kg == Decimal("3.4")


def test_a_bad_factor_answers_422_and_keeps_the_input(login_as, people):
    admin = login_as(people["platform_admin"])
    factor = factor_of("kitchen")
    response = admin.post(f"/admin/impact/factors/{factor.id}",
                          data={f"factor-{factor.id}-value": "250",
                                f"factor-{factor.id}-source": "Typo"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Give a number from 0 to 100" in html
    assert 'value="250"' in html
    assert reload(factor).kg_co2e_per_kg == Decimal("3.3")


def test_a_platform_admin_gives_a_category_a_factor_of_its_own(login_as, people):
    kitchen = db.session.scalar(select(Category).where(Category.slug == "kitchen"))
    ovens = Category(slug="ovens", name_nl="Ovens", name_en="Ovens", parent=kitchen)
    db.session.add(ovens)
    db.session.commit()
    admin = login_as(people["platform_admin"])

    bad = admin.post("/admin/impact/factors/new", data={
        "new-category": str(ovens.id), "new-value": "abc", "new-source": "LCA"})
    good = admin.post("/admin/impact/factors/new", data={
        "new-category": str(ovens.id), "new-value": "4.5", "new-source": "LCA [R]"})

    assert bad.status_code == 422
    assert good.status_code == 302
    assert factor_of("ovens").kg_co2e_per_kg == Decimal("4.5")


# --- the real claim flow ---------------------------------------------------------------------

def test_a_claim_collected_through_the_claim_flow_counts_today(make_listing, orgs, make_user):
    giver, receiver, _third = orgs
    poster = make_user(organisation=giver)
    claimant = make_user(organisation=receiver)
    listing = make_listing(organisation=giver, created_by=poster, quantity=5,
                           weight_per_unit_kg=Decimal("12.5"), value_per_unit=Decimal("80"))
    claim = claim_service.claim_listing(claimant, listing, 2)
    claim_service.accept_claim(poster, claim)
    claim_service.mark_collected(claimant, claim)

    report = impact.impact_figures(Period.from_preset(Preset.THIS_MONTH))

    assert (report.total.items, report.total.kilograms, report.total.euros) == \
        (2, Decimal("25.000"), Decimal("160.00"))
    assert report.listings_posted == 1
    assert report.first_claim.listings == 1
