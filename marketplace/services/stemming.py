"""Moved to marketplace/words.py (models use it too); this name goes once nothing imports it."""

from ..words import folded_words, stems, stems_of_text

__all__ = ["folded_words", "stems", "stems_of_text"]
