"""Surplus Marketplace: care organisations give their surplus products to each other."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the application; `config` overrides the settings read from the environment."""
    app = Flask(
        __name__,
        instance_path=os.environ.get("INSTANCE_PATH") or str(PROJECT_ROOT / "instance"),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    from .config import settings_from_environment
    from .input import MarketplaceRequest

    app.request_class = MarketplaceRequest

    app.config.from_mapping(settings_from_environment(Path(app.instance_path)))
    if config:
        app.config.from_mapping(config)
    _check_time_zone(app)
    _check_secret_key(app)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _configure_logging(app)

    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_request_hooks(app)
    register_template_helpers(app)
    register_commands(app)
    return app


def _check_time_zone(app: Flask) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = app.config["TIMEZONE"]
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:  # a typo would show every time wrong
        raise RuntimeError(f"TIMEZONE={name!r} is not a known time zone "
                           "(an IANA name such as Europe/Amsterdam).") from error
    app.config["BABEL_DEFAULT_TIMEZONE"] = name  # Flask-Babel's format_* helpers convert to it


def _check_secret_key(app: Flask) -> None:
    if app.config.get("SECRET_KEY"):
        return
    # A random key would log everyone out on each restart and break links between workers,
    # so production must set one; the local demo (`make run`) writes one to instance/.
    key_file = Path(app.instance_path) / "secret_key"
    if key_file.exists():
        app.config["SECRET_KEY"] = key_file.read_text().strip()
    elif app.debug or app.testing:
        app.config["SECRET_KEY"] = "dev-only-insecure-secret-key"  # noqa: S105  # nosec B105
    else:
        raise RuntimeError("Set SECRET_KEY (see README.md, Settings).")


def _configure_logging(app: Flask) -> None:
    from . import logs

    logs.init_app(app)  # LOG_LEVEL, LOG_FORMAT, request ids, the access line, token redaction


def register_extensions(app: Flask) -> None:
    from . import auth_session, connections, csrf_tokens, i18n, page_cache, session_cookie
    from .extensions import babel, csrf, db, limiter, login_manager, mail, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "migrations"))
    csrf.init_app(app)
    csrf_tokens.init_app(app)
    mail.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    session_cookie.init_app(app)
    auth_session.configure(login_manager)
    connections.configure(app)
    page_cache.init_app(app)
    if app.config.get("PROXY_FIX_HOPS"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        hops = app.config["PROXY_FIX_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)  # type: ignore[method-assign]


def register_blueprints(app: Flask) -> None:
    from werkzeug.routing import IntegerConverter

    from .models.base import DATABASE_INT_MAX

    class DatabaseIdConverter(IntegerConverter):
        """<int:…> in URLs: ids beyond a database integer are simply not found (404), instead of
        reaching PostgreSQL, which refuses them with an error."""

        def __init__(self, map, *args, **kwargs) -> None:
            kwargs.setdefault("max", DATABASE_INT_MAX)
            super().__init__(map, *args, **kwargs)

    app.url_map.converters["int"] = DatabaseIdConverter
    from .account.views import bp as account_bp
    from .admin import (  # noqa: F401  (routes)
        categories,
        green_deal,
        impact,
        moderation,
        reports,
        safety_notices,
        synonyms,
        users,
    )
    from .admin.views import bp as admin_bp
    from .alerts.views import bp as alerts_bp
    from .auth.views import bp as auth_bp
    from .claims.views import bp as claims_bp
    from .impact.views import bp as impact_bp
    from .listings.staged import bp as staged_photos_bp
    from .listings.views import bp as listings_bp
    from .main.views import bp as main_bp
    from .organisations.views import bp as organisations_bp
    from .photos.views import bp as photos_bp
    from .reports.views import bp as reports_bp
    from .safety_notices.views import bp as safety_notices_bp
    from .transfers.views import bp as transfers_bp
    from .wanted.views import bp as wanted_bp

    for blueprint in (main_bp, auth_bp, account_bp, organisations_bp, admin_bp, listings_bp,
                      staged_photos_bp, photos_bp, claims_bp, alerts_bp, wanted_bp, reports_bp,
                      impact_bp, safety_notices_bp, transfers_bp):
        app.register_blueprint(blueprint)


def register_error_handlers(app: Flask) -> None:
    from .errors import register

    register(app)


def register_request_hooks(app: Flask) -> None:
    from .headers import add_security_headers
    from .mail_hooks import deliver_after_request

    app.after_request(deliver_after_request)
    app.after_request(add_security_headers)


def register_template_helpers(app: Flask) -> None:
    from .templating import register

    register(app)


def register_commands(app: Flask) -> None:
    from .cli import register

    register(app)
