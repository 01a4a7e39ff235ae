"""State machines: one transition table per model with a status, and the two ways to move it.

Every status change in `marketplace/` goes through `move` (an object in the session) or
`transition_update` (a conditional UPDATE, which is what makes races safe: of two changes at
once, one finds the row no longer in an allowed state). `tests/test_states.py` fails when a
status is written anywhere else.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, Update, update

S = TypeVar("S", bound=enum.Enum)


class IllegalTransition(ValueError):
    """A status change the table does not allow: a bug, since services check the state first
    and refuse with a DomainError the member can read."""


class Transitions(Generic[S]):
    """Which status may follow which, and what a new row may start in."""

    def __init__(self, states: type[S], initial: Iterable[S],
                 edges: Mapping[S, Iterable[S]]) -> None:
        self.states = states
        self.initial = frozenset(initial)
        self.edges: dict[S, frozenset[S]] = {state: frozenset(edges.get(state, ()))
                                             for state in states}
        unknown = {target for targets in self.edges.values() for target in targets} \
            | self.initial
        if not all(isinstance(state, states) for state in unknown):
            raise TypeError(f"a transition of {states.__name__} names another enum's member")

    def allows(self, source: S, target: S) -> bool:
        return target in self.edges[source]

    def sources_of(self, target: S) -> frozenset[S]:
        """The states from which `target` may be reached."""
        return frozenset(source for source, targets in self.edges.items() if target in targets)

    def targets_of(self, source: S) -> frozenset[S]:
        return self.edges[source]

    @property
    def open(self) -> frozenset[S]:
        """The states with a way out (the rest are final)."""
        return frozenset(state for state, targets in self.edges.items() if targets)

    def in_order(self, states: Iterable[S]) -> list[S]:
        """`states` in the enum's order (stable SQL text, readable messages)."""
        chosen = set(states)
        return [state for state in self.states if state in chosen]

    def sql_in(self, column: str, states: Iterable[S]) -> str:
        """`column IN ('a', 'b')` for DDL such as a partial index (values are the enum's own,
        never user input)."""
        values = ", ".join(f"'{state.value}'" for state in self.in_order(states))
        return f"{column} IN ({values})"

    def check(self, source: S | None, target: S) -> None:
        """Raise IllegalTransition unless `source` may become `target` (None: a new row)."""
        if source is None:
            if target not in self.initial:
                raise IllegalTransition(f"a new row cannot start as {target}")
        elif not self.allows(source, target):
            raise IllegalTransition(f"{source} cannot become {target}")


def transitions_of(model: type) -> Transitions[Any]:
    table: Transitions[Any] = model.STATUS_TRANSITIONS  # type: ignore[attr-defined]
    return table


def move(obj: Any, target: S) -> None:
    """Set `obj.status` to `target` if the model's table allows it from its status now (from
    none: one a new row may start in); raises IllegalTransition otherwise."""
    # From the object, not type(obj): it may be current_user, a proxy to the User.
    table: Transitions[Any] = obj.STATUS_TRANSITIONS
    table.check(obj.status, target)
    obj.status = target


def status_guard(model: type, target: S, only_from: S | None = None) -> ColumnElement[bool]:
    """WHERE status is one the table allows to become `target` (or just `only_from`, which
    must be one of them: a caller that needs to know which one it was)."""
    table = transitions_of(model)
    sources = table.sources_of(target)
    if only_from is not None:
        table.check(only_from, target)
        sources = frozenset({only_from})
    return model.status.in_(table.in_order(sources))  # type: ignore[attr-defined]


def transition_update(model: type, target: S, *where: Any, only_from: S | None = None,
                      **values: Any) -> Update:
    """UPDATE model SET status = target, **values WHERE *where AND the status allows it.
    Execute it and read its rowcount: 0 means the row was not (any more) in such a state."""
    return (update(model)
            .where(*where, status_guard(model, target, only_from))
            .values(status=target, **values)
            .execution_options(synchronize_session=False))
