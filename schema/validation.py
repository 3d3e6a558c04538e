"""Validation without the rules a document's text shows cannot fire.

graphql-core runs every rule over every node of a new document, and a third of a small query's
time goes there. Several rules look only at variables or fragments: a document whose text has
no `$` defines and uses no variable, one without `...` spreads no fragment and has no inline
fragment, one without the word `fragment` defines none. Those rules are left out for it; the
text is only ever a superset (a `$` in a string keeps the variable rules), so no error a
client would get is lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from graphql import (
    ASTValidationRule,
    FragmentsOnCompositeTypesRule,
    KnownFragmentNamesRule,
    NoFragmentCyclesRule,
    NoUndefinedVariablesRule,
    NoUnusedFragmentsRule,
    NoUnusedVariablesRule,
    PossibleFragmentSpreadsRule,
    UniqueFragmentNamesRule,
    UniqueVariableNamesRule,
    VariablesAreInputTypesRule,
    VariablesInAllowedPositionRule,
)
from strawberry.extensions import SchemaExtension

Rule = type[ASTValidationRule]

# Each rule with the pieces of text without which it has nothing to look at.
_NEEDS: dict[Rule, tuple[str, ...]] = {
    NoUndefinedVariablesRule: ("$",),
    NoUnusedVariablesRule: ("$",),
    VariablesInAllowedPositionRule: ("$",),
    UniqueVariableNamesRule: ("$",),
    VariablesAreInputTypesRule: ("$",),
    NoUnusedFragmentsRule: ("fragment",),
    UniqueFragmentNamesRule: ("fragment",),
    NoFragmentCyclesRule: ("fragment",),
    KnownFragmentNamesRule: ("...",),
    PossibleFragmentSpreadsRule: ("...",),
    FragmentsOnCompositeTypesRule: ("...", "fragment"),
}


def rules_for(text: str, rules: Iterable[Rule]) -> tuple[Rule, ...]:
    """`rules` without those that cannot report anything for a document of `text`."""
    return tuple(
        rule for rule in rules if rule not in _NEEDS or any(piece in text for piece in _NEEDS[rule])
    )


class RulesForTheDocument(SchemaExtension):
    """Validates each document with `rules_for` its text (before the validation cache, which
    keys by the rules it is given)."""

    def on_validate(self) -> Iterator[None]:
        execution = self.execution_context
        if execution.query is not None:
            execution.validation_rules = rules_for(execution.query, execution.validation_rules)
        yield
