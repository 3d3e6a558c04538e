"""Every query document in the tests, answered alike by the compiled and the resolvers' paths.

The documents are harvested when this module is collected: every string literal in
tests/**/*.py that parses as a GraphQL document and validates against the schema. Each query
operation in them is asked on a seeded history, anonymously and as an auditor, once with
reads compiled and once answered by the resolvers alone, and the two responses must be the
same bytes. What is not asked is counted by the rule that left it out, and the counts are
checked below, so nothing is dropped silently:

- mutations and subscriptions (they change the record or never end: not reads);
- operations with a non-null variable and no default (there is no value to give it);
- documents that do not validate against the schema (tests of validation errors: no
  execution, so no path to compare);
- documents built at run time (f-strings): their text is not known until the test runs.
"""

from __future__ import annotations

import ast
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from graphql import (
    GraphQLError,
    NonNullTypeNode,
    OperationDefinitionNode,
    OperationType,
    parse,
    validate,
)

from schema.root import build_schema
from tests.api.conftest import Client
from tests.api.test_compiled_reads import both

TESTS = Path(__file__).resolve().parents[1]
STARTS = ("{", "query", "mutation", "subscription", "fragment")


@dataclass(frozen=True)
class Asked:
    """One query operation of a harvested document, and where it was found."""

    document: str
    operation: str | None
    where: str


def _literals(path: Path) -> list[tuple[int, str | None]]:
    """Each string literal in a file (None for an f-string that looks like a document)."""
    found: list[tuple[int, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value))
        elif isinstance(node, ast.JoinedStr):
            head = node.values[0] if node.values else None
            text = head.value if isinstance(head, ast.Constant) else ""
            if isinstance(text, str) and text.lstrip().startswith(STARTS):
                found.append((node.lineno, None))
    return found


def _needs_variables(operation: OperationDefinitionNode) -> bool:
    return any(
        isinstance(v.type, NonNullTypeNode) and v.default_value is None
        for v in operation.variable_definitions or ()
    )


def harvest() -> tuple[list[Asked], Counter[str]]:
    schema = build_schema()._schema
    asked: list[Asked] = []
    left_out: Counter[str] = Counter()
    seen: set[str] = set()
    for path in sorted(TESTS.rglob("*.py")):
        if path.name == Path(__file__).name:
            continue
        for line, text in _literals(path):
            where = f"{path.relative_to(TESTS)}:{line}"
            if text is None:
                left_out["built at run time (f-string)"] += 1
                continue
            if not text.lstrip().startswith(STARTS) or text in seen:
                continue
            try:
                document = parse(text)
            except GraphQLError:
                continue  # not a document (JSON, a field list, a message)
            seen.add(text)
            operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
            if not operations:
                continue
            if validate(schema, document):
                left_out["does not validate against the schema"] += 1
                continue
            for operation in operations:
                if operation.operation is not OperationType.QUERY:
                    left_out[f"a {operation.operation.value}"] += 1
                elif _needs_variables(operation):
                    left_out["needs a variable it cannot be given"] += 1
                else:
                    name = operation.name.value if operation.name else None
                    asked.append(Asked(text, name, where))
    return asked, left_out


ASKED, LEFT_OUT = harvest()


def test_the_corpus_holds_the_tests_queries() -> None:
    """The harvest finds the tests' documents, and says what it left out and why."""
    files = {a.where.split(":")[0] for a in ASKED}
    print(f"{len(ASKED)} query operations from {len(files)} files; left out: {dict(LEFT_OUT)}")
    assert len(ASKED) >= 100
    assert len(files) >= 10
    assert set(LEFT_OUT) <= {
        "built at run time (f-string)",
        "does not validate against the schema",
        "a mutation",
        "a subscription",
        "needs a variable it cannot be given",
    }


@pytest.fixture
def client(client: Client) -> Client:
    client.services.settings = replace(client.services.settings, max_query_cost=10**9)
    return client


async def test_every_query_in_the_tests_answers_alike(client: Client) -> None:
    for asked in ASKED:
        for role in (None, "auditor"):
            try:
                await both(client, asked.document, None, role, False, asked.operation)
            except AssertionError as error:
                raise AssertionError(f"{asked.where}: {error}") from None
