"""Hostile and random requests against a real `coop serve`: documents generated from the
schema (valid and invalid queries and mutations) and a fixed list of abuse. No answer is a
5xx or shows a traceback, an exception class or driver text, and the server answers after."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import Mode, from_schema, nodes

from schema.root import build_schema
from tests.conftest import ENGINES, POSTGRES_URL
from tests.servers import free_port

SCHEMA = build_schema()._schema
EDITOR = {"authorization": "Bearer fuzz-editor-secret"}
LEAKS = (
    "Traceback",
    'File "',
    "sqlalchemy",
    "sqlite3",
    "asyncpg",
    "psycopg",
    "OperationalError",
    "ProgrammingError",
    "IntegrityError",
    "KeyError",
    "AttributeError",
    "TypeError:",
    "RecursionError",
    "site-packages",
)
SCALARS = {
    "Date": st.dates().map(lambda day: nodes.String(day.isoformat())),
    "DateTime": st.datetimes().map(lambda moment: nodes.String(moment.isoformat() + "Z")),
    "PartialDate": st.sampled_from(["2009", "2009-05", "2009-05-01", "20x9", ""]).map(nodes.String),
    "JSON": st.just(nodes.String("{}")),
}


def run(*args: str, env: dict[str, str]) -> None:
    subprocess.run([sys.executable, "-m", "service.cli", *args], env=env, check=True)


@pytest.fixture(scope="module", params=ENGINES)
def server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """`coop serve` in its own process, on a migrated and seeded database."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'coop.db'}"
    else:
        import asyncio

        from tests import databases

        assert POSTGRES_URL is not None
        url = asyncio.run(databases.create_postgres_database(POSTGRES_URL))
    env = {
        **os.environ,
        "COOP_DATABASE_URL": url,
        "COOP_API_TOKENS": "editor:fuzz:fuzz-editor-secret",
        "COOP_REQUEST_TIMEOUT": "5",
    }
    run("db", "upgrade", env=env)
    run("seed", env=env)
    port = free_port()
    log = Path(tmp_path_factory.mktemp("log")) / "serve.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "serve", "--port", str(port)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        yield base
        assert_alive(base)
    finally:
        process.terminate()
        process.wait(15)
        if request.param == "postgres":
            import asyncio

            from tests import databases

            assert POSTGRES_URL is not None
            asyncio.run(databases.drop_postgres_database(POSTGRES_URL, url))


def assert_alive(base: str) -> None:
    answer = httpx.post(f"{base}/graphql", json={"query": "{ __typename }"}, timeout=10)
    assert answer.json()["data"] == {"__typename": "Query"}
    assert httpx.get(f"{base}/healthz", timeout=10).status_code == 200


def assert_sound(response: httpx.Response) -> None:
    """Not a 5xx; nothing of the implementation shows; JSON wherever GraphQL answered."""
    assert response.status_code < 500, response.text[:2000]
    for leak in LEAKS:
        assert leak not in response.text, response.text[:2000]
    if response.status_code != 404:
        body = response.json()
        assert "errors" in body or "data" in body, body
        for error in body.get("errors") or []:
            assert error["extensions"]["code"] != "INTERNAL_SERVER_ERROR", error


def post(base: str, content: bytes | str, headers: dict[str, str] | None = None) -> httpx.Response:
    data = content.encode() if isinstance(content, str) else content
    return httpx.post(
        f"{base}/graphql",
        content=data,
        headers={"content-type": "application/json", **(headers or {})},
        timeout=30,
    )


def as_body(query: Any, variables: Any = None) -> str:
    return json.dumps({"query": query, "variables": variables})


