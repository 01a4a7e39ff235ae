"""The Dutch platform says "je" everywhere: in the catalogue and in the texts it seeds."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

from marketplace.models.moderation import DEFAULT_MODERATION_REASONS

CATALOGUE = Path(__file__).parent.parent / "marketplace/translations/nl/LC_MESSAGES/messages.po"
FORMAL = re.compile(r"\b(u|uw|U|Uw|UW)\b")


def dutch_texts() -> list[str]:
    with CATALOGUE.open("rb") as file:
        catalogue = read_po(file)
    texts = []
    for message in catalogue:
        if message.id:
            strings = message.string if isinstance(message.string, tuple) else (message.string,)
            texts.extend(string for string in strings if string)
    return texts + [text_nl for text_nl, _text_en in DEFAULT_MODERATION_REASONS]


def test_no_dutch_text_addresses_the_reader_formally():
    formal = [text for text in dutch_texts() if FORMAL.search(text)]
    assert formal == []
