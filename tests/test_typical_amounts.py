"""The posting form suggests what earlier listings of the chosen category were worth and
weighed per unit (the impact figures count both; most posters would have to guess)."""

from __future__ import annotations

import json
import re
from decimal import Decimal

from builders import category_id, post_listing

from marketplace.models import Language, ListingStatus


def typical_hints(page: str) -> dict[str, dict[str, str]]:
    found = re.search(r'<script type="application/json" id="typical-hints">(.*?)</script>',
                      page, re.S)
    assert found, "the form carries the suggestions for every category"
    return json.loads(found.group(1))


def test_the_form_suggests_the_median_value_and_weight_of_the_category(make_user, make_listing,
                                                                       login_as):
    poster = make_user()
    for value, weight in [("10", "1.5"), ("20", "2"), ("90", "30")]:
        make_listing(category="medical-aids", value_per_unit=Decimal(value),
                     weight_per_unit_kg=Decimal(weight))
    make_listing(category="medical-aids", status=ListingStatus.DRAFT,
                 value_per_unit=Decimal("5000"))  # a draft is a guess in progress
    make_listing(category="furniture", value_per_unit=Decimal("75"))  # one says too little
    client = login_as(poster)

    # The title forgotten: the form comes back with the category chosen and its suggestions.
    page = post_listing(client, poster, title="", category=str(category_id("medical-aids"))) \
        .get_data(as_text=True)

    assert "Listings in this category are usually worth about €20.00 per unit." in page
    assert "Listings in this category usually weigh about 2 kg per unit." in page
    hints = typical_hints(page)
    assert hints[str(category_id("medical-aids"))]["value"].endswith("€20.00 per unit.")
    assert str(category_id("furniture")) not in hints


def test_the_suggestion_speaks_dutch_with_dutch_amounts(make_user, make_listing, login_as):
    poster = make_user(language=Language.NL)
    for value in ["1234.5", "1234.5", "1300"]:
        make_listing(category="medical-aids", value_per_unit=Decimal(value))
    page = post_listing(login_as(poster), poster, title="",
                        category=str(category_id("medical-aids"))).get_data(as_text=True)

    assert "zijn meestal ongeveer €\u00a01.234,50 per eenheid waard." in page
