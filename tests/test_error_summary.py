"""Errors the GOV.UK way (issue 17): a summary first on the page, a link per error to its
input, the page's title starting with "Error: ", and a specific message for every required
field of the forms members use."""

from __future__ import annotations

import inspect
import re

import pytest
from builders import post_listing
from werkzeug.datastructures import MultiDict
from wtforms.validators import DataRequired, InputRequired

from marketplace.account.forms import ChangePasswordForm, DeleteAccountForm, ProfileForm
from marketplace.admin.forms import ReasonForm, UserDeactivateForm
from marketplace.admin.moderation_forms import ReasonTextsForm, WatchWordForm
from marketplace.auth.forms import EmailForm, LoginForm, ResetPasswordForm, SignUpForm
from marketplace.claims.forms import ClaimForm, MessageForm
from marketplace.listings.forms import ListingForm, RelistForm
from marketplace.models import Language
from marketplace.reports.forms import ReportForm
from marketplace.wanted.forms import AnswerForm, WantedForm

GENERIC = ("This field is required.", "Dit veld is vereist.", "Not a valid choice.")


def summary_of(page: str) -> str:
    found = re.search(r'<div class="error-summary"[^>]*>.*?</div>', page, re.S)
    assert found, "no error summary on the page"
    return found.group(0)


def title_of(page: str) -> str:
    found = re.search(r"<title>(.*?)</title>", page, re.S)
    assert found
    return found.group(1).strip()


def test_a_refused_listing_has_a_summary_linking_to_each_field(make_user, login_as):
    poster = make_user()
    page = post_listing(login_as(poster), poster, title="", category="").get_data(as_text=True)

    summary = summary_of(page)
    assert 'role="alert"' in summary and 'tabindex="-1"' in summary
    assert "There is a problem" in summary
    links = {message: target for target, message in
                 re.findall(r'<a href="#([\w-]+)">([^<]+)</a>', summary)}
    assert links["Enter a title"] == "title"
    assert links["Choose a category"] == "category"
    for target in links.values():
        assert f'id="{target}"' in page, target  # each link leads to an input on the page
    assert page.index("error-summary") < page.index('id="title"')  # first, above the form
    # Each field's own error stays by the field.
    assert re.search(r'id="title-error">Enter a title<', page)
    assert title_of(page).startswith("Error: ")


def test_the_summary_and_title_speak_dutch(make_user, login_as):
    poster = make_user(language=Language.NL)
    page = post_listing(login_as(poster), poster, title="", quantity="").get_data(as_text=True)

    summary = summary_of(page)
    assert "Er is een probleem" in summary
    assert '<a href="#title">Vul een titel in</a>' in summary
    assert '<a href="#quantity">Vul in hoeveel je aanbiedt</a>' in summary
    assert title_of(page).startswith("Fout: ")


def test_a_page_without_errors_has_no_summary_and_a_plain_title(make_user, login_as):
    page = login_as(make_user()).get("/listings/new").get_data(as_text=True)
    assert "error-summary" not in page
    assert not title_of(page).startswith("Error")


def test_a_radio_group_is_linked_by_its_first_choice(make_user, make_listing, login_as):
    listing = make_listing()
    page = login_as(make_user()).post(f"/listings/{listing.id}/report",
                                      data={"text": "Vreemd"}).get_data(as_text=True)
    summary = summary_of(page)
    assert '<a href="#reason-0">Choose a reason from the list.</a>' in summary
    assert 'id="reason-0"' in page
    assert title_of(page).startswith("Error: ")


# --- a specific message for every required field ------------------------------------------------

# The site form's fields are all optional: the service names what is missing.
FORMS = [ListingForm, RelistForm, ClaimForm, MessageForm, SignUpForm, LoginForm, EmailForm,
         ResetPasswordForm, ProfileForm, ChangePasswordForm, DeleteAccountForm, WantedForm,
         AnswerForm, ReportForm, ReasonForm, UserDeactivateForm, ReasonTextsForm,
         WatchWordForm]


def _required(field) -> bool:
    return any(isinstance(validator, (DataRequired, InputRequired))
               for validator in field.validators)


@pytest.mark.parametrize("form_class", FORMS, ids=lambda form_class: form_class.__name__)
def test_every_required_field_says_what_to_do(app, form_class):
    """Each form sent with every field empty: no required field answers the generic message."""
    with app.test_request_context(method="POST", headers={"Accept-Language": "en"}):
        names = [field.name for field in form_class(meta={"csrf": False})]
        form = form_class(formdata=MultiDict(dict.fromkeys(names, "")),
                          meta={"csrf": False})
        if hasattr(form, "set_choices"):
            arguments = len(inspect.signature(form.set_choices).parameters)
            form.set_choices(*([[(1, "Een")]] * arguments))
        if isinstance(form, AnswerForm):
            form.listing.choices = [(1, "Een")]
        form.validate()
        required = [field for field in form if _required(field)]
        assert required, "the form has required fields"
        for field in required:
            assert field.errors, field.name
            for message in field.errors:
                assert str(message) not in GENERIC, (field.name, str(message))
