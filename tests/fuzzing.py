"""Hypothesis strategies the fuzz tests share: what a hostile or careless client may send.

The examples per test are kept modest so each fuzz file runs in well under a minute; the
profile (deterministic on CI, exploring locally) is chosen in conftest.py.
"""

from __future__ import annotations

import operator
from datetime import date, datetime

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

# The app and its rows are built once per test function (function-scoped fixtures), and every
# example runs against them: that is intended, so the health check for it is switched off.
FUZZ = settings(max_examples=25, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])

# Values people and scripts send that have broken parsers elsewhere.
TRICKY = [
    "", " ", "\t\n", "0", "-1", "00012", "1.5", "1,5", "1e309", "-0", "NaN", "inf", "+1",
    "2147483648", "9223372036854775808", "9" * 40, "0x10", "١٢٣",  # Arabic-Indic digits
    "2024-02-30", "0000-00-00", "9999-12-31", "31-12-2024", "2024-13-01", "today",
    "\x00", "a\x00b", "\r\nBcc: x@example.org", "<script>alert(1)</script>", "' OR 1=1 --",
    '"', "%", "%(count)d", "%s", "{{ 7*7 }}", "{0}", "../../etc/passwd", "NEAR(a b)",
    "title:x", "a AND b OR NOT c", "*", "^a", "(", ")", "\\", "é" * 3, "\u202e", "\ufeff",
    "\U0001f600", "x@example.org", "X@EXAMPLE.ORG ", "@", "a@b", "null", "None", "true",
]

any_text = st.text()  # any Unicode but surrogates, which cannot be sent as UTF-8
control_text = st.text(st.characters(codec="utf-8",
                                     categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Mn"]))
ascii_text = st.text(st.characters(max_codepoint=0x7F))
# Long, but under the form size limit (Flask's MAX_FORM_MEMORY_SIZE, 500 kB) times a few fields.
long_text = st.builds(operator.mul, st.text(min_size=1, max_size=3), st.integers(300, 12_000))
number_text = st.one_of(st.integers().map(str), st.floats().map(str),
                        st.decimals().map(str), st.integers(-10, 200).map(str))
date_text = st.one_of(st.dates().map(date.isoformat), st.datetimes().map(datetime.isoformat),
                      st.dates(min_value=date(1900, 1, 1)).map(lambda day: day.strftime(
                          "%d-%m-%Y")))

text_value = st.one_of(any_text, control_text, ascii_text, long_text, number_text, date_text,
                       st.sampled_from(TRICKY))


def field_value(good: list[str] | tuple[str, ...] = ()) -> st.SearchStrategy[str | list[str]]:
    """One field's value: a sensible one (when given), any text, or several values at once."""
    single = st.one_of(st.sampled_from(list(good)), text_value) if good else text_value
    return st.one_of(single, single, st.lists(single, min_size=2, max_size=4))


def form_data(fields: dict[str, list[str] | tuple[str, ...]]) -> st.SearchStrategy[dict]:
    """A posted form: each field present or not, with `field_value`s, and a stray field or two."""
    return st.fixed_dictionaries(
        {}, optional={name: field_value(good) for name, good in fields.items()},
    ).flatmap(lambda data: st.dictionaries(st.sampled_from(TRICKY[:12]) | ascii_text,
                                           text_value, max_size=2)
              .map(lambda extra: {**extra, **data}))
