"""Times in the platform's time zone, and dates, numbers, amounts and counts as each language
writes them, on pages and in emails."""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from flask_babel import force_locale
from helpers import outbox, reload

from marketplace import create_app
from marketplace.config import settings_from_environment
from marketplace.extensions import db
from marketplace.formats import date_text, datetime_text, money_text, number_text
from marketplace.localtime import local_today
from marketplace.models import ClaimStatus, Language, ListingStatus, Unit
from marketplace.services import claims, housekeeping
from marketplace.services.errors import DomainError

SUMMER = datetime(2026, 7, 4, 17, 25, tzinfo=UTC)  # 19:25 in Amsterdam (UTC+2)
WINTER = datetime(2026, 12, 4, 18, 25, tzinfo=UTC)  # 19:25 in Amsterdam (UTC+1)


@pytest.fixture
def server_in_utc() -> Iterator[None]:
    """The server's own clock runs in UTC (the tests otherwise run in Amsterdam's zone), so
    code that used the server's zone instead of TIMEZONE would show it."""
    previous = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    try:
        yield
    finally:
        os.environ["TZ"] = previous or "Europe/Amsterdam"
        time.tzset()


def _conversation(make_listing, make_user, make_claim, language: Language):
    listing = make_listing("Tillift")
    giver = make_user(organisation=listing.organisation, name="Gerda Gever", language=language)
    listing.created_by = giver
    db.session.commit()
    taker = make_user(name="Tim Nemer")
    return giver, taker, make_claim(listing, taker)


@pytest.mark.parametrize(("instant", "language", "shown"), [
    (SUMMER, Language.NL, "4 juli 2026 om 19:25"),
    (WINTER, Language.NL, "4 december 2026 om 19:25"),
    (SUMMER, Language.EN, "4 July 2026, 19:25"),
    (WINTER, Language.EN, "4 December 2026, 19:25"),
])
def test_a_claim_message_shows_the_amsterdam_time_on_the_page_and_in_the_email(
        app, make_listing, make_user, make_claim, login_as, server_in_utc, instant, language,
        shown):
    giver, taker, claim = _conversation(make_listing, make_user, make_claim, language)
    claims.post_message(taker, claim, "Ik kom om half acht", now=instant)
    db.session.commit()
    [mail] = outbox("claim_message", to=giver.email)
    assert shown in mail.body_text and shown in mail.body_html
    page = login_as(giver).get(f"/claims/{claim.id}").get_data(as_text=True)
    assert shown in page
    # Only the messages: the claim's own time is the clock's, and a CSRF token may hold "PM".
    messages = page[page.index('<ol class="messages">'):page.index("</ol>", page.index(
        '<ol class="messages">'))]
    assert shown in messages
    assert not re.search(r"18:25|17:25|\bPM\b", messages)


def test_the_time_zone_is_a_setting(make_app, make_listing, make_user, make_claim, login_as):
    tokyo = make_app(TIMEZONE="Asia/Tokyo")
    with tokyo.app_context():
        giver, taker, claim = _conversation(make_listing, make_user, make_claim, Language.EN)
        claims.post_message(taker, claim, "Hello", now=WINTER)
        db.session.commit()
        [mail] = outbox("claim_message", to=giver.email)
        assert "5 December 2026, 03:25" in mail.body_text


def test_timezone_is_read_from_the_environment_and_checked(monkeypatch, make_app, tmp_path):
    monkeypatch.delenv("TIMEZONE", raising=False)
    assert settings_from_environment(Path(tmp_path))["TIMEZONE"] == "Europe/Amsterdam"
    monkeypatch.setenv("TIMEZONE", "Europe/London")
    assert settings_from_environment(Path(tmp_path))["TIMEZONE"] == "Europe/London"
    with pytest.raises(RuntimeError, match="TIMEZONE"):
        create_app({"TESTING": True, "TIMEZONE": "Europe/Amsterdamm"})


@pytest.mark.parametrize(("language", "expected"), [
    ("nl", ("4 december 2026", "3,3", "€\xa01.234,50", "1.234,5", "€\xa01.235")),
    ("en", ("4 December 2026", "3.3", "€1,234.50", "1,234.5", "€1,235")),
])
def test_dates_numbers_and_amounts_per_language(app, language, expected):
    with app.test_request_context(), force_locale(language):
        assert (date_text(date(2026, 12, 4)), number_text(Decimal("3.3")),
                money_text(Decimal("1234.50")), number_text(1234.5),
                money_text(Decimal("1234.60"), cents=False)) == expected
        # A moment's day is the platform's: 23:30 UTC on 4 December is already the 5th.
        assert date_text(datetime(2026, 12, 4, 23, 30, tzinfo=UTC)).startswith("5 ")
        assert "PM" not in datetime_text(WINTER)


