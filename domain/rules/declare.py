"""Each command declared once: the streams its rule reads, how it decides, what it returns.

A rule module declares a command with `@rule(Command, reads=plan, returns=...)` on the
function that decides it; the command's docstring is its description. Everything else
(the registry, the API's mutations, their inputs and payloads) is derived from these.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Generic, TypeVar

from domain.commands import Command, all_commands
from domain.events import DomainEvent
from domain.facts import Facts, Plan
from domain.vocabulary import ObjectKind

C = TypeVar("C", bound=Command)
Decide = Callable[[Facts, C], list[DomainEvent]]


@dataclass(frozen=True)
class Returns:
    """The object a command's result shows: its kind, its key in the first event written,
    and whether it is shown as the command left it or (for a retraction, which leaves
    nothing) as it stood just before."""

    kind: ObjectKind
    key_of: Callable[[Mapping[str, Any]], str]
    as_before: bool = False

    @classmethod
    def field(cls, kind: ObjectKind, name: str) -> Returns:
        """The key is the event's field `name`."""
        return cls(kind, itemgetter(name))

    def before(self) -> Returns:
        """The same object, shown as it stood just before the command."""
        return dataclasses.replace(self, as_before=True)


@dataclass(frozen=True)
class Rule(Generic[C]):
    command: type[C]
    plan: Callable[[C], Plan]
    decide: Decide[C]
    returns: Returns
    # For a command that withdraws something other streams may refer to: what must not be
    # referred to when the command is written (checked with the append, under its lock).
    unreferenced: Callable[[C], tuple[ObjectKind, str]] | None = None

    @property
    def description(self) -> str:
        return inspect.getdoc(self.command) or ""


_RULES: dict[type[Command], Rule[Any]] = {}


def rule(
    command: type[C],
    *,
    reads: Callable[[C], Plan],
    returns: Returns,
    unreferenced: Callable[[C], tuple[ObjectKind, str]] | None = None,
) -> Callable[[Decide[C]], Decide[C]]:
    """Declare the decorated function as the rule that decides `command`."""

    def declare(decide: Decide[C]) -> Decide[C]:
        if command in _RULES:
            raise TypeError(f"{command.__name__} is decided by two rules")
        _RULES[command] = Rule(command, reads, decide, returns, unreferenced)
        return decide

    return declare


def rule_for(command: type[Command]) -> Rule[Any]:
    try:
        return _RULES[command]
    except KeyError:
        raise TypeError(f"no rule decides {command.__name__}") from None


def declared() -> list[Rule[Any]]:
    """Every command's rule, in the order the commands are declared."""
    return [rule_for(command) for command in all_commands()]