FUZZ = settings(
    database=None,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@settings(FUZZ, max_examples=150)
@given(document=from_schema(SCHEMA, custom_scalars=SCALARS))
def test_generated_queries_and_mutations(server: str, document: str) -> None:
    assert_sound(post(server, as_body(document), EDITOR))


@settings(FUZZ, max_examples=100)
@given(document=from_schema(SCHEMA, custom_scalars=SCALARS, mode=Mode.NEGATIVE))
def test_generated_invalid_documents(server: str, document: str) -> None:
    assert_sound(post(server, as_body(document), EDITOR))


def nested(depth: int) -> str:
    return (
        '{ partner(key: "c40") { '
        + "memberships { nodes { network { " * depth
        + "key"
        + " } } }" * depth
        + " } }"
    )


HOSTILE: list[tuple[str, bytes | str]] = [
    ("deep", as_body(nested(200))),
    ("deep braces", as_body("{" * 5000 + "}" * 5000)),
    (
        "deep list literal",
        as_body("{ partners(search: " + "[" * 3000 + '"x"' + "]" * 3000 + ") { totalCount } }"),
    ),
    ("wide", as_body("{ " + " ".join("__typename" for _ in range(1900)) + " }")),
    (
        "many aliases",
        as_body("{ " + " ".join(f'a{n}: partner(key: "c40") {{ key }}' for n in range(500)) + " }"),
    ),
    ("self-spreading fragment", as_body("{ ...A } fragment A on Query { ...A }")),
    (
        "mutually spreading fragments",
        as_body("{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }"),
    ),
    (
        "fragment bomb",
        as_body(
            '{ partner(key: "c40") { ...F9 } } fragment F0 on Partner { key } '
            + " ".join(
                f"fragment F{n} on Partner {{ ...F{n - 1} m{n}: members {{ nodes {{ member {{ ...F{n - 1} }} }} }} }}"
                for n in range(1, 10)
            )
        ),
    ),
    ("huge first", as_body("{ partners(first: 99999999999999999999999999) { totalCount } }")),
    ("huge position", as_body('{ partner(key: "c40", atPosition: 9223372036854775808) { key } }')),
    ("negative huge", as_body("{ events(after: -99999999999999999999) { totalCount } }")),
    (
        "huge variable",
        as_body("query($n: Int) { partners(first: $n) { totalCount } }", {"n": 10**40}),
    ),
    ("float as int", as_body("query($n: Int) { partners(first: $n) { totalCount } }", {"n": 1.5})),
    (
        "string as int",
        as_body("query($n: Int) { partners(first: $n) { totalCount } }", {"n": "ten"}),
    ),
    (
        "object as string",
        as_body("query($k: String!) { partner(key: $k) { key } }", {"k": {"a": 1}}),
    ),
    ("list as string", as_body("query($k: String!) { partner(key: $k) { key } }", {"k": ["c40"]})),
    ("null for required", as_body("query($k: String!) { partner(key: $k) { key } }", {"k": None})),
    ("undeclared variable", as_body("{ partner(key: $k) { key } }", {"k": "c40"})),
    ("bad date", as_body('{ partner(key: "c40", asOf: "2021-02-30") { key } }')),
    ("bad datetime", as_body('{ partner(key: "c40", knownAt: "yesterday") { key } }')),
    ("bad cursor", as_body('{ partners(after: "%%%not-base64") { totalCount } }')),
    ("bad id", as_body('{ node(id: "\\u0000\\u0000") { id } }')),
    ("NUL in key", as_body('{ partner(key: "c40\\u0000") { key } }')),
    ("NUL in search", as_body('{ partners(search: "\\u0000") { totalCount } }')),
    ("NUL byte raw", b'{"query": "{ __typename }\x00"}'),
    ("lone surrogate", b'{"query": "{ partner(key: \\"\\ud800\\") { key } }"}'),
    ("invalid UTF-8", b'{"query": "{ partner(key: \\"\xff\xfe\\") { key } }"}'),
    ("invalid UTF-8 only", b"\xff\xff\xff\xff"),
    ("JSON string", b'"{ __typename }"'),
    ("JSON array", b'[{"query": "{ __typename }"}]'),
    ("JSON number", b"1e999999"),
    (
        "deep JSON",
        b'{"query": "{ __typename }", "variables": {"a": '
        + b"[" * 100_000
        + b"]" * 100_000
        + b"}}",
    ),
    ("2 MB document", as_body("{ __typename } #" + "x" * 2_000_000)),
    (
        "2 MB string",
        as_body(
            "query($s: String) { partners(search: $s) { totalCount } }", {"s": "x" * 2_000_000}
        ),
    ),
    (
        "overlong search",
        as_body("query($s: String) { partners(search: $s) { totalCount } }", {"s": "%" * 100_000}),
    ),
    ("no query", as_body(None)),
    ("empty query", as_body("")),
    (
        "operation name missing",
        json.dumps({"query": "query A { __typename } query B { __typename }"}),
    ),
    (
        "operation name unknown",
        json.dumps({"query": "query A { __typename }", "operationName": "Z"}),
    ),
    ("subscription over HTTP", as_body("subscription { events(after: 0) { position } }")),
    (
        "introspection everything",
        as_body(
            "{ __schema { types { name fields { name args { name type { name ofType { name ofType { name } } } } } } } }"
        ),
    ),
    (
        "directive abuse",
        as_body("{ __typename @include(if: true) @skip(if: false) @include(if: true) }"),
    ),
    ("unknown directive", as_body("{ __typename @nosuch }")),
    (
        "persisted hash",
        json.dumps({"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "0" * 64}}}),
    ),
    ("persisted garbage", json.dumps({"extensions": {"persistedQuery": [1, 2]}})),
]


@pytest.mark.parametrize(("name", "content"), HOSTILE, ids=[name for name, _ in HOSTILE])
def test_hostile_requests(server: str, name: str, content: bytes | str) -> None:
    response = post(server, content, EDITOR)
    assert_sound(response)
    if name.startswith("2 MB"):
        assert response.status_code == 413


def test_hostile_get_requests(server: str) -> None:
    for params in (
        {"query": "{ __typename }", "variables": "[[[["},
        {"query": "{ __typename }", "variables": '"x"'},
        {"query": "{" * 5000},
        {"query": "{ __typename }", "extensions": "7"},
        {"query": "mutation { __typename }"},
    ):
        assert_sound(httpx.get(f"{server}/graphql", params=params, timeout=30))
    assert_alive(server)
