"""Every command is declared once, with a rule, a description and what it returns."""

from __future__ import annotations

import inspect

import pytest

from domain.commands import Command, all_commands
from domain.events import DomainEvent, cooperation_events
from domain.rules import declared
from domain.rules.declare import rule, rule_for


def test_every_command_has_one_rule_with_a_description() -> None:
    rules = declared()
    assert [r.command for r in rules] == list(all_commands())
    assert len(rules) == 27
    # Without a docstring of its own, a dataclass's doc is its signature: "Name(*, ...)".
    undescribed = [
        r.command.__name__ for r in rules if r.description.startswith(r.command.__name__)
    ]
    assert undescribed == []


def test_a_command_without_a_rule_is_named() -> None:
    class Undecided(Command, abstract=True):
        """Decided by nothing."""

    with pytest.raises(TypeError, match="no rule decides Undecided"):
        rule_for(Undecided)


def test_a_second_rule_for_a_command_is_refused() -> None:
    command = all_commands()[0]
    with pytest.raises(TypeError, match="decided by two rules"):
        rule(command, reads=rule_for(command).plan, returns=rule_for(command).returns)(
            rule_for(command).decide
        )


def test_every_event_type_is_a_concrete_domain_event() -> None:
    for name in cooperation_events.names():
        cls = cooperation_events.get(name).cls
        assert issubclass(cls, DomainEvent), name
        assert not inspect.isabstract(cls), f"{name} does not name its stream"
