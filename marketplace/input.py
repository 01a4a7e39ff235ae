"""What every request's form and query values go through before any view sees them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from flask import Request
from werkzeug.datastructures import ImmutableMultiDict, MultiDict


def _without_nul(value: Any) -> Any:
    return value.replace("\x00", "") if isinstance(value, str) else value


class NulFreeMultiDict(ImmutableMultiDict):
    """Form and query values without NUL characters: PostgreSQL refuses them in text (an error,
    not a message), and no person types one."""

    def __init__(self, mapping: Mapping | Iterable | None = None) -> None:
        if isinstance(mapping, Mapping):
            pairs = MultiDict(mapping).items(multi=True)
        else:
            pairs = mapping or []
        super().__init__([(_without_nul(key), _without_nul(value)) for key, value in pairs])


class MarketplaceRequest(Request):
    parameter_storage_class = NulFreeMultiDict
