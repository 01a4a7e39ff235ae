"""The schema revision a restored database is at, compared with this version's migrations."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

if TYPE_CHECKING:
    from alembic.script import ScriptDirectory


def revision_advice(revision: str | None) -> str:
    """What the operator should do about the restored schema's migration revision."""
    script = _migrations()
    head = script.get_current_head()
    known = {migration.revision for migration in script.walk_revisions()}
    if revision is None:
        return ("The backup records no schema revision (no alembic_version table): if its "
                "schema is current, run `flask db stamp head`.")
    if revision == head:
        return f"The schema is at revision {revision}, this version's latest."
    if revision in known:
        return (f"The backup's schema is at revision {revision}, older than this version's "
                f"{head}: run `flask db upgrade` before starting the app.")
    return (f"The backup's schema revision {revision} is unknown to this version of the app "
            "(made by a newer one?): install that version before starting the app.")


def head_revision() -> str | None:
    """The latest schema revision of this version's migrations."""
    return _migrations().get_current_head()


def _migrations() -> ScriptDirectory:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", current_app.extensions["migrate"].directory)
    return ScriptDirectory.from_config(config)
