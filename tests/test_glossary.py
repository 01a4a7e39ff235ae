"""One word for each thing: every message that names a glossary term in English uses its Dutch
word (docs/glossary.md, the rows marked ✓)."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).parent.parent
CATALOGUE = ROOT / "marketplace/translations/nl/LC_MESSAGES/messages.po"

# For each checked row of the glossary: how the English term is found in a message, and the
# Dutch words (as stems, so plurals and verb forms count) one of which its translation must use.
CHECKED_TERMS = {
    "listing": (r"\blistings?\b", r"advertentie|aanbod"),
    "claim (noun) / to claim": (r"\bclaim(s|ed|ing)?\b", r"aanvra|vraag|aan te vragen"),
    "hand-over": (r"\bhand-overs?\b", r"overdracht|overgedragen"),
    "collected": (r"\bcollected\b", r"opgehaald"),
    "pick-up site": (r"\bpick-up sites?\b", r"ophaallocatie"),
    "draft": (r"\bdrafts?\b", r"concept"),
    "wanted post": (r"\bwanted posts?\b", r"verzoek"),
    "alert": (r"\balerts?\b", r"zoekmelding"),
    "watch-word": (r"\bwatch-words?\b", r"signaalwoord"),
    "standard reason": (r"\bstandard reasons?\b", r"standaardreden"),
    "organisation admin": (r"\borganisation admins?\b", r"organisatiebeheerder"),
    "platform admin": (r"\bplatform admins?\b", r"platformbeheerder"),
    "audit log": (r"\baudit log\b", r"auditlog"),
}


def checked_rows_of_the_glossary() -> set[str]:
    text = (ROOT / "docs/glossary.md").read_text(encoding="utf-8")
    table = text.split("|---|---|---|---|", 1)[1]  # the rows below the header
    rows = set()
    for line in table.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[3] == "✓":
            rows.add(cells[0])
    return rows


def test_the_checked_terms_are_the_glossarys():
    assert checked_rows_of_the_glossary() == set(CHECKED_TERMS)


def test_every_message_uses_the_glossarys_dutch_word():
    with CATALOGUE.open("rb") as file:
        catalogue = read_po(file)
    astray = []
    for message in catalogue:
        if not message.id:
            continue
        english = message.id[0] if isinstance(message.id, tuple) else message.id
        translations = message.string if isinstance(message.string, tuple) else (message.string,)
        for term, (pattern, dutch) in CHECKED_TERMS.items():
            if re.search(pattern, english, re.IGNORECASE) and not all(
                    re.search(dutch, translation or "", re.IGNORECASE)
                    for translation in translations):
                astray.append(f"{term}: {english!r} -> {translations[0]!r}")
    assert astray == []
