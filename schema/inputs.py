"""How long a string a request may give, and what it may not hold: checked for every
argument before anything runs.

Keys, ids, cursors, filters and search text are short; prose (a name, a description, a
reason) may be longer, and the rules check it again with their own limit. Either way a
megabyte of text never reaches a query or a rule.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from graphql import (
    ArgumentNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    InlineFragmentNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    ValueNode,
    VariableNode,
)

from schema.errors import bad_input

MAX_SHORT = 500
MAX_PROSE = 10_000
PROSE = frozenset(
    {
        "name",
        "description",
        "statement",
        "reason",
        "notes",
        "title",
        "holderTitle",
        "byTitle",
        "topics",
        "focusAreas",
        "document",
        "publisher",
        "url",
        "section",
        "sections",
    }
)


def limit_of(name: str) -> int:
    return MAX_PROSE if name in PROSE else MAX_SHORT


def check_strings(document: DocumentNode, variables: Mapping[str, Any] | None) -> None:
    """Refuse the request if any argument, literal or variable, holds an overlong string or
    text no database can hold."""
    values = dict(variables or {})
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode):
            for variable in definition.variable_definitions or ():
                if variable.default_value is not None:
                    values.setdefault(variable.variable.name.value, variable.default_value)
    for argument in _arguments(document):
        _check(argument.name.value, argument.value, values)


def _check(name: str, node: ValueNode, variables: Mapping[str, Any]) -> None:
    if isinstance(node, StringValueNode):
        _check_length(name, node.value)
    elif isinstance(node, VariableNode):
        value = variables.get(node.name.value)
        if isinstance(value, ValueNode):  # the variable's default, as the document gives it
            _check(name, value, {})
        else:
            _check_value(name, value)
    elif isinstance(node, ListValueNode):
        for item in node.values or ():
            _check(name, item, variables)
    elif isinstance(node, ObjectValueNode):
        for field in node.fields or ():
            _check(field.name.value, field.value, variables)


def _check_value(name: str, value: Any) -> None:
    if isinstance(value, str):
        _check_length(name, value)
    elif isinstance(value, list):
        for item in value:
            _check_value(name, item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_value(str(key), item)


def _check_length(name: str, value: str) -> None:
    limit = limit_of(name)
    if len(value) > limit:
        raise bad_input(f"{name} is {len(value)} characters long; the limit is {limit}")
    # Text no database here can hold: PostgreSQL refuses NUL, and a lone surrogate is not
    # a character at all.
    if "\x00" in value:
        raise bad_input(f"{name} holds a NUL character (\\u0000), which text may not hold")
    try:
        value.encode()
    except UnicodeEncodeError:
        raise bad_input(f"{name} holds a lone surrogate, which is not a character") from None


def _arguments(document: DocumentNode) -> Iterator[ArgumentNode]:
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode | FragmentDefinitionNode):
            yield from _arguments_in(definition.selection_set)


def _arguments_in(selection_set: SelectionSetNode | None) -> Iterator[ArgumentNode]:
    if selection_set is None:
        return
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            yield from selection.arguments or ()
        for directive in selection.directives or ():
            yield from directive.arguments or ()
        if isinstance(selection, FieldNode | InlineFragmentNode):
            yield from _arguments_in(selection.selection_set)
