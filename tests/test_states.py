"""State machines: each status changes only through its model's transition table
(`marketplace/models/states.py`), and nothing in `marketplace/` writes a status another way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from marketplace.extensions import db
from marketplace.models import Claim, ClaimStatus, Listing, ListingStatus
from marketplace.models.claim import OPEN_CLAIM_STATUSES
from marketplace.models.states import IllegalTransition, move, transition_update

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "marketplace"

# Where a status may be written without a table's transition function, and why. Keyed by
# module (relative to marketplace/) and function ("*": the whole module).
ALLOWED_WRITES = {
    ("models/states.py", "*"): "the transition functions themselves",
    ("services/demo.py", "*"): "demo data is made in the states it shows",
    ("services/demo_listings.py", "*"): "demo data is made in the states it shows",
    ("services/demo_moderation.py", "*"): "demo data is made in the states it shows",
    ("services/mail/delivery.py", "*"):
        "the outbox's delivery bookkeeping, not a domain state machine",
    ("services/accounts/onboarding.py", "organisation_for_onboarding"):
        "asks new_organisation for an active one, which starts it through move()",
}
# Models whose status is not one of the domain's state machines.
EXEMPT_MODELS = {"OutboxMessage": "the mail sender's delivery bookkeeping"}


def _state_models() -> dict[str, type]:
    """Every mapped class with a status column, by class name."""
    return {mapper.class_.__name__: mapper.class_ for mapper in db.Model.registry.mappers
            if "status" in mapper.columns}


def _initial_member(node: ast.expr, model: type) -> bool:
    """True when `node` is `SomeStatus.MEMBER` and that member is one a new row may start in."""
    table = getattr(model, "STATUS_TRANSITIONS", None)
    if table is None or not isinstance(node, ast.Attribute) \
            or not isinstance(node.value, ast.Name) or node.value.id != table.states.__name__:
        return False
    member = getattr(table.states, node.attr, None)
    return member in table.initial


def _updated_model(call: ast.Call) -> str | None:
    """The model named in the `update(Model)` / `insert(Model)` this `.values()` belongs to."""
    node: ast.AST = call.func
    while isinstance(node, ast.Attribute | ast.Call):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in {"update", "insert"} and node.args \
                and isinstance(node.args[0], ast.Name):
            return node.args[0].id
        node = node.func if isinstance(node, ast.Call) else node.value
    return None


def _status_enum_names(models: dict[str, type]) -> set[str]:
    return {model.__table__.columns["status"].type.enum_class.__name__
            for name, model in models.items() if name not in EXEMPT_MODELS}


class _StatusWrites(ast.NodeVisitor):
    def __init__(self, models: dict[str, type]) -> None:
        self.models = models
        self.enums = _status_enum_names(models)
        self.function = "*"
        self.found: list[tuple[str, int, str]] = []

    def _note(self, node: ast.AST, what: str) -> None:
        self.found.append((self.function, node.lineno, what))  # type: ignore[attr-defined]

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> None:
        outer, self.function = self.function, node.name if self.function == "*" \
            else f"{self.function}.{node.name}"
        self.generic_visit(node)
        self.function = outer

    visit_AsyncFunctionDef = visit_FunctionDef

    def _targets(self, targets: list[ast.expr]) -> None:
        for target in targets:
            if isinstance(target, ast.Tuple | ast.List):
                self._targets(list(target.elts))
            elif isinstance(target, ast.Attribute) and target.attr == "status":
                self._note(target, f"{ast.unparse(target)} = …")

    def visit_Assign(self, node: ast.Assign) -> None:
        self._targets(node.targets)
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._targets([node.target])
        self.generic_visit(node)

    def visit_AnnAssign(self, node: ast.AnnAssign) -> None:
        self._targets([node.target])
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        status_keyword = next((k for k in node.keywords if k.arg == "status"), None)
        if isinstance(func, ast.Attribute) and func.attr == "values":
            sets_status = status_keyword is not None or any(
                isinstance(arg, ast.Dict) and any(
                    isinstance(key, ast.Constant) and key.value == "status" for key in arg.keys)
                for arg in node.args)
            if sets_status and _updated_model(node) not in EXEMPT_MODELS:
                self._note(node, f"{ast.unparse(func)}(status=…)")
        elif isinstance(func, ast.Name) and func.id == "setattr" and len(node.args) > 1 \
                and isinstance(node.args[1], ast.Constant) and node.args[1].value == "status":
            self._note(node, "setattr(…, 'status', …)")
        elif isinstance(func, ast.Name) and func.id in self.models \
                and func.id not in EXEMPT_MODELS and status_keyword is not None \
                and not _initial_member(status_keyword.value, self.models[func.id]):
            self._note(node, f"{func.id}(status={ast.unparse(status_keyword.value)})")
        elif status_keyword is not None and not (isinstance(func, ast.Name)
                                                 and func.id in self.models) \
                and isinstance(status_keyword.value, ast.Attribute) \
                and isinstance(status_keyword.value.value, ast.Name) \
                and status_keyword.value.value.id in self.enums \
                and not (isinstance(func, ast.Attribute) and func.attr == "filter_by"):
            # A helper handed a status to write (as housekeeping's _claimed once was).
            self._note(node, f"{ast.unparse(func)}(…, status={ast.unparse(status_keyword.value)})")
        self.generic_visit(node)


def status_writes(package: Path, models: dict[str, type]) -> list[tuple[str, str, int, str]]:
    """(module, function, line, what) for every status written in `package`."""
    found = []
    for path in sorted(package.rglob("*.py")):
        visitor = _StatusWrites(models)
        visitor.visit(ast.parse(path.read_text(), str(path)))
        module = path.relative_to(package).as_posix()
        found += [(module, function, line, what) for function, line, what in visitor.found]
    return found


def _allowed(module: str, function: str) -> bool:
    return (module, "*") in ALLOWED_WRITES or (module, function) in ALLOWED_WRITES \
        or (module, function.split(".")[0]) in ALLOWED_WRITES


def test_no_status_is_written_outside_the_transition_functions(app):
    stray = [f"marketplace/{module}:{line} in {function}: {what}"
             for module, function, line, what in status_writes(PACKAGE, _state_models())
             if not _allowed(module, function)]
    assert not stray, ("a status changes only through its model's transition table "
                       "(models/states.move or transition_update):\n" + "\n".join(stray))


def test_every_allowed_writer_still_writes_a_status(app):
    """An allow-list entry whose code no longer writes a status is dropped, not kept."""
    writers = {(module, function.split(".")[0]) for module, function, _line, _what
               in status_writes(PACKAGE, _state_models())}
    modules = {module for module, _function in writers}
    stale = [key for key in ALLOWED_WRITES
             if (key[1] == "*" and key[0] not in modules)
             or (key[1] != "*" and key not in writers)]
    assert not stale


def test_every_state_model_has_a_transition_table(app):
    missing = [name for name, model in _state_models().items()
               if name not in EXEMPT_MODELS and not hasattr(model, "STATUS_TRANSITIONS")]
    assert not missing


def test_the_open_claim_index_spells_the_tables_open_statuses_as_its_migration_does():
    [index] = [index for index in Claim.__table__.indexes
               if index.name == "uq_claim_open_per_member"]
    where = str(index.dialect_options["postgresql"]["where"])
    assert where == str(index.dialect_options["sqlite"]["where"])
    assert where == "status IN ('awaiting_sign_off', 'requested', 'accepted')"
    assert {ClaimStatus.AWAITING_SIGN_OFF, ClaimStatus.REQUESTED,
            ClaimStatus.ACCEPTED} == OPEN_CLAIM_STATUSES
    # The latest migration that recreated the index (0004 made it, 0024 widened it).
    migration = (ROOT / "migrations/versions/0024_medical_sign_off.py").read_text()
    assert f'NEW_OPEN = "{where}"' in migration


def test_moving_checks_the_table(app, make_listing):
    listing = make_listing(status=ListingStatus.PUBLISHED)
    with pytest.raises(IllegalTransition):
        move(listing, ListingStatus.REJECTED)  # moderation rejects only what waits for review
    assert listing.status is ListingStatus.PUBLISHED
    move(listing, ListingStatus.WITHDRAWN)
    assert listing.status is ListingStatus.WITHDRAWN


def test_a_conditional_update_changes_only_a_row_in_an_allowed_state(app, make_listing):
    listing = make_listing(status=ListingStatus.WITHDRAWN)
    closed = db.session.execute(
        transition_update(Listing, ListingStatus.CLOSED, Listing.id == listing.id)).rowcount
    assert closed == 0  # only a published listing is handed over
    with pytest.raises(IllegalTransition):
        transition_update(Listing, ListingStatus.CLOSED, only_from=ListingStatus.WITHDRAWN)
