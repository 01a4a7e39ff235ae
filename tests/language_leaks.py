"""Finding text of the other language on a page or in an email, driven by the message catalogue.

Every message of the Dutch catalogue (and of WTForms' own, for its form errors) is a pair: the
English msgid and its Dutch msgstr (each plural form too), and so is each reference row the
database keeps in both languages (a category's `name_en` and `name_nl`, a standard reason's
`text_en` and `text_nl`). A Dutch page must show no English side of a pair, an English page no
Dutch side. A message is cut into phrases at its placeholders, markup, line breaks and clause
ends, and a phrase counts only when it can tell the languages apart:

- it is not also text of the other language: a phrase found (as whole words, same case) in any
  message of the other side is left out ("Status", "PDF", "Surplus Marketplace", "e-mail");
- it holds a word of at least MIN_WORD_LETTERS letters (no "No", "Ok", "kg", "m²");
- a single word cut out of a longer message ("van" in "%(a)s van %(b)s", "for", "with") is
  often glue that both languages' sentences and names contain: it counts only with at least
  MIN_CUT_WORD_LETTERS letters ("Hello", "pieces"); a word that is a whole message (a label:
  "Good", "Concept") counts from MIN_WORD_LETTERS.

Phrases are matched as whole words, with the case of the catalogue, in the visible text only:
text nodes (not scripts, styles or web addresses), option texts, button values and the
placeholder, title, aria-label and alt attributes. Text inside an element that declares another
`lang` (the language switch names each language in itself; an admin edits a reason in both)
belongs to that language and is skipped.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

import wtforms
from babel.messages.pofile import read_po

CATALOGUE = (Path(__file__).resolve().parents[1] / "marketplace" / "translations" / "nl"
             / "LC_MESSAGES" / "messages.po")
# The form errors WTForms writes itself ("This field is required.") come from its own catalogue.
CATALOGUES = (CATALOGUE, Path(wtforms.__file__).parent / "locale" / "nl" / "LC_MESSAGES"
              / "wtforms.po")
MIN_WORD_LETTERS = 3
MIN_CUT_WORD_LETTERS = 5
# Where a message is cut: placeholders (%(name)s, %s, {name}), markup, entities, line breaks,
# and the punctuation that ends a clause (a phrase is matched within a clause).
_CUTS = re.compile(r"%\(\w+\)[sdf]|%[sdf]|\{[^}]*\}|<[^>]*>|&\w+;"
                   r"|[\n:;()\[\]\"·|/…\u2018\u2019\u201c\u201d]|\.(?:\s|$)|\?|!")
_PLACEHOLDER = re.compile(r"%\(\w+\)[sdf]|%[sdf]|\{[^}]*\}")
_WORD = re.compile(r"\w+")
_EDGES = " \t,.-'\u2013\u2014"


def phrases_of(text: str) -> list[str]:
    """The phrases of one side of a message: its text between placeholders, markup and clause
    ends, with whitespace collapsed."""
    parts = (" ".join(part.split()).strip(_EDGES) for part in _CUTS.split(text))
    return [part for part in parts if part]


def _telling_parts(text: str) -> list[str]:
    """The phrases of one side of a message that may count (see the module's docstring)."""
    parts = phrases_of(text)
    if len(parts) == 1 and not _PLACEHOLDER.search(text):
        return parts  # a label
    return [part for part in parts if " " in part or len(part) >= MIN_CUT_WORD_LETTERS]


def _pairs() -> Iterator[tuple[str, str]]:
    """(English, Dutch) for every message and plural form of the catalogues."""
    for path in CATALOGUES:
        yield from _pairs_in(path)


def _pairs_in(path: Path) -> Iterator[tuple[str, str]]:
    with path.open("rb") as po_file:
        catalogue = read_po(po_file)
    for message in catalogue:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple | list) else (message.id,)
        strings = (message.string if isinstance(message.string, tuple | list)
                   else (message.string,))
        for index, english in enumerate(ids):
            dutch = strings[min(index, len(strings) - 1)]
            if dutch and dutch != english:
                yield english, dutch


