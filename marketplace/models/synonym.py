"""Synonyms platform admins keep: groups of words meaning the same (handschoenen = gloves), which
search and alerts match as the word itself (services/synonyms.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import Model, UTCDateTime, shown_on_cards, utcnow

SYNONYM_WORD_LENGTH = 60


class SynonymGroup(Model):
    __tablename__ = "synonym_group"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    words: Mapped[list[SynonymWord]] = relationship(
        back_populates="group", order_by="SynonymWord.position",
        cascade="all, delete-orphan", passive_deletes=True)

    @property
    def text(self) -> str:
        """The words as the admin list shows them: "handschoenen, gloves"."""
        return ", ".join(word.word for word in self.words)

    def __repr__(self) -> str:
        return f"<SynonymGroup {self.id}>"


# A search with a word of a group finds the group's other words too: a change renews every
# kept search page.
@shown_on_cards()
class SynonymWord(Model):
    """One word or phrase of a group, folded (services/matching.fold), with its Dutch and English
    stems so that "gloves" and "glove" find the same group."""

    __tablename__ = "synonym_word"

    id: Mapped[int] = mapped_column(primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("synonym_group.id", ondelete="CASCADE"),
                                          index=True)
    # Unique: a word in two groups would join them in a way no admin sees on either.
    word: Mapped[str] = mapped_column(String(SYNONYM_WORD_LENGTH), unique=True)
    dutch_stem: Mapped[str] = mapped_column(String(SYNONYM_WORD_LENGTH), index=True)
    english_stem: Mapped[str] = mapped_column(String(SYNONYM_WORD_LENGTH), index=True)
    position: Mapped[int] = mapped_column(default=0)

    group: Mapped[SynonymGroup] = relationship(back_populates="words")

    def __repr__(self) -> str:
        return f"<SynonymWord {self.word!r} of {self.group_id}>"


# Seeded by migration 0018 (and services/defaults for tests): the demo categories' things, in
# Dutch and English, singular and plural where the stemmers do not join them.
DEFAULT_SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("handschoenen", "handschoen", "gloves", "glove"),
    ("rolstoel", "rolstoelen", "wheelchair", "wheelchairs"),
    ("rollator", "rollators", "walker", "walkers", "looprek"),
    ("tillift", "tilliften", "patientenlift", "hoist", "patient hoist"),
    ("tilband", "tilbanden", "sling", "lifting sling"),
    ("zorgbed", "hoog-laagbed", "hoog-laagbedden", "care bed", "hospital bed"),
    ("matras", "matrassen", "mattress", "mattresses"),
    ("mondkapje", "mondmasker", "mondkapjes", "face mask", "mask"),
    ("schort", "schorten", "apron", "gown"),
    ("verband", "verbandmiddelen", "bandage", "dressing"),
    ("desinfectiemiddel", "desinfectie", "disinfectant"),
    ("infuuspaal", "infuuspalen", "drip stand", "iv pole"),
    ("bloeddrukmeter", "bloeddrukmeters", "blood pressure monitor"),
    ("beddengoed", "laken", "lakens", "bed linen", "sheets"),
    ("handdoek", "handdoeken", "towel", "towels"),
    ("douchestoel", "douchestoelen", "shower chair"),
    ("stoel", "stoelen", "chair", "chairs"),
    ("bureau", "bureaus", "desk", "desks"),
    ("tafel", "tafels", "table", "tables"),
    ("kast", "kasten", "cupboard", "cabinet"),
    ("beeldscherm", "beeldschermen", "monitor", "monitors"),
    ("laptop", "laptops", "notebook"),
    ("krukken", "kruk", "crutches", "crutch"),
    ("wandelstok", "wandelstokken", "walking stick", "cane"),
    ("deken", "dekens", "blanket", "blankets"),
    ("zuurstof", "oxygen"),
    ("speelgoed", "toys", "toy"),
    ("koffiezetapparaat", "koffieapparaat", "coffee maker"),
    ("incontinentiemateriaal", "incontinentie", "incontinence"),
    ("glucosemeter", "bloedglucosemeter", "glucose meter"),
)
