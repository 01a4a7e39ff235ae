"""Transfers of ownership: the document of a collected claim and each organisation's register."""