@dataclass(frozen=True)
class Phrases:
    """The phrases of one language that give it away, indexed by their first word."""

    language: str
    by_first_word: dict[str, list[tuple[str, re.Pattern[str]]]]

    def __len__(self) -> int:
        return sum(len(phrases) for phrases in self.by_first_word.values())

    def found_in(self, chunks: Iterable[str]) -> list[tuple[str, str]]:
        """(phrase, the text it was found in) for every phrase present in `chunks`."""
        found = []
        for chunk in chunks:
            here = {phrase for word in set(_WORD.findall(chunk))
                    for phrase, pattern in self.by_first_word.get(word, ())
                    if pattern.search(chunk)}
            # "Right away, one email per event" once, not also as "Right away".
            found += [(phrase, chunk) for phrase in sorted(here)
                      if not any(phrase != other and phrase in other for other in here)]
        return found


def _pattern(phrase: str) -> re.Pattern[str]:
    words = (re.escape(part) for part in phrase.split(" "))
    return re.compile(r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)")


def _telling(phrases: set[str], other_side: list[str]) -> dict[str, list]:
    other_text = "\n".join(other_side)
    other_words = set(_WORD.findall(other_text))
    index: dict[str, list] = defaultdict(list)
    for phrase in sorted(phrases):
        words = _WORD.findall(phrase)
        if not words or max(len(word) for word in words) < MIN_WORD_LETTERS:
            continue
        pattern = _pattern(phrase)
        if set(words) <= other_words and pattern.search(other_text):
            continue  # text of the other language as well
        index[words[0]].append((phrase, pattern))
    return dict(index)


@cache
def phrases_giving_away(language: str, reference: tuple[tuple[str, str], ...] = ()) -> Phrases:
    """The phrases that may not appear on a page in the other language than `language`:
    English ones ("en") for Dutch pages, Dutch ones ("nl") for English pages. `reference` adds
    (English, Dutch) pairs of texts the database keeps in both languages (category names)."""
    pairs = [*_pairs(), *((english, dutch) for english, dutch in reference if english != dutch)]
    sides = {"en": [english for english, _ in pairs], "nl": [dutch for _, dutch in pairs]}
    other = "nl" if language == "en" else "en"
    phrases = {phrase for text in sides[language] for phrase in _telling_parts(text)}
    return Phrases(language, _telling(phrases, [phrase for text in sides[other]
                                                for phrase in phrases_of(text)]))


def other_language(language: str) -> str:
    return "nl" if language == "en" else "en"


# --- visible text ------------------------------------------------------------------------------

_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta",
                   "source", "track", "wbr"})
_URL = re.compile(r"https?://\S+")  # an address is no word of either language
_HIDDEN = frozenset({"script", "style"})
_SHOWN_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")
_BUTTON_TYPES = frozenset({"submit", "button", "reset"})


class _VisibleText(HTMLParser):
    def __init__(self, language: str) -> None:
        super().__init__(convert_charrefs=True)
        self.chunks: list[str] = []
        # (tag, whether its content is hidden or of another language)
        self._open: list[tuple[str, bool]] = [("", False)]
        self._language = language

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        lang = values.get("lang", "").split("-")[0]
        skipped = (self._open[-1][1] or tag in _HIDDEN
                   or bool(lang and lang != self._language))
        if not skipped:
            self.chunks += [values[name] for name in _SHOWN_ATTRIBUTES if values.get(name)]
            if tag == "input" and values.get("type") in _BUTTON_TYPES and values.get("value"):
                self.chunks.append(values["value"])
        if tag not in _VOID:
            self._open.append((tag, skipped))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        for depth in range(len(self._open) - 1, 0, -1):
            if self._open[depth][0] == tag:
                del self._open[depth:]
                return

    def handle_data(self, data: str) -> None:
        text = " ".join(_URL.sub(" ", data).split())
        if text and not self._open[-1][1]:
            self.chunks.append(text)


def visible_text(html: str, language: str) -> list[str]:
    """The texts a reader of `html` sees (or hears), as separate chunks, leaving out what an
    element marks as another language."""
    parser = _VisibleText(language)
    parser.feed(html)
    parser.close()
    return parser.chunks


def plain_text(text: str) -> list[str]:
    """The lines of a plain-text email, without its links."""
    lines = (" ".join(_URL.sub(" ", line).split()) for line in text.splitlines())
    return [line for line in lines if line]


def leaks(chunks: list[str], language: str,
          reference: tuple[tuple[str, str], ...] = ()) -> list[tuple[str, str]]:
    """(phrase, text) for every phrase of the other language than `language` in `chunks`."""
    return phrases_giving_away(other_language(language), reference).found_in(chunks)
