"""One fold for words everywhere they are compared in Python: alerts, wanted posts and
watch-words ignore case and accents alike (services.matching)."""

from __future__ import annotations

from datetime import date, timedelta

from helpers import outbox

from marketplace.extensions import db
from marketplace.models import Alert, ListingStatus, Role, WatchWord, WatchWordKind
from marketplace.services import watch_words
from marketplace.services.moderation import approve_listing
from marketplace.services.wanted import WantedDetails, post_wanted


def test_alerts_wanted_posts_and_watch_words_fold_words_alike(app, make_user, make_listing):
    admin = make_user(role=Role.PLATFORM_ADMIN)
    member, asker = make_user(), make_user()
    # Alerts and wanted posts find what the search finds (search.has_words): case ignored.
    db.session.add(Alert(user=member, words="STRAßE"))
    db.session.commit()
    post_wanted(asker, WantedDetails(title="Straße", description="", quantity=None,
                                     needed_by=date.today() + timedelta(days=7),
                                     category_id=None, province=None))
    listing = make_listing("Straßenbank", description="Een bank voor buiten.",
                           status=ListingStatus.PENDING_REVIEW)
    approve_listing(admin, listing)
    assert outbox("alert_match", to=member.email)
    assert outbox("wanted_likely_match", to=asker.email)

    watch_words.add_watch_word(admin, "Straße", WatchWordKind.OTHER)
    assert watch_words.find_watch_words("Bank voor de STRASSE") == ["strasse"]
    assert watch_words.find_watch_words("Bank voor de straße") == ["strasse"]


def test_a_watch_word_stored_by_the_older_fold_still_holds_and_is_marked(app):
    # lower() kept "ß"; words stored before the one fold are folded again when compared.
    db.session.add(WatchWord(word="straße", kind=WatchWordKind.OTHER))
    db.session.commit()
    assert watch_words.find_watch_words("Bank voor de Strasse") == ["straße"]
    assert str(watch_words.highlight("Bank voor de STRASSE", ["straße"])) == \
        "Bank voor de <mark>STRASSE</mark>"