@pytest.mark.parametrize(("language", "value", "weight"), [
    (Language.NL, "€\xa01.234,50", "3,3 kg"),
    (Language.EN, "€1,234.50", "3.3 kg"),
])
def test_a_listing_page_shows_amounts_and_numbers_in_the_readers_language(
        app, make_listing, make_user, login_as, language, value, weight):
    listing = make_listing("Tillift", value_per_unit=Decimal("1234.50"),
                           weight_per_unit_kg=Decimal("3.3"))
    page = login_as(make_user(language=language)).get(f"/listings/{listing.id}").get_data(
        as_text=True)
    assert value in page and weight in page


UNIT_FORMS = {
    Unit.PIECE: ("1 stuk", "2 stuks", "1 piece", "2 pieces"),
    Unit.BOX: ("1 doos", "2 dozen", "1 box", "2 boxes"),
    Unit.PACK: ("1 pak", "2 pakken", "1 pack", "2 packs"),
    Unit.PALLET: ("1 pallet", "2 pallets", "1 pallet", "2 pallets"),
    Unit.SET: ("1 set", "2 sets", "1 set", "2 sets"),
    Unit.PAIR: ("1 paar", "2 paar", "1 pair", "2 pairs"),
    Unit.ROLL: ("1 rol", "2 rollen", "1 roll", "2 rolls"),
}


@pytest.mark.parametrize("unit", list(Unit))
def test_every_unit_has_a_singular_and_a_plural_in_both_languages(app, unit):
    with app.test_request_context():
        with force_locale("nl"):
            dutch = (unit.quantity(1), unit.quantity(2))
        with force_locale("en"):
            english = (unit.quantity(1), unit.quantity(2))
    assert (*dutch, *english) == UNIT_FORMS[unit]


def test_large_quantities_are_written_as_the_language_writes_numbers(app):
    with app.test_request_context(), force_locale("nl"):
        assert Unit.PIECE.quantity(1500) == "1.500 stuks"


@pytest.mark.parametrize(("language", "one", "many"), [
    (Language.NL, "1 doos", "2 dozen"), (Language.EN, "1 box", "2 boxes")])
def test_pages_count_units_in_the_singular_and_the_plural(
        app, make_listing, make_user, make_claim, login_as, language, one, many):
    listing = make_listing("Handschoenen", unit=Unit.BOX, quantity=2)
    reader = make_user(language=language)
    make_claim(listing, reader, quantity=1)
    client = login_as(reader)
    listing_page = client.get(f"/listings/{listing.id}").get_data(as_text=True)
    assert many in listing_page
    assert one in client.get("/claims/?tab=made").get_data(as_text=True)
    assert many in client.get("/listings/").get_data(as_text=True)
    assert "1 dozen" not in listing_page and "1 boxes" not in listing_page


def test_a_listing_with_nothing_left_says_so_instead_of_a_zero(app, make_listing, make_user,
                                                               login_as):
    listing = make_listing("Tillift", quantity=1, quantity_available=0)
    page = login_as(make_user(language=Language.NL)).get(f"/listings/{listing.id}").get_data(
        as_text=True)
    assert "Van deze advertentie is niets meer over om aan te bieden." in page
    assert "<strong>0</strong>" not in page


def test_accepting_when_nothing_is_left_says_so_instead_of_only_zero(
        app, make_listing, make_user, make_claim):
    listing = make_listing("Tillift", quantity=1)
    poster = make_user(organisation=listing.organisation)
    listing.created_by = poster
    first, second = make_claim(listing, make_user()), make_claim(listing, make_user())
    claims.accept_claim(poster, first)
    assert reload(listing).quantity_available == 0
    with app.test_request_context(), force_locale("nl"), pytest.raises(DomainError) as refusal:
        claims.accept_claim(poster, second)
    assert str(refusal.value.message).startswith("Er is niets meer over")
    assert "0" not in str(refusal.value.message)
    assert reload(second).status is ClaimStatus.REQUESTED


def test_today_is_the_platforms_date_not_the_servers(app, make_listing, server_in_utc):
    late_evening = datetime(2026, 12, 4, 23, 30, tzinfo=UTC)  # 00:30 on the 5th in Amsterdam
    assert local_today(late_evening) == date(2026, 12, 5)
    listing = make_listing("Tillift", available_until=date(2026, 12, 4))
    list(housekeeping.run(late_evening))
    assert reload(listing).status is ListingStatus.EXPIRED


@pytest.mark.parametrize(("language", "asked", "shown"), [
    (Language.NL, 1, "vraagt 1 doos aan"), (Language.NL, 2, "vraagt 2 dozen aan"),
    (Language.EN, 1, "asks for 1 box of"), (Language.EN, 2, "asks for 2 boxes of")])
def test_claim_emails_count_the_unit_in_the_recipients_language(
        app, make_listing, make_user, language, asked, shown):
    listing = make_listing("Handschoenen", unit=Unit.BOX, quantity=2)
    giver = make_user(organisation=listing.organisation, language=language)
    listing.created_by = giver
    db.session.commit()
    claims.claim_listing(make_user(), listing, asked)
    [mail] = outbox("claim_received", to=giver.email)
    assert shown in mail.body_text and shown in mail.body_html
