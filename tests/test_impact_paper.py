"""The impact report on paper (the dashboard as a PDF) and the comparison with the median of
an organisation's kind."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from helpers import YEAR, YEAR_ARGS
from language_leaks import leaks, plain_text
from pypdf import PdfReader
from sqlalchemy import select

from marketplace.extensions import db
from marketplace.models import (
    Category,
    Claim,
    ClaimStatus,
    Language,
    OrganisationKind,
    OrganisationStatus,
    Role,
)
from marketplace.services import impact, pdf
from marketplace.services.impact import Compared

pytestmark = pytest.mark.usefixtures("app")

DASH = "\N{EN DASH}"
# The factors' heading without the "₂", which only an embedded font (DejaVu) draws.
FACTORS_NL, FACTORS_EN = "e-factoren en hun bronnen", "e factors and their sources"
BRAND_FILL = b".121569 .435294 .360784 rg"  # charts.BRAND (#1f6f5c), the bars' colour


def collect(listing, organisation, quantity, day="2025-06-15",
            status=ClaimStatus.COLLECTED) -> Claim:
    moment = datetime.fromisoformat(day).replace(hour=12, tzinfo=UTC)
    claim = Claim(listing=listing, claimant_organisation=organisation, quantity=quantity,
                  status=status, created_at=moment - timedelta(days=2),
                  collected_at=moment if status is ClaimStatus.COLLECTED else None)
    db.session.add(claim)
    db.session.commit()
    return claim


def listing_of(make_listing, organisation, *, weight="10", value="50", category="furniture",
               published="2025-03-01", **fields):
    listing = make_listing(organisation=organisation, category=category,
                           weight_per_unit_kg=Decimal(weight), value_per_unit=Decimal(value),
                           quantity=100, **fields)
    listing.published_at = datetime.fromisoformat(published).replace(hour=9, tzinfo=UTC)
    db.session.commit()
    return listing


def pdf_pages(response) -> list[str]:
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/pdf"
    return [page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages]


def factors_last(pages: list[str], heading: str, section_before: str) -> bool:
    """The factors start a page of their own (below the footer line) and run to the end,
    with their sources (the floor's: Freegle); the section before them does not follow."""
    starts = [index for index, page in enumerate(pages) if heading in page]
    assert len(starts) == 1 and starts[0] > 0, starts
    first_lines = pages[starts[0]].split("\n")[:2]
    return (any(heading in line[:len(heading) + 4] for line in first_lines)
            and "Freegle" in "".join(pages[starts[0]:])
            and not any(section_before in page for page in pages[starts[0]:]))


def pdf_content(response) -> bytes:
    return b"".join(page.get_contents().get_data()
                    for page in PdfReader(io.BytesIO(response.data)).pages)


@pytest.fixture
def scene(make_org, make_listing, make_user):
    """Ziekenhuis Geeft gave 3 chairs (furniture: 7 kg, EUR 45 each, factor 1.05) and
    received 4 (10 kg, EUR 20 each) in 2025; a cancelled claim and one of 2024 do not count."""
    giver = make_org("Ziekenhuis Geeft")
    other = make_org("Zorghuis Krijgt", kind=OrganisationKind.ELDERLY_CARE)
    chairs = listing_of(make_listing, giver, title="Bureaustoelen", weight="7", value="45")
    collect(chairs, other, 3)
    collect(chairs, other, 7, status=ClaimStatus.CANCELLED)
    collect(listing_of(make_listing, giver, published="2024-12-01"), other, 9, day="2024-12-31")
    collect(listing_of(make_listing, other, value="20"), giver, 4, day="2025-09-10")
    return {
        "giver": giver, "other": other,
        "admin": make_user(organisation=giver, role=Role.ORG_ADMIN, language=Language.NL),
        "member": make_user(organisation=giver, language=Language.NL),
        "other_admin": make_user(organisation=other, role=Role.ORG_ADMIN),
        "platform_admin": make_user(role=Role.PLATFORM_ADMIN),
    }


# --- on paper --------------------------------------------------------------------------------

def test_the_dutch_pdf_holds_the_name_period_totals_charts_and_factors_last(login_as, scene):
    giver = scene["giver"]
    response = login_as(scene["admin"]).get(
        f"/organisations/{giver.id}/impact.pdf?{YEAR_ARGS}&lang=nl")

    pages = pdf_pages(response)
    text = "\n".join(pages)
    assert "attachment" in response.headers["Content-Disposition"]
    assert "Ziekenhuis Geeft" in pages[0]
    assert f"1 januari 2025 {DASH} 31 december 2025" in pages[0]
    # Hand count: given 3 (21 kg, EUR 135), received 4 (40 kg, EUR 80, CO₂e 40 x 1.05).
    words = " ".join(text.split())
    assert "Gegeven stuks 3" in words and "Ontvangen stuks 4" in words
    assert "€ 135" in words and "21 kg" in words
    assert "€ 80" in words and "40 kg" in words and "42 kg" in words
    # The charts are drawn: their month labels and their bars.
    assert "jun 25" in text and "sep 25" in text
    assert BRAND_FILL in pdf_content(response)
    # The factors and their sources: from the top of a new page to the end.
    assert factors_last(pages, FACTORS_NL, "Zo rekenen we")
    # Dutch words, no English labels (the factors' sources are quoted as written; a Dutch
    # category name may hold a word English has too: "Tilliften en transfer").
    assert "Per maand" in text and "Zo rekenen we" in text
    quoted = " ".join([row.source for row in impact.factors_in_use()]
                      + [str(row.source) for row in impact.green_deal_factor_rows()]
                      + [source for _category, _class, source in impact.material_class_rows()]
                      + list(db.session.scalars(select(Category.name_nl))))
    assert [(phrase, found) for phrase, found in leaks(plain_text(text), "nl")
            if phrase not in quoted] == []


def test_the_english_pdf_is_in_english(login_as, scene):
    giver = scene["giver"]
    response = login_as(scene["admin"]).get(
        f"/organisations/{giver.id}/impact.pdf?{YEAR_ARGS}&lang=en")

    pages = pdf_pages(response)
    text = "\n".join(pages)
    assert f"1 January 2025 {DASH} 31 December 2025" in pages[0]
    words = " ".join(text.split())
    assert "Items given 3" in words and "Items received 4" in words
    assert "€135" in words and "€80" in words
    assert "Jun 25" in text
    assert factors_last(pages, FACTORS_EN, "How we count")
    factors = text[text.index(FACTORS_EN):]
    assert "Transport and displacement factors and their sources" in factors
    assert "Trips per hand-over" in factors
    names = ("Ziekenhuis Geeft", "Zorghuis Krijgt")
    assert [(phrase, found) for phrase, found in leaks(plain_text(text), "en")
            if not any(phrase in name for name in names)] == []
    assert response.headers["Content-Disposition"].endswith(
        f'impact-organisation-{giver.id}-2025-01-01_2025-12-31.en.pdf"')


def test_without_the_font_the_pdf_is_made_with_helvetica(login_as, scene, monkeypatch):
    monkeypatch.setattr(pdf, "PAPER_FONTS", (("/nowhere/a.ttf", "/nowhere/b.ttf"),))
    response = login_as(scene["admin"]).get(
        f"/organisations/{scene['giver'].id}/impact.pdf?{YEAR_ARGS}&lang=en")
    text = "\n".join(pdf_pages(response))
    assert "Ziekenhuis Geeft" in text
    # Helvetica has no "₂": written as a plain 2, never as a missing glyph.
    assert "CO2e avoided" in text and "\u25a0" not in text
    assert BRAND_FILL in pdf_content(response)
    assert b"DejaVu" not in response.data and b"Helvetica" in response.data


def test_the_pdf_speaks_the_page_language_without_lang(login_as, scene):
    giver = scene["giver"]
    response = login_as(scene["admin"]).get(
        f"/organisations/{giver.id}/impact.pdf?{YEAR_ARGS}&lang=xx")
    assert "Per maand" in "\n".join(pdf_pages(response))  # the admin reads Dutch


def test_the_platform_pdf_counts_each_hand_over_once(login_as, scene):
    response = login_as(scene["platform_admin"]).get(f"/admin/impact.pdf?{YEAR_ARGS}&lang=en")

    text = "\n".join(pdf_pages(response))
    assert "The whole platform" in text
    assert "7 items reused, each hand-over counted once, in 2 collected claims" in text
    assert "€215" in text  # 3 x 45 + 4 x 20


@pytest.mark.parametrize(("who", "organisation_pdf", "platform_pdf"), [
    ("member", 403, 403),
    ("admin", 200, 403),
    ("other_admin", 403, 403),
    ("platform_admin", 200, 200),
])
def test_who_may_have_the_pdf(client, login_as, scene, who, organisation_pdf, platform_pdf):
    organisation_url = f"/organisations/{scene['giver'].id}/impact.pdf"
    assert client.get(organisation_url).status_code == 302  # anonymous: to the login page
    viewer = login_as(scene[who])
    assert viewer.get(organisation_url).status_code == organisation_pdf
    assert viewer.get("/admin/impact.pdf").status_code == platform_pdf


@pytest.mark.parametrize("query", [
    "period=custom&from=2025-13-45&to=x",
    "period=custom&from=2025-12-31&to=2025-01-01",
    "period=nonsense",
    "from=" + "9" * 500,
    "organisation=abc&lang=" + "n" * 300,
])
def test_bad_period_input_still_gives_a_pdf(login_as, scene, query):
    admin = login_as(scene["platform_admin"])
    assert pdf_pages(admin.get(f"/organisations/{scene['giver'].id}/impact.pdf?{query}"))
    assert pdf_pages(admin.get(f"/admin/impact.pdf?{query}"))


@pytest.mark.parametrize(("preset", "today", "start", "end"), [
    ("this_quarter", "2026-02-10", "2026-01-01", "2026-02-10"),
    ("this_quarter", "2026-12-31", "2026-10-01", "2026-12-31"),
    ("last_quarter", "2026-02-10", "2025-10-01", "2025-12-31"),
    ("last_quarter", "2026-07-01", "2026-04-01", "2026-06-30"),
])
def test_quarters_are_presets(preset, today, start, end):
    period, messages = impact.parse_period({"period": preset}, date.fromisoformat(today))
    assert (period.start.isoformat(), period.end.isoformat(), messages) == (start, end, [])


def test_a_quarter_on_paper(login_as, scene):
    response = login_as(scene["admin"]).get(
        f"/organisations/{scene['giver'].id}/impact.pdf?period=last_quarter&lang=nl")
    assert "Vorig kwartaal" in "\n".join(pdf_pages(response))


def test_a_date_that_cannot_be_read_is_said_in_the_pdf(login_as, scene):
    response = login_as(scene["platform_admin"]).get(
        f"/organisations/{scene['giver'].id}/impact.pdf?period=custom&from=2025-13-45&lang=en")
    assert "That is not a date we can use" in "\n".join(pdf_pages(response))


def test_the_dashboard_links_to_its_pdf_with_the_period(login_as, scene):
    giver = scene["giver"]
    html = login_as(scene["admin"]).get(
        f"/organisations/{giver.id}/impact?{YEAR_ARGS}").get_data(as_text=True)
    assert (f'href="/organisations/{giver.id}/impact.pdf?period=custom&amp;from=2025-01-01'
            '&amp;to=2025-12-31"') in html



# --- compared with the median of its kind ----------------------------------------------------

@pytest.fixture
def peers(make_org, make_listing, make_user):
    """Five active hospitals with known figures in 2025, a GP practice that gives and takes,
    a suspended hospital and an elderly care home that must not count. Chairs: 10 kg, EUR 50,
    factor 1.05.

    received items: Alfa 0, Bravo 2, Charlie 4, Delta 6, Midden 10       → median 4
    given items:    Alfa 5, Bravo 1, Charlie 2, Delta 0, Midden 3        → median 2
    listings (found a taker): Alfa 2 (1), Bravo 1 (1), Charlie 2 (1), Delta 1 (0),
    Midden 1 (1): posted median 1, share median 50 %.
    """
    hospital = OrganisationKind.HOSPITAL
    mine = make_org("Ziekenhuis Midden", kind=hospital)
    alfa, bravo, charlie, delta = (make_org(f"Peer {name}", kind=hospital)
                                   for name in ("Alfa", "Bravo", "Charlie", "Delta"))
    suspended = make_org("Peer Geschorst", kind=hospital, status=OrganisationStatus.SUSPENDED)
    elderly = make_org("Peer Ouderen", kind=OrganisationKind.ELDERLY_CARE)
    gp = make_org("Huisartsenpost Gever", kind=OrganisationKind.GP)
    from_gp = listing_of(make_listing, gp)
    for receiver, quantity in ((bravo, 2), (charlie, 4), (delta, 6), (mine, 10),
                               (suspended, 50), (elderly, 90)):
        collect(from_gp, receiver, quantity)
    for giver, quantity in ((alfa, 5), (bravo, 1), (charlie, 2), (mine, 3), (suspended, 40)):
        collect(listing_of(make_listing, giver), gp, quantity)
    for idle in (alfa, charlie, delta):  # posted, never taken
        listing_of(make_listing, idle)
    return {"mine": mine, "admin": make_user(organisation=mine, role=Role.ORG_ADMIN),
            "peers": (alfa, bravo, charlie, delta, suspended, elderly, gp)}


def test_an_organisation_is_compared_with_the_median_of_its_kind(peers):
    comparison = impact.compare(peers["mine"], YEAR)

    assert comparison.organisations == 5 and comparison.enough
    figures = {figure.metric: (figure.own, figure.median) for figure in comparison.figures}
    assert figures == {
        Compared.RECEIVED_ITEMS: (Decimal(10), Decimal(4)),
        Compared.RECEIVED_EUROS: (Decimal("500.00"), Decimal("200.00")),
        Compared.RECEIVED_KILOGRAMS: (Decimal("100.000"), Decimal("40.000")),
        Compared.RECEIVED_CO2E_KG: (Decimal("105.000"), Decimal("42.000")),
        Compared.GIVEN_ITEMS: (Decimal(3), Decimal(2)),
        Compared.GIVEN_EUROS: (Decimal("150.00"), Decimal("100.00")),
        Compared.GIVEN_KILOGRAMS: (Decimal("30.000"), Decimal("20.000")),
        Compared.LISTINGS_POSTED: (Decimal(1), Decimal(1)),
        Compared.CLAIM_RATE: (Decimal(1), Decimal("0.5")),
    }


def test_fewer_than_five_of_a_kind_show_no_median(peers):
    suspended = peers["peers"][3]  # Delta
    suspended.status = OrganisationStatus.SUSPENDED
    db.session.commit()

    comparison = impact.compare(peers["mine"], YEAR)

    assert comparison.organisations == 4 and not comparison.enough
    assert all(figure.median is None for figure in comparison.figures)
    assert comparison.figures[0].own == Decimal(10)  # its own figures stay


def test_the_page_and_pdf_show_the_median_but_no_other_organisation(login_as, peers):
    admin = login_as(peers["admin"])
    url = f"/organisations/{peers['mine'].id}/impact"

    html = admin.get(f"{url}?{YEAR_ARGS}").get_data(as_text=True)
    pdf_text = " ".join("\n".join(pdf_pages(admin.get(f"{url}.pdf?{YEAR_ARGS}"))).split())

    section = html[html.index('id="compare"'):]
    section = section[:section.index("</section>")]
    assert "Median of its kind" in section
    assert "the median of the 5 approved organisations of this kind" in section
    assert ">€500<" in section and ">€200<" in section and ">50%<" in section
    assert "Received: value (purchases avoided) €500 €200" in pdf_text
    for other in peers["peers"]:
        assert other.name not in html
        assert other.name not in pdf_text


def test_too_few_of_a_kind_is_said_on_the_page(login_as, peers):
    peers["peers"][0].status = OrganisationStatus.SUSPENDED  # Alfa
    db.session.commit()

    html = login_as(peers["admin"]).get(
        f"/organisations/{peers['mine'].id}/impact?{YEAR_ARGS}").get_data(as_text=True)

    section = html[html.index('id="compare"'):]
    section = section[:section.index("</section>")]
    assert "There are 4 approved organisations of this kind, too few to compare" in section
    assert "Median of its kind" not in section and "€200" not in section


def test_the_csv_has_a_comparison_section(login_as, peers):
    response = login_as(peers["admin"]).get(
        f"/organisations/{peers['mine'].id}/impact.csv?{YEAR_ARGS}")

    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    comparison = {(row[1], row[2]): row[3] for row in rows if row[0] == "comparison"}
    assert comparison[("", "organisations_of_kind")] == "5"
    assert comparison[("received_items", "own")] == "10"
    assert comparison[("received_items", "median")] == "4"
    assert comparison[("received_euros", "median")] == "200.00"
    assert comparison[("claim_rate", "median")] == "0.5000"
