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
- documents built at run time (f-strings, concatenation with `+`, `%` or `.format`): their
  text is not known until the test runs (their literal parts do not parse on their own).
"""

from __future__ import annotations

import ast
from collections import Counter
from collections.abc import Sequence
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


F_STRING = "built at run time (f-string)"
JOINED = "built at run time (concatenation or formatting)"


def _literals(path: Path) -> list[tuple[int, str, str | None]]:
    """Each string literal in a file, and each document built at run time (an f-string, or a
    literal that begins like a document joined with `+`, `%` or `.format`) with the rule that
    leaves it out."""
    tree = ast.parse(path.read_text(), str(path))
    inner = {
        id(side) for n in ast.walk(tree) if isinstance(n, ast.BinOp) for side in (n.left, n.right)
    }
    found: list[tuple[int, str, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.append((node.lineno, node.value, None))
        elif isinstance(node, ast.JoinedStr) and _document_like(node.values[:1]):
            found.append((node.lineno, "", F_STRING))
        elif _document_like([_joined_from(node, inner)]):
            found.append((node.lineno, "", JOINED))
    return found


def _joined_from(node: ast.AST, inner: set[int]) -> ast.expr | None:
    """The first part of a string joined at run time (the whole join only, not its parts)."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add | ast.Mod):
        if id(node) in inner:
            return None
        while isinstance(node, ast.BinOp):
            node = node.left
        return node
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        return node.func.value if node.func.attr == "format" else None
    return None


def _document_like(nodes: Sequence[ast.expr | None]) -> bool:
    return any(
        isinstance(n, ast.Constant)
        and isinstance(n.value, str)
        and n.value.lstrip().startswith(STARTS)
        for n in nodes
    )


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
        for line, text, built in _literals(path):
            where = f"{path.relative_to(TESTS)}:{line}"
            if built:
                left_out[built] += 1
                continue
            if not text.lstrip().startswith(STARTS) or text in seen:
                continue
            try:
                document = parse(text)
            except GraphQLError:
                continue  # not a document (JSON, a field list, a part of a joined one)
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
        F_STRING,
        JOINED,
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
