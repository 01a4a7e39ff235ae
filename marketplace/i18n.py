"""Which language a page speaks: the logged-in user's setting, else that of the member a signed
email link is for (or who just logged out), else the footer switch, else the browser."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from flask import Flask, after_this_request, current_app, g, has_request_context, request
from flask_babel import get_locale, get_translations, refresh
from flask_login import current_user, user_logged_in, user_logged_out
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup
from werkzeug.wrappers import Response

if TYPE_CHECKING:
    from .models import User

LANGUAGE_COOKIE = "language"
ONE_YEAR = 365 * 24 * 3600


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        # The command line speaks English, like its documentation; mail sets its own language.
        return "en"
    if current_user and current_user.is_authenticated:
        return current_user.language.value
    if "language_of_member" in g:
        return g.language_of_member
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen is not None and chosen in languages:
        return chosen
    # English when the browser asks for it (before Dutch), Dutch otherwise.
    return request.accept_languages.best_match(languages, default="nl") or "nl"


def current_language() -> str:
    """The code of the language this page (or email) is rendered in: "nl" or "en"."""
    return str(get_locale() or "nl")


def remember_language(response: Response, language: str) -> Response:
    """This browser speaks `language` from now on, until a member or the footer switch says
    otherwise."""
    response.set_cookie(LANGUAGE_COOKIE, language, max_age=ONE_YEAR, samesite="Lax",
                        httponly=True, secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response


def speak_as(user: User) -> None:
    """The rest of this request, and the visitor pages this browser opens next, speak `user`'s
    language: for a page a signed email link opened for them (they need not be logged in), and
    for a member who logs in or out. Whatever was translated before this call is not."""
    language = user.language.value
    g.language_of_member = language
    refresh()  # Flask-Babel keeps the language it chose first in this request
    after_this_request(lambda response: remember_language(response, language))


def _on_login_or_logout(_app: Flask, user: User | None = None, **_: Any) -> None:
    if user is not None and has_request_context():
        speak_as(user)


def init_app(app: Flask) -> None:
    """A member is greeted after logging in, and told they logged out, in their own language,
    whatever their browser asks for. Templates translate through `_template_translations`."""
    user_logged_in.connect(_on_login_or_logout, app)
    user_logged_out.connect(_on_login_or_logout, app)
    translations = _template_translations()
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda string: translations().ugettext(string),
        ngettext=lambda singular, plural, n: translations().ungettext(singular, plural, n),
        pgettext=lambda context, string: translations().upgettext(context, string),
        npgettext=lambda context, singular, plural, n: translations().unpgettext(
            context, singular, plural, n),
        newstyle=True)
    # `_("…")` in one call: Jinja's own goes through three (`_` looks up gettext, which calls
    # the function above), 4 % of a member's kept search page with its twenty texts.
    gettext = _template_gettext(translations)
    app.jinja_env.globals.update({"_": gettext, "gettext": gettext})


def _template_gettext(translations: Callable[[], Any]) -> Callable[..., str]:
    """Jinja's newstyle gettext (jinja2.ext._make_new_gettext) for one catalogue function."""

    @pass_eval_context
    def gettext(eval_context: EvalContext, string: str, **variables: Any) -> str:
        text = translations().ugettext(string)
        if eval_context.autoescape:
            # Our catalogue's text; the variables are escaped as they are put in.
            text = Markup(text)  # noqa: S704  # nosec B704
        return text % variables  # always a format string, as Jinja's: "%%" is "%"

    return gettext


def _template_translations() -> Callable[[], Any]:
    """The catalogue of the language a template speaks now, kept per language: Flask-Babel's
    own template functions looked it up for every string through the request's context, its
    locale and its catalogue cache (12 µs a string; a member's search page shows some twenty).
    The language is asked each time, so a mail rendered in its recipient's language
    (flask_babel.force_locale) and `speak_as` are followed. One catalogue domain, the app's."""
    by_language: dict[Any, Any] = {}

    def translations() -> Any:
        locale = get_locale()
        if locale is None:  # outside a request: Flask-Babel's answer
            return get_translations()
        catalogue = by_language.get(locale)
        if catalogue is None:
            catalogue = by_language[locale] = get_translations()
        return catalogue

    return translations
