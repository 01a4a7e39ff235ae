"""The home page, the language switch and the health check."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from .. import health
from ..extensions import limiter
from ..i18n import remember_language
from ..listings import pages
from ..security import in_good_standing
from ..services import accounts, todo
from ..web import safe_next_url

bp = Blueprint("main", __name__)

HOME_PAGE_LISTINGS = 12
# Below a member's to-do list the newest listings are a glance, not the page.
MEMBER_HOME_LISTINGS = 4


@bp.route("/")
def home() -> str:
    """Visitors get what the marketplace is; a member what waits for them (services/todo);
    an account not in good standing what it waits for."""
    if not current_user.is_authenticated:
        return render_template("main/home.html", to_do=None,
                               newest=pages.newest_part(current_user, HOME_PAGE_LISTINGS))
    member = in_good_standing(current_user)
    return render_template("main/home.html", member=member,
                           to_do=todo.to_do_for(current_user) if member else None,
                           newest=pages.newest_part(current_user, MEMBER_HOME_LISTINGS))


@bp.route("/privacy")
def privacy() -> str:
    """What personal data we keep, why, for how long, and how members use their rights."""
    return render_template("main/privacy.html",
                           contact=current_app.config["PRIVACY_CONTACT"],
                           photo_grace_days=current_app.config["PHOTO_GRACE_DAYS"])


@bp.route("/language", methods=["POST"])
def switch_language() -> Response:
    """The footer switch: remembered in a cookie, and in the profile of a logged-in user."""
    language = request.form.get("language", "")
    target = safe_next_url(request.form.get("next")) or url_for("main.home")
    response = redirect(target)
    if language in current_app.config["LANGUAGES"]:
        remember_language(response, language)
        if current_user.is_authenticated:
            accounts.set_language(current_user, language)
    return response


@bp.route("/livez")
@limiter.exempt
def livez() -> tuple[str, int, dict[str, str]]:
    """The process answers, nothing more (no database): for liveness probes, and the
    load test's measure of what the framework alone can serve."""
    return "ok", 200, {"Content-Type": "text/plain; charset=utf-8", "Cache-Control": "no-store"}


@bp.route("/healthz")
@limiter.exempt
def healthz() -> tuple[Response, int, dict[str, str]]:
    """For load balancers and monitoring: 200 when the database answers and photos can be
    stored, else 503 naming the part that fails (details only in the log). A configured Redis
    that does not answer makes it "degraded", still 200: the site works without it; so does
    less free space for photos than HEALTH_MIN_FREE_MB ("storage": "low_space")."""
    checks = {"database": health.check_database(), "storage": health.check_storage()}
    healthy = all(result in health.PASSING for result in checks.values())
    status = "ok" if healthy else "error"
    redis_check = health.check_redis()
    if redis_check is not None:
        checks["redis"] = redis_check
        if healthy and redis_check != health.OK:
            status = "degraded"
    if healthy and checks["storage"] == health.LOW_SPACE:
        status = "degraded"
    return (jsonify(status=status, **checks), 200 if healthy else 503,
            {"Cache-Control": "no-store"})
