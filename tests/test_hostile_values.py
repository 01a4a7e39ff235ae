"""No date or number from a URL or a form gives a server error, on any page (issue 14, item 8).

Every page of the URL map is asked for with every query parameter the application reads (and
those its own GET forms send) set to a hostile value; then every form on those pages that has a
date or number field is sent as the page fills it in, with one such field at a time set to a
hostile value. An out-of-range value is a form error or no filter, never a 5xx.

The scenario is tests/security_world.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlencode, urljoin

import pytest
from security_world import build_world, client_for, fetch, rules_with, url_for_rule, variants

from marketplace.extensions import db

# "9" * 400: past the largest float (wtforms' NumberRange failed on it: forms.NumberRange).
HOSTILE_VALUES = ("9999-12-31", "0001-01-01", "99999999999999999999", "9" * 400, "-1", "abc")
# What views and services read from query strings (besides what the pages' own GET forms send).
QUERY_NAMES = ("from", "to", "page", "q", "status", "role", "organisation", "action",
               "category", "province", "period", "tab", "days", "sort", "kind", "condition",
               "delivery", "next", "email", "km", "near")
NUMBER_TYPES = {"date", "number", "month", "datetime-local"}


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)  # as the page fills them in
    numeric: list[str] = field(default_factory=list)  # names of date and number fields


class Forms(HTMLParser):
    """The forms of a page: where they go, their fields' values, which are dates or numbers."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attributes: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attributes}
        if tag == "form":
            self.forms.append(Form(values.get("action", ""), values.get("method", "get").lower()))
            return
        if not self.forms or not values.get("name"):
            if tag == "option" and self._select and self._select not in self.forms[-1].fields:
                self.forms[-1].fields[self._select] = values.get("value", "")
            return
        form, name = self.forms[-1], values["name"]
        kind = values.get("type", "text").lower()
        if tag == "input" and kind not in ("submit", "button", "file", "image", "reset"):
            if kind in ("checkbox", "radio") and "checked" not in values:
                return
            form.fields[name] = values.get("value", "")
            if kind in NUMBER_TYPES or values.get("inputmode") in ("numeric", "decimal"):
                form.numeric.append(name)
        elif tag == "select":
            self._select = name
        elif tag == "textarea":
            self._textarea = name
            form.fields[name] = ""
        elif tag == "option" and self._select and "selected" in values:
            form.fields[self._select] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea and self.forms:
            self.forms[-1].fields[self._textarea] += data


def forms_of(body: str) -> list[Form]:
    parser = Forms()
    parser.feed(body)
    return parser.forms


@pytest.fixture
def world(app, make_org, make_user, make_listing):
    return build_world(make_org, make_user, make_listing)


def pages(app, world) -> list[str]:
    return [url_for_rule(rule, world, variant) for rule in rules_with(app, "GET")
            if rule.endpoint != "static" for variant in variants(rule)]


def test_no_hostile_value_in_a_query_string_gives_a_server_error(app, world):
    client = client_for(app, "platform_admin", world)  # the role that may open every page
    failures = []
    for url in pages(app, world):
        answer = fetch(client, "GET", url)
        names = set(QUERY_NAMES)
        if answer.status == 200:
            for form in forms_of(answer.body):
                if form.method == "get":
                    names |= set(form.fields)
        for value in HOSTILE_VALUES:
            query = urlencode(dict.fromkeys(sorted(names), value))
            hostile = fetch(client, "GET", f"{url}?{query}")
            if hostile.status >= 500:
                failures.append((url, value, hostile.status))
    assert failures == []


@pytest.mark.parametrize("role", ["org_admin", "outsider", "platform_admin"])
def test_no_hostile_date_or_number_in_a_form_gives_a_server_error(app, world, role):
    client = client_for(app, role, world)
    seen, failures, fields_tried = set(), [], 0
    for url in pages(app, world):
        answer = fetch(client, "GET", url)
        if answer.status != 200:
            continue
        for form in forms_of(answer.body):
            action = urljoin(url, form.action or url)
            # One form of each kind: the edit forms of three listings are one form.
            key = (re.sub(r"\d+", "N", action.split("?")[0]), tuple(sorted(form.numeric)))
            if form.method != "post" or not form.numeric or key in seen:
                continue
            seen.add(key)
            for name in form.numeric:
                fields_tried += 1
                for value in HOSTILE_VALUES:
                    sent = fetch(client, "POST", action, data={**form.fields, name: value})
                    if sent.status >= 500:
                        failures.append((action, name, value, sent.status))
                    db.session.rollback()
    assert fields_tried >= 3  # the walk found the forms it is about
    assert failures == []
