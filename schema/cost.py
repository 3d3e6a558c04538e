"""How many objects an operation can return, estimated from its document before any SQL.

Each connection returns at most its `first` or `last` (or the default page size) items, so
what is selected under its `edges` or `nodes` counts that many times, multiplied down the
nesting; sibling fields, aliases and fragments add up. Every object counts one; scalars
count nothing. Introspection is bounded by the schema and counts nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
)

from domain.errors import ErrorCode

CEILING = 10**15  # past this every estimate is refused alike; keeps the arithmetic small
PAGED_LISTS = ("edges", "nodes")


def too_costly(estimate: int, limit: int) -> GraphQLError:
    return GraphQLError(
        f"this operation could return about {estimate} objects; the limit is {limit}."
        " Ask for smaller pages (first or last) or nest fewer connections",
        extensions={"code": str(ErrorCode.QUERY_TOO_COSTLY), "cost": estimate, "limit": limit},
    )


def estimate_cost(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    default_page: int,
) -> int:
    """The most objects the chosen operation of a validated `document` can return."""
    operation = _operation(document, operation_name)
    if operation is None:
        return 0
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0
    defaults = {
        variable.variable.name.value: variable.default_value
        for variable in operation.variable_definitions or ()
    }
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    estimator = _Estimator(schema, fragments, dict(variables or {}), defaults, default_page)
    return estimator.selections(operation.selection_set, root, default_page, frozenset())


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


@dataclass
class _Estimator:
    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    variables: dict[str, Any]
    defaults: dict[str, Any]
    default_page: int
    # A fragment's cost for a page size, computed once however often it is spread.
    spread: dict[tuple[str, int], int] = field(default_factory=dict)

    def selections(
        self,
        selection_set: SelectionSetNode | None,
        parent: GraphQLNamedType,
        page: int,
        visiting: frozenset[str],
    ) -> int:
        """Objects one instance of `selection_set` on `parent` returns; `page` is the size
        of the lists in it when `parent` is a connection."""
        if selection_set is None:
            return 0
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, page, visiting)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(selection.selection_set, on or parent, page, visiting)
            elif isinstance(selection, FragmentSpreadNode):
                total += self.fragment(selection.name.value, page, visiting)
        return min(total, CEILING)

    def fragment(self, name: str, page: int, visiting: frozenset[str]) -> int:
        fragment = self.fragments.get(name)
        if fragment is None or name in visiting:  # a cycle: validation refuses it anyway
            return 0
        if (name, page) not in self.spread:
            on = self.schema.get_type(fragment.type_condition.name.value)
            cost = (
                0
                if on is None
                else self.selections(fragment.selection_set, on, page, visiting | {name})
            )
            self.spread[(name, page)] = cost
        return self.spread[(name, page)]

    def field(
        self, node: FieldNode, parent: GraphQLNamedType, page: int, visiting: frozenset[str]
    ) -> int:
        name = node.name.value
        if name.startswith("__") or not isinstance(
            parent, GraphQLObjectType | GraphQLInterfaceType
        ):
            return 0
        definition = parent.fields.get(name)
        if definition is None:
            return 0
        returned = get_named_type(definition.type)
        if not isinstance(returned, GraphQLObjectType | GraphQLInterfaceType) and not hasattr(
            returned, "types"
        ):
            return 0  # a scalar or an enum
        inner = self._page_of(node) if _is_connection(returned) else self.default_page
        each = 1 + self.selections(node.selection_set, returned, inner, visiting)
        if isinstance(get_nullable_type(definition.type), GraphQLList):
            count = page if name in PAGED_LISTS else self.default_page
            return min(count * each, CEILING)
        return each

    def _page_of(self, node: FieldNode) -> int:
        """The page a connection field asks for: `first` or `last`, else the default."""
        asked = [
            self._int(argument.value)
            for argument in node.arguments or ()
            if argument.name.value in ("first", "last")
        ]
        sizes = [size for size in asked if size is not None]
        return max(sizes) if sizes else self.default_page

    def _int(self, value: Any) -> int | None:
        if isinstance(value, VariableNode):
            name = value.name.value
            value = self.variables.get(name, self.defaults.get(name))
        if isinstance(value, IntValueNode):
            value = int(value.value)
        if isinstance(value, int) and not isinstance(value, bool):
            return max(0, min(value, CEILING))
        return None


def _is_connection(returned: GraphQLNamedType) -> bool:
    return (
        isinstance(returned, GraphQLObjectType)
        and returned.name.endswith("Connection")
        and "edges" in returned.fields
    )
