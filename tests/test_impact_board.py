"""The figures a board reads: one organisation's received and given side by side and never
added, the platform counting each hand-over once, and how well it works (claim rate, times to
the first claim and collection, expired without a taker), each checked against a count made by
hand on one set of hand-overs."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from types import SimpleNamespace

import pytest
from helpers import YEAR, YEAR_ARGS
from language_leaks import leaks, visible_text
from sqlalchemy import event

from marketplace.extensions import db
from marketplace.models import Claim, ClaimStatus, Language, ListingStatus, Role
from marketplace.services import impact

pytestmark = pytest.mark.usefixtures("app")



def at(day: str, hour: int = 12) -> datetime:
    moment = date.fromisoformat(day)
    return datetime(moment.year, moment.month, moment.day, hour, tzinfo=UTC)


@pytest.fixture
def world(make_org, make_listing):
    """X and Y give to each other; Z only asks. Furniture: 10 kg and EUR 50 a piece, factor
    1.05; office furniture: 20 kg and EUR 100 a piece, factor 2.6. Published in 2025 (noon):

    L1 X furniture 1 Mar: Y asks at 16:00 (4 h) for 2, collected 3 Mar (48 h); Y asks again
       2 Mar for 3, collected 1 Apr (collected in two claims); Z's claim is cancelled.
    L2 Y office 1 May: Z asks at 14:00 (2 h), declined; X asks 2 May (24 h) for 1, collected
       11 May (240 h).
    L3 X furniture 1 Jun, expired: Z asks at 18:00 (6 h) and cancels; nobody took it.
    L4 Y furniture 1 Jul: X asks at 13:00 (1 h), accepted, not collected yet.
    L5 X office 1 Aug: no claim.
    L0 X furniture, published 1 Dec 2024: Y collects 1 on 10 Jan 2025 (a 2025 hand-over of
       a listing not published in 2025).
    """
    x, y, z = make_org("Ziekenhuis X"), make_org("Zorghuis Y"), make_org("Kliniek Z")

    def listing(owner, category, published, status=ListingStatus.PUBLISHED):
        weight, value = ("10", "50") if category == "furniture" else ("20", "100")
        made = make_listing(organisation=owner, category=category, status=status, quantity=10,
                            weight_per_unit_kg=Decimal(weight), value_per_unit=Decimal(value))
        made.published_at = at(published)
        db.session.commit()
        return made

    def claim(listing_, taker, status, created, quantity=1, collected=None):
        db.session.add(Claim(listing=listing_, claimant_organisation=taker, quantity=quantity,
                             status=status, created_at=created,
                             collected_at=at(collected) if collected else None))
        db.session.commit()

    l1 = listing(x, "furniture", "2025-03-01")
    claim(l1, y, ClaimStatus.COLLECTED, at("2025-03-01", 16), 2, "2025-03-03")
    claim(l1, y, ClaimStatus.COLLECTED, at("2025-03-02"), 3, "2025-04-01")
    claim(l1, z, ClaimStatus.CANCELLED, at("2025-03-05"))
    l2 = listing(y, "office-furniture", "2025-05-01")
    claim(l2, z, ClaimStatus.DECLINED, at("2025-05-01", 14))
    claim(l2, x, ClaimStatus.COLLECTED, at("2025-05-02"), 1, "2025-05-11")
    l3 = listing(x, "furniture", "2025-06-01", ListingStatus.EXPIRED)
    claim(l3, z, ClaimStatus.CANCELLED, at("2025-06-01", 18))
    l4 = listing(y, "furniture", "2025-07-01")
    claim(l4, x, ClaimStatus.ACCEPTED, at("2025-07-01", 13))
    listing(x, "office-furniture", "2025-08-01")
    l0 = listing(x, "furniture", "2024-12-01")
    claim(l0, y, ClaimStatus.COLLECTED, at("2025-01-05"), 1, "2025-01-10")
    return SimpleNamespace(x=x, y=y, z=z)


# --- received and given ----------------------------------------------------------------------

def test_an_organisation_sees_what_it_received_and_gave_apart(world):
    report = impact.impact_figures(YEAR, world.x.id)

    # Received: L2, 1 office piece from Y.
    received = report.received
    assert (received.claims, received.items) == (1, 1)
    assert (received.kilograms, received.euros) == (Decimal("20.000"), Decimal("100.00"))
    assert received.co2e_kg == Decimal("52.000")  # 20 kg x 2.6
    # Given: L0 1, L1 2 + 3 furniture pieces to Y.
    given = report.given
    assert (given.claims, given.items) == (3, 6)
    assert (given.kilograms, given.euros) == (Decimal("60.000"), Decimal("300.00"))


def test_the_other_side_mirrors_it(world):
    report = impact.impact_figures(YEAR, world.y.id)

    assert (report.received.items, report.received.kilograms) == (6, Decimal("60.000"))
    assert report.received.euros == Decimal("300.00")
    assert report.received.co2e_kg == Decimal("63.000")  # 60 kg x 1.05
    assert (report.given.items, report.given.kilograms) == (1, Decimal("20.000"))
    assert report.given.euros == Decimal("100.00")


def test_the_platform_counts_each_hand_over_once(world):
    platform = impact.impact_figures(YEAR)

    # Four collected claims: 1 + 2 + 3 furniture, 1 office.
    assert (platform.total.claims, platform.total.items) == (4, 7)
    assert platform.total.kilograms == Decimal("80.000")
    assert platform.total.euros == Decimal("400.00")
    assert platform.total.co2e_kg == Decimal("115.000")  # X's 52 received + Y's 63 received
    sides = [impact.impact_figures(YEAR, org.id) for org in (world.x, world.y, world.z)]
    assert sum(report.received.co2e_kg for report in sides) == platform.total.co2e_kg
    assert sum(report.received.euros for report in sides) == platform.total.euros
    assert sum(report.given.kilograms for report in sides) == platform.total.kilograms


def test_one_organisations_months_and_categories_are_per_side(world):
    report = impact.impact_figures(YEAR, world.x.id)

    given = {figure.month.month: figure.items for figure in report.given_months if figure.items}
    received = {figure.month.month: figure.euros for figure in report.received_months
                if figure.euros}
    assert given == {1: 1, 3: 2, 4: 3}
    assert received == {5: Decimal("100.00")}
    assert [(figure.category.slug, figure.totals.items, figure.totals.kilograms)
            for figure in report.given_categories] == [("furniture", 6, Decimal("60.000"))]
    assert [(figure.category.slug, figure.totals.co2e_kg)
            for figure in report.received_categories] == [("office-furniture", Decimal("52.000"))]
    assert impact.impact_figures(YEAR).given_months == []  # the platform has one side


# --- how well it works -----------------------------------------------------------------------

def counts(uptake):
    return (uptake.listings, uptake.claimed, uptake.taken, uptake.collected,
            uptake.expired_unclaimed)


def hours(waits):
    return (waits.listings, pytest.approx(waits.median_hours, abs=1e-6),
            pytest.approx(waits.p80_hours, abs=1e-6))


def test_how_well_the_platform_works(world):
    total = impact.uptake(YEAR).total

    # L1-L5 (L0 was published in 2024): 4 got a claim, 3 found a taker (L1, L2 collected;
    # L4 accepted), 2 collected, L3 expired without one.
    assert counts(total) == (5, 4, 3, 2, 1)
    # First claims after 1, 2, 4, 6 hours: median (2 + 4) / 2, p80 at rank 2.4: 4 + 0.4 x 2.
    assert hours(total.to_first_claim) == (4, 3, 4.8)
    # First collections after 48 and 240 hours (L1's first of two): p80 48 + 0.8 x 192.
    assert hours(total.to_first_collection) == (2, 144, 201.6)


def test_how_well_it_works_per_category(world):
    categories = {row.category.slug: row.uptake for row in impact.uptake(YEAR).categories}

    assert list(categories) == ["furniture", "office-furniture"]  # most listings first
    furniture, office = categories["furniture"], categories["office-furniture"]
    assert counts(furniture) == (3, 3, 2, 1, 1)  # L1, L3, L4
    assert hours(furniture.to_first_claim) == (3, 4, 5.2)  # 1, 4, 6: p80 at 1.6
    assert hours(furniture.to_first_collection) == (1, 48, 48)
    assert counts(office) == (2, 1, 1, 1, 0)  # L2, L5
    assert hours(office.to_first_claim) == (1, 2, 2)
    assert hours(office.to_first_collection) == (1, 240, 240)


def test_how_well_it_works_per_organisation(world):
    organisations = {row.name: row.uptake for row in impact.uptake(YEAR).organisations}

    assert list(organisations) == ["Ziekenhuis X", "Zorghuis Y"]  # Z published nothing
    x, y = organisations["Ziekenhuis X"], organisations["Zorghuis Y"]
    assert counts(x) == (3, 2, 1, 1, 1)  # L1, L3, L5
    assert hours(x.to_first_claim) == (2, 5, 5.6)  # 4 and 6 hours
    assert counts(y) == (2, 2, 2, 1, 0)  # L2, L4
    assert hours(y.to_first_claim) == (2, 1.5, 1.8)  # 1 and 2 hours
    assert hours(y.to_first_collection) == (1, 240, 240)


def test_one_organisation_sees_only_its_own_listings(world):
    performance = impact.impact_figures(YEAR, world.x.id).performance

    assert counts(performance.total) == (3, 2, 1, 1, 1)
    assert performance.organisations == []
    furniture = {row.category.slug: row.uptake for row in performance.categories}["furniture"]
    assert counts(furniture) == (2, 2, 1, 1, 1)  # L1, L3


def test_a_claim_accepted_and_then_cancelled_is_no_taker(world, make_listing):
    listing = make_listing(organisation=world.x)
    listing.published_at = at("2025-09-01")
    db.session.add(Claim(listing=listing, claimant_organisation=world.y, quantity=1,
                         status=ClaimStatus.CANCELLED, created_at=at("2025-09-02"),
                         decided_at=at("2025-09-03")))
    db.session.commit()
    assert counts(impact.uptake(YEAR).total) == (6, 5, 3, 2, 1)


def test_an_expired_listing_with_a_taker_did_not_expire_unclaimed(world, make_listing):
    listing = make_listing(organisation=world.x, status=ListingStatus.EXPIRED)
    listing.published_at = at("2025-09-01")
    db.session.add(Claim(listing=listing, claimant_organisation=world.y, quantity=1,
                         status=ClaimStatus.ACCEPTED, created_at=at("2025-09-02")))
    db.session.commit()
    # One more listing, claimed and taken, not collected; still L3 alone expired unclaimed.
    assert counts(impact.uptake(YEAR).total) == (6, 5, 4, 2, 1)


def test_the_statements_do_not_grow_with_the_listings(world, make_listing):
    def statements() -> int:
        sent: list[str] = []
        engine = db.engine

        def count(*args) -> None:
            sent.append(args[2])

        event.listen(engine, "before_cursor_execute", count)
        try:
            impact.uptake(YEAR)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        return len(sent)

    before = statements()
    for day in range(1, 21):
        listing = make_listing(organisation=world.z, category="kitchen")
        listing.published_at = at(f"2025-10-{day:02d}")
        db.session.add(Claim(listing=listing, claimant_organisation=world.x, quantity=1,
                             status=ClaimStatus.COLLECTED, created_at=at(f"2025-10-{day:02d}"),
                             collected_at=at(f"2025-10-{day:02d}") + timedelta(hours=day)))
    db.session.commit()
    assert statements() == before


# --- the CSV ---------------------------------------------------------------------------------

@pytest.fixture
def people(world, make_user):
    return {"x_admin": make_user(organisation=world.x, role=Role.ORG_ADMIN,
                                 language=Language.NL),
            "platform_admin": make_user(role=Role.PLATFORM_ADMIN)}


def figure_values(response, delimiter=","):
    text = response.get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(text[1:]), delimiter=delimiter))
    return {(row[0], row[1], row[2]): row[3] for row in rows[1:]}


def test_an_organisations_csv_never_adds_the_sides(login_as, people, world):
    client = login_as(people["platform_admin"])  # English: commas, decimal points
    values = figure_values(client.get(
        f"/organisations/{world.x.id}/impact.csv?{YEAR_ARGS}"))

    for summed in ("kilograms", "euros", "co2e_kg", "claims_collected"):
        assert ("figure", "", summed) not in values
    assert values[("received", "", "euros")] == "100.00"
    assert values[("received", "", "co2e_kg")] == "52.000"
    assert values[("given", "", "kilograms")] == "60.000"
    assert values[("given", "", "disposal_avoided_kg")] == "60.000"
    assert ("given", "", "co2e_kg") not in values  # counted at the receiver
    assert values[("month", "2025-04", "given_items")] == "3"
    assert ("month", "2025-04", "items") not in values
    assert values[("category", "office-furniture", "received_co2e_kg")] == "52.000"
    assert values[("performance", "", "found_a_taker")] == "1"
    assert values[("performance", "", "found_a_taker_percent")] == "33.3"
    assert values[("performance", "", "median_hours_to_first_claim")] == "5.0"


def test_the_platform_csv_counts_once_and_has_how_well_it_works(login_as, people, world):
    values = figure_values(login_as(people["platform_admin"]).get(
        f"/admin/impact.csv?{YEAR_ARGS}"))

    assert values[("figure", "", "co2e_kg")] == "115.000"
    assert values[("figure", "", "euros")] == "400.00"
    assert values[("performance", "", "listings_published")] == "5"
    assert values[("performance", "", "expired_without_taker_percent")] == "20.0"
    assert values[("performance", "", "p80_hours_to_first_collection")] == "201.6"
    assert values[("performance", "category:furniture", "found_a_taker")] == "2"
    assert values[("performance", f"organisation:{world.y.id}", "got_a_claim")] == "2"


# --- the page --------------------------------------------------------------------------------

MY_TEXTS = ("Received", "purchase avoided", "Given", "passed on", "Disposal avoided",
            "How well it works", "Found a taker", "Got a claim", "Expired without a taker",
            "found a taker", "expired without a taker", "median time to the first")


def test_the_dutch_organisation_page_shows_both_sides_and_never_their_sum(login_as, people,
                                                                          world):
    html = login_as(people["x_admin"]).get(
        f"/organisations/{world.x.id}/impact?{YEAR_ARGS}"
    ).get_data(as_text=True)
    text = " ".join(visible_text(html, "nl"))

    received = text[text.index("Ontvangen — inkoop vermeden"):text.index("Gegeven — doorgegeven")]
    given = text[text.index("Gegeven — doorgegeven"):text.index("Hoe goed het werkt")]
    assert "Ontvangen stuks 1" in received and "€ 100" in received
    assert "Ontvangen kilo\u2019s 20 kg" in received and "Vermeden CO₂e 52 kg" in received
    assert "Gegeven stuks 6" in given and "Doorgegeven waarde € 300" in given
    assert "Doorgegeven kilo\u2019s 60 kg" in given and "Afvoer als afval vermeden 60 kg" in given
    assert "CO₂e 0" not in given
    # The sums of both sides (80 kg, EUR 400, 7 items, 115 kg CO₂e) are nowhere.
    for summed in (r"\b80 kg", r"€ 400\b", r"\b115 kg"):
        assert not re.search(summed, text), summed
    assert "33%" in text and "1 van 3 advertenties" in text  # found a taker
    assert "Hoe goed het werkt, per organisatie" not in text  # the platform's table only
    mine = [(phrase, found) for phrase, found in leaks(visible_text(html, "nl"), "nl")
            if any(part in phrase or phrase in part for part in MY_TEXTS)]
    assert mine == []


def test_the_platform_page_shows_how_well_each_organisation_works(login_as, people, world):
    html = login_as(people["platform_admin"]).get(
        f"/admin/impact?{YEAR_ARGS}").get_data(as_text=True)
    text = " ".join(visible_text(html, "en"))

    table = text[text.index("How well it works per organisation"):]
    assert "Ziekenhuis X 3 33% (1) 67% (2)" in table
    assert "Zorghuis Y 2 100% (2) 100% (2) 50% (1) 0% (0)" in table
    assert "115 kg" in text  # the platform's CO₂e: each hand-over once
    one = login_as(people["platform_admin"]).get(
        f"/admin/impact?organisation={world.x.id}&{YEAR_ARGS}"
    ).get_data(as_text=True)
    assert "How well it works per category" in one
    assert "How well it works per organisation" not in one
