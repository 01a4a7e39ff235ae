"""Green Deal terms: kilograms per material class, CO₂e net of transport and with displacement,
their settings (platform admins, audited), on the dashboard and in the figures CSV."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from helpers import YEAR, YEAR_ARGS, reload
from pypdf import PdfReader
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import (
    AuditEvent,
    Category,
    CategoryMaterial,
    Claim,
    ClaimStatus,
    GreenDealFactor,
    GreenDealSetting,
    Language,
    MaterialClass,
    Province,
    Role,
    Site,
)
from marketplace.services import impact
from marketplace.services.errors import DomainError, PermissionDenied

pytestmark = pytest.mark.usefixtures("app")


# The giver's site and the receiver's are 0.1° of latitude apart on one meridian:
# 0.1 x 110.57 km = 11.057 km in a straight line (services/search/distance.py).
STRAIGHT_KM = Decimal("11.057")
# Two hand-overs with a distance: 2 x 11.057 x 1.343 (detour) x 2 (there and back), to the metre.
ROAD_KM_TWO = Decimal("59.398")  # 2 x 11.057 x 1.343 x 2 = 59.398204
TRANSPORT_TWO = Decimal("14.863")  # 59.398 km x 0.25023 kg CO₂e per km = 14.86316…


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)


def place(organisation, latitude, longitude):
    site = organisation.sites[0]  # its only site, "Hoofdlocatie"
    site.latitude, site.longitude = latitude, longitude
    db.session.commit()


@pytest.fixture
def hand_overs(make_org, make_listing):
    """A giver at (52.0, 5.0); a receiver at (52.1, 5.0) with an archived site elsewhere; a
    receiver whose site has no known place. Collected in 2025: the receiver 3 chairs of 10 kg
    (furniture: wood, 1.05) and 2 boxes of gloves of 2 kg (PPE: plastics, 3.2); the unplaced
    receiver 1 printer of 5 kg (office and IT: electrical, 5.6). Not counted: a cancelled
    claim, a claim collected in 2024."""
    giver, receiver, unplaced = make_org("Ziekenhuis Geeft"), make_org("Zorghuis Krijgt"), \
        make_org("Kliniek Onbekend")
    place(giver, 52.0, 5.0)
    place(receiver, 52.1, 5.0)
    receiver.sites.append(Site(name="Archief", street="Oudeweg 1", postcode="1000 AA",
                               city="Groningen", province=Province.GRONINGEN, latitude=53.2,
                               longitude=6.5, active=False))
    db.session.commit()

    def listing(category, weight):
        return make_listing(organisation=giver, category=category, quantity=20,
                            weight_per_unit_kg=Decimal(weight), value_per_unit=Decimal(10))

    chairs, gloves, printer = listing("furniture", "10"), listing("ppe", "2"), \
        listing("office-it", "5")

    def claim(item, organisation, quantity, day="2025-06-15", status=ClaimStatus.COLLECTED):
        db.session.add(Claim(listing=item, claimant_organisation=organisation, quantity=quantity,
                             status=status, created_at=at(day) - timedelta(days=1),
                             collected_at=at(day) if status is ClaimStatus.COLLECTED else None))

    claim(chairs, receiver, 3)
    claim(gloves, receiver, 2, day="2025-09-01")
    claim(printer, unplaced, 1)
    claim(chairs, receiver, 5, status=ClaimStatus.CANCELLED)
    claim(gloves, receiver, 4, day="2024-12-30")
    db.session.commit()
    return giver, receiver, unplaced


def kilograms_per_class(figures):
    return {figure.material_class: figure.kilograms for figure in figures.materials}


def test_the_platform_counts_each_hand_over_once_per_material_class(hand_overs):
    figures = impact.green_deal_figures(YEAR)

    assert kilograms_per_class(figures) == {MaterialClass.WOOD_FURNITURE: Decimal(30),
                                            MaterialClass.PLASTICS: Decimal(4),
                                            MaterialClass.ELECTRICAL: Decimal(5)}
    assert figures.kilograms == Decimal(39)
    assert figures.gross_co2e_kg == Decimal("72.3")  # 30 x 1.05 + 4 x 3.2 + 5 x 5.6


def test_transport_is_the_straight_line_times_detour_there_and_back_times_the_van_factor(
    hand_overs
):
    figures = impact.green_deal_figures(YEAR)
    transport = figures.transport

    assert transport.hand_overs == 3
    assert transport.without_distance == 1  # the receiver without a known place
    assert transport.straight_km == 2 * STRAIGHT_KM
    assert transport.road_km == ROAD_KM_TWO
    assert transport.co2e_kg == TRANSPORT_TWO
    assert figures.net_co2e_kg == Decimal("72.3") - TRANSPORT_TWO
    assert figures.displaced_co2e_kg is None  # no displacement rate set


def test_an_organisation_counts_what_it_received(hand_overs):
    giver, receiver, _unplaced = hand_overs

    received = impact.green_deal_figures(YEAR, receiver.id)
    gave_only = impact.green_deal_figures(YEAR, giver.id)

    assert kilograms_per_class(received) == {MaterialClass.WOOD_FURNITURE: Decimal(30),
                                             MaterialClass.PLASTICS: Decimal(4)}
    assert received.gross_co2e_kg == Decimal("44.3")
    assert received.transport.co2e_kg == TRANSPORT_TWO
    assert received.net_co2e_kg == Decimal("29.437")
    assert gave_only.materials == [] and gave_only.transport.hand_overs == 0


def test_a_site_without_coordinates_leaves_its_transport_out(hand_overs):
    _giver, _receiver, unplaced = hand_overs
    figures = impact.green_deal_figures(YEAR, unplaced.id)
    assert figures.transport.hand_overs == 1
    assert figures.transport.without_distance == 1
    assert figures.transport.co2e_kg == 0
    assert figures.net_co2e_kg == figures.gross_co2e_kg == Decimal("28.0")


def test_the_receiving_site_is_the_first_active_one(hand_overs):
    _giver, receiver, _unplaced = hand_overs
    # "Archief" (archived, far away) sorts first by name but is not active: the distances
    # above come from "Hoofdlocatie". Archive that one too and no site is left to measure to.
    main_site = next(site for site in receiver.sites if site.name == "Hoofdlocatie")
    main_site.active = False
    db.session.commit()
    assert impact.green_deal_figures(YEAR, receiver.id).transport.without_distance == 2


def test_a_displacement_rate_scales_gross_before_transport(hand_overs, make_user):
    admin = make_user(role=Role.PLATFORM_ADMIN)
    impact.update_green_deal_setting(admin, GreenDealSetting.DISPLACEMENT_RATE, "0,5",
                                     "Example study: half replaces a purchase")
    figures = impact.green_deal_figures(YEAR)
    assert figures.displacement_rate == Decimal("0.5")
    assert figures.displaced_co2e_kg == Decimal("36.15") - TRANSPORT_TWO
    assert figures.net_co2e_kg == Decimal("72.3") - TRANSPORT_TWO  # net stays gross - transport


def test_changing_a_material_class_moves_the_kilograms_and_is_audited(hand_overs, make_user):
    admin = make_user(role=Role.PLATFORM_ADMIN)
    ppe = db.session.scalar(select(Category).where(Category.slug == "ppe"))

    impact.set_category_material(admin, ppe, "textiles", "Cloth gowns")

    classes = kilograms_per_class(impact.green_deal_figures(YEAR))
    assert classes[MaterialClass.TEXTILES] == Decimal(4)
    assert MaterialClass.PLASTICS not in classes
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "category_material.update"))
    assert event is not None and event.actor_id == admin.id
    assert "plastics → textiles" in event.reason


def test_a_subcategory_borrows_its_parents_material_class():
    medical_aids = db.session.scalar(select(Category).where(Category.slug == "medical-aids"))
    walkers = db.session.scalar(select(Category).where(Category.slug == "mobility"))
    assert walkers.parent_id == medical_aids.id
    assert db.session.scalar(select(CategoryMaterial).where(
        CategoryMaterial.category_id == walkers.id)) is None
    rows = {row.category.slug: row for row in impact.category_materials()}
    assert rows["mobility"].material_class is MaterialClass.METALS
    assert rows["mobility"].own is None


@pytest.mark.parametrize(("setting", "value", "source"), [
    (GreenDealSetting.TRANSPORT_FACTOR, "abc", "x"),
    (GreenDealSetting.TRANSPORT_FACTOR, "", "x"),
    (GreenDealSetting.DETOUR_FACTOR, "0.9", "x"),
    (GreenDealSetting.DISPLACEMENT_RATE, "1.5", "x"),
    (GreenDealSetting.DISPLACEMENT_RATE, "0.4", " "),
])
def test_settings_refuse_numbers_out_of_range_and_empty_sources(make_user, setting, value,
                                                                source):
    admin = make_user(role=Role.PLATFORM_ADMIN)
    with pytest.raises(DomainError):
        impact.update_green_deal_setting(admin, setting, value, source)


@pytest.mark.parametrize("role", [Role.MEMBER, Role.ORG_ADMIN])
def test_only_platform_admins_change_green_deal_terms(make_user, role):
    user = make_user(role=role)
    ppe = db.session.scalar(select(Category).where(Category.slug == "ppe"))
    with pytest.raises(PermissionDenied):
        impact.update_green_deal_setting(user, GreenDealSetting.DETOUR_FACTOR, "1.2", "x")
    with pytest.raises(PermissionDenied):
        impact.set_category_material(user, ppe, "metals", "x")


def setting_row(setting):
    return db.session.scalar(select(GreenDealFactor).where(GreenDealFactor.setting == setting))


def test_a_platform_admin_changes_a_setting_on_the_page_and_it_is_audited(login_as, make_user):
    admin = login_as(make_user(role=Role.PLATFORM_ADMIN))
    page = admin.get("/admin/impact/green-deal").get_data(as_text=True)
    assert 'name="setting-detour_factor-value"' in page

    response = admin.post("/admin/impact/green-deal/settings/detour_factor",
                          data={"setting-detour_factor-value": "1,25",
                                "setting-detour_factor-source": "Own measurement"})

    assert response.status_code == 302
    row = reload(setting_row(GreenDealSetting.DETOUR_FACTOR))
    assert row.value == Decimal("1.25") and row.source == "Own measurement"
    event = db.session.scalar(select(AuditEvent).where(
        AuditEvent.action == "green_deal_factor.update"))
    assert event is not None and "1.343 → 1.25" in event.reason


def test_a_bad_setting_answers_422_in_dutch_and_keeps_the_input(login_as, make_user):
    admin = login_as(make_user(role=Role.PLATFORM_ADMIN, language=Language.NL))
    response = admin.post("/admin/impact/green-deal/settings/transport_factor",
                          data={"setting-transport_factor-value": "12",
                                "setting-transport_factor-source": "Typo"})
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Geef een getal van 0 tot 5." in html
    assert 'value="12"' in html
    assert reload(setting_row(GreenDealSetting.TRANSPORT_FACTOR)).value == Decimal("0.25023")


def test_a_platform_admin_changes_a_material_class_on_the_page(login_as, make_user):
    admin = login_as(make_user(role=Role.PLATFORM_ADMIN))
    kitchen = db.session.scalar(select(Category).where(Category.slug == "kitchen"))
    response = admin.post(f"/admin/impact/green-deal/categories/{kitchen.id}",
                          data={f"material-{kitchen.id}-material_class": "electrical",
                                f"material-{kitchen.id}-source": "Mostly appliances"})
    assert response.status_code == 302
    row = db.session.scalar(select(CategoryMaterial).where(
        CategoryMaterial.category_id == kitchen.id))
    assert reload(row).material_class is MaterialClass.ELECTRICAL


@pytest.mark.parametrize("role", [Role.MEMBER, Role.ORG_ADMIN])
def test_others_cannot_post_green_deal_terms(login_as, make_user, make_org, role):
    user = login_as(make_user(organisation=make_org(), role=role))
    response = user.post("/admin/impact/green-deal/settings/detour_factor",
                         data={"setting-detour_factor-value": "2",
                               "setting-detour_factor-source": "x"})
    assert response.status_code == 403
    assert reload(setting_row(GreenDealSetting.DETOUR_FACTOR)).value == Decimal("1.343")


def test_the_dutch_dashboard_shows_material_classes_transport_and_sources(hand_overs, login_as,
                                                                         make_user):
    _giver, receiver, _unplaced = hand_overs
    admin = login_as(make_user(organisation=receiver, role=Role.ORG_ADMIN,
                               language=Language.NL))
    html = admin.get(f"/organisations/{receiver.id}/impact?{YEAR_ARGS}").get_data(as_text=True)

    assert "Hout en meubilair" in html and "Kunststoffen" in html
    assert "Wood and furniture" not in html
    assert "doi 10.1177/23998083231168870" in html  # the detour factor's source
    assert "0,25023" in html  # the van factor, in Dutch figures, with its source beside it
    assert '<td class="numeric">1,343</td>' in html  # the detour factor, never read as 1343
    assert "Vervangingsgraad: niet ingesteld" in html
    assert "Materiaalsoort van elke categorie en de bron" in html
    assert "Not set: the figures" not in html  # our own sentence, in Dutch


def test_the_platform_page_counts_hand_overs_without_a_distance(hand_overs, login_as,
                                                                make_user):
    admin = login_as(make_user(role=Role.PLATFORM_ADMIN))
    html = admin.get(f"/admin/impact?{YEAR_ARGS}").get_data(as_text=True)
    assert "1 hand-over without a known distance: its transport is not subtracted." in html
    assert 'id="chart-material-classes"' in html


def test_the_figures_csv_has_material_and_transport_sections(hand_overs, login_as, make_user):
    admin = login_as(make_user(role=Role.PLATFORM_ADMIN))
    text = admin.get(f"/admin/impact.csv?{YEAR_ARGS}").get_data(as_text=True).lstrip("\ufeff")
    rows = {(row["section"], row["key"], row["metric"]): row["value"]
            for row in csv.DictReader(io.StringIO(text))}

    assert rows[("material", "wood_furniture", "kilograms")] == "30.000"
    assert rows[("material", "all", "co2e_kg")] == "72.300"
    assert rows[("transport", "", "hand_overs_without_distance")] == "1"
    assert rows[("transport", "", "transport_co2e_kg")] == str(TRANSPORT_TWO)
    assert rows[("transport", "", "net_co2e_kg")] == "57.437"
    assert rows[("transport", "", "displacement_rate")] == ""


def test_the_factor_rows_name_value_unit_and_source():
    rows = {row.name: row for row in impact.green_deal_factor_rows()}
    van = rows["CO₂e of a delivery van per kilometre driven"]
    assert van.value == Decimal("0.25023") and "DEFRA" in van.source
    assert rows["Trips per hand-over (there and back)"].value == 2


def test_the_paper_report_carries_the_green_deal_terms(hand_overs, login_as, make_user):
    admin = login_as(make_user(role=Role.PLATFORM_ADMIN, language=Language.NL))
    response = admin.get(f"/admin/impact.pdf?{YEAR_ARGS}&lang=nl")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    text = " ".join(text.split())
    assert "Green Deal-termen" in text
    assert "Hout en meubilair" in text
    assert "1 overdracht zonder bekende afstand" in text
    # The factors once, on the last pages: the transport factors and each category's class.
    assert text.count("Factoren voor vervoer en vervanging en hun bronnen") == 1
    factors_page = text[text.index("CO₂e-factoren en hun bronnen"):]
    assert "Materiaalsoort van elke categorie en de bron" in factors_page
    assert "0,25023" in factors_page
