"""Unbound extensions and the declarative base; models and services import from here."""

from __future__ import annotations

import enum
from typing import Any, TypeVar, cast

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, literal_column
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql import Executable, visitors
from sqlalchemy.sql.elements import BindParameter

from .migration_support import include_object, render_item

# Stable constraint names, so that migrations can drop and alter them on every database.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(render_as_batch=True, compare_type=True, render_item=render_item,
                  include_object=include_object)
login_manager = LoginManager()
csrf = CSRFProtect()
mail = Mail()
babel = Babel()
limiter = Limiter(key_func=get_remote_address, default_limits=[])

# An execution option: on PostgreSQL the statement is prepared on its connection, so it is
# planned for any values once (marketplace/__init__.py), where otherwise every statement is
# planned afresh for its values.
PREPARE = "prepare_on_postgresql"

StatementT = TypeVar("StatementT", bound=Executable)


def prepared(statement: StatementT) -> StatementT:
    """`statement`, prepared on PostgreSQL: for the small statements every member's page asks,
    whose plan is the same whatever the values (planning them took ten times as long as running
    them). Never for a search, whose best plan depends on its words.

    The values written into the statement (a status compared with, `Claim.status ==
    ClaimStatus.REQUESTED`) are sent in its text, not as parameters: PostgreSQL plans a prepared
    statement once for any parameters only where that plan costs no more than one planned for
    the values, and with the statuses unknown it did not (a member's page was planned afresh at
    every request, 0.5 ms of the server's time)."""
    traversed = cast(visitors.ExternallyTraversible, statement)
    constants_inline: Any = visitors.replacement_traverse(traversed, {}, _constant_inline)
    return cast(StatementT, constants_inline.execution_options(**{PREPARE: True}))


def _constant_inline(element: Any, **_kw: Any) -> Any:
    # Anonymous (unique) parameters hold the statement's own values; named ones are supplied.
    if not (isinstance(element, BindParameter) and element.unique and element.value is not None):
        return None
    value = element.value.value if isinstance(element.value, enum.Enum) else element.value
    if isinstance(value, int) and not isinstance(value, bool):
        return literal_column(str(value), type_=element.type)
    if isinstance(value, str) and value.isidentifier():  # a status: nothing to escape
        return literal_column(f"'{value}'", type_=element.type)
    # Anything else written in when the statement runs, as its type writes it.
    return element.render_literal_execute()
