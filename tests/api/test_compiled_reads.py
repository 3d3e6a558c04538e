"""Compiled reads answer exactly as the resolvers do: a differential test over a corpus.

Every query is asked twice of the same database, once answered by SQL compiled from its
selection and once by the resolvers alone (the reference), and the two responses (data,
errors and the basis echo) must be equal. The corpus is the queries below plus queries
generated over every compiled field and argument, on several bases, paged both ways.
"""

from __future__ import annotations

import itertools
from dataclasses import replace
from typing import Any

import pytest

from domain.events import PartnerRegistered
from events.model import Metadata, SourceRef
from schema import grafting
from tests.api.conftest import BEARER, Client
from tests.api.test_no_n_plus_one import counting, record

RECORDED = "id position certain recordedAt __typename"


@pytest.fixture
def client(client: Client) -> Client:
    """The API with a cost budget the whole tree below fits in: these tests compare two ways
    of answering over all of the seed, not what the budget admits (tests/api/test_cost.py)."""
    client.services.settings = replace(client.services.settings, max_query_cost=10**9)
    return client


PARTNER = f"key name kind country region description validFrom validTo {RECORDED}"
MEMBERSHIP = f"membershipId since until notes {RECORDED}"
PROGRAM = f"key name field kind topics description since until status {RECORDED}"
PAGE_INFO = "pageInfo { hasNextPage hasPreviousPage startCursor endCursor }"


def connection(fields: str, arguments: str = "") -> str:
    args = f"({arguments})" if arguments else ""
    return (
        f"{args} {{ totalCount {PAGE_INFO} nodes {{ {fields} }}"
        f" edges {{ cursor node {{ key: id }} }} __typename }}"
    )


PROGRAM_TREE = f"{PROGRAM} lead {{ key name }} network {{ key kind }}"
MEMBERSHIP_TREE = (
    f"{MEMBERSHIP} member {{ {PARTNER} programs{connection(PROGRAM_TREE, 'first: 5')} }}"
    f" network {{ key name validFrom }}"
)
PARTNER_TREE = (
    f"{PARTNER} members{connection(MEMBERSHIP_TREE, 'first: 4')}"
    f" memberships{connection(MEMBERSHIP_TREE)} programs{connection(PROGRAM_TREE)}"
)

BASES = [
    "",
    'asOf: "2015-06-01"',
    'asOf: "2003-01-01"',
    'during: "2010"',
    'during: "2019-03"',
    "atPosition: 12",
    "atPosition: 30",
    'knownAt: "2000-01-01T00:00:00Z"',
]

FIXED = [
    """query Big { partners(kind: NETWORK, first: 20) { nodes { key name
         members(first: 100) { nodes { membershipId since until
           member { key name country programs(first: 100) { nodes { key name since until } } }
         } } } } }""",
    """query Small { partner(key: "c40") { key name
         memberships { nodes { membershipId since network { key name } } } } }""",
    '{ a: partner(key: "nobody") { key } b: program(key: "nobody") { key } }',
    "{ partners(first: 2, last: 2) { totalCount } }",
    "{ partners { totalCount } programs { __typename t: totalCount } }",
    '{ partner(key: "c40") { members { totalCount } programs { __typename } } }',
    '{ partners(after: "not a cursor") { totalCount } }',
    "{ partners(first: 1000) { totalCount } }",
    '{ partners(asOf: "2010-01-01", during: "2010") { totalCount } }',
    "{ partners(atPosition: 100000) { totalCount } }",
    "{ partners(atPosition: -1) { totalCount } }",
    '{ partner(key: "c40") { members(asOf: "2010-01-01", during: "2010") { totalCount } } }',
    "{ partners(first: 0) { totalCount nodes { key } " + PAGE_INFO + " } }",
    '{ partners(search: "tokyo") { nodes { key name } } }',
    "{ programs(status: CONCLUDED) { totalCount nodes { key status } } }",
    '{ programs(status: CONCLUDED, asOf: "2016-01-01") { totalCount nodes { key status } } }',
    '{ programs(status: ACTIVE, during: "2012") { totalCount nodes { key status certain } } }',
    """query Fragments($first: Int, $skip: Boolean!) { partners(first: $first) {
         nodes { ...P ... on Node { id } k: key name @skip(if: $skip) } } }
       fragment P on Partner { key kind }""",
]


# Answered by the resolvers alone: concluded programs asked on a day are read on the record.
RESOLVED = {
    '{ programs(status: CONCLUDED, asOf: "2016-01-01") { totalCount nodes { key status } } }'
}


async def fresh(
    client: Client, query: str, variables: dict[str, Any] | None, role: str | None = None
) -> Any:
    """An answer computed now, not one kept from before."""
    return (await answer_bytes(client, query, variables, role))[1].json()


async def answer_bytes(
    client: Client,
    query: str,
    variables: dict[str, Any] | None,
    role: str | None = None,
    operation: str | None = None,
) -> tuple[bytes, Any]:
    body = {"query": query, "variables": variables or {}, "operationName": operation}
    headers = {"cache-control": "no-cache", **(BEARER[role] if role else {})}
    response = await client.http.post("/graphql", json=body, headers=headers)
    return response.content, response


async def both(
    client: Client,
    query: str,
    variables: dict[str, Any] | None = None,
    role: str | None = None,
    compiled_part: bool = True,
    operation: str | None = None,
) -> Any:
    """The compiled answer, after checking it is byte for byte the resolvers' answer."""
    settings = client.services.settings
    with counting(client.services) as statements:
        compiled, response = await answer_bytes(client, query, variables, role, operation)
    answer = response.json()
    if compiled_part and "errors" not in answer and query not in RESOLVED:
        assert any("json_" in statement for statement in statements), query
    client.services.settings = replace(settings, compile_reads=False)
    try:
        resolved, _ = await answer_bytes(client, query, variables, role, operation)
    finally:
        client.services.settings = settings
    assert compiled.decode() == resolved.decode(), query
    return answer


async def keys_of(client: Client) -> tuple[list[str], list[str], list[str]]:
    data = await client.data(
        "{ n: partners(kind: NETWORK) { nodes { key } } c: partners(first: 100) { nodes { key } }"
        " p: programs(first: 100) { nodes { key } } }"
    )
    return (
        [n["key"] for n in data["n"]["nodes"]],
        [n["key"] for n in data["c"]["nodes"]],
        [n["key"] for n in data["p"]["nodes"]],
    )


async def test_fixed_queries_answer_alike(client: Client) -> None:
    for query in FIXED:
        await both(client, query, {"first": 3, "skip": False})


@pytest.mark.parametrize("basis", BASES)
async def test_every_compiled_field_answers_alike_on_every_basis(
    client: Client, basis: str
) -> None:
    networks, partners, programs = await keys_of(client)
    args = f"({basis})" if basis else ""
    await both(client, f"{{ partners{connection(PARTNER_TREE, basis)} }}")
    await both(client, f"{{ programs{connection(PROGRAM_TREE, basis)} }}")
    for key in [*networks[:3], *partners[:: max(1, len(partners) // 6)]]:
        await both(
            client,
            f'{{ partner(key: "{key}"{", " + basis if basis else ""}) {{ {PARTNER_TREE} }} }}',
        )
    for key in programs[:: max(1, len(programs) // 4)]:
        await both(
            client,
            f'{{ program(key: "{key}"{", " + basis if basis else ""}) {{ {PROGRAM_TREE} }} }}',
        )
    del args


async def test_nested_bases_override_and_inherit(client: Client) -> None:
    networks, _, _ = await keys_of(client)
    for outer, inner in itertools.product(BASES[:4], BASES[:6]):
        outer_args = f", {outer}" if outer else ""
        nested = f"members{connection(MEMBERSHIP_TREE, inner)}"
        await both(client, f'{{ partner(key: "{networks[0]}"{outer_args}) {{ key {nested} }} }}')


@pytest.mark.parametrize("filters", ["kind: CITY", "kind: NETWORK", 'country: "JP"', 'search: "c"'])
async def test_filters_answer_alike(client: Client, filters: str) -> None:
    await both(client, f"{{ partners{connection(PARTNER, filters)} }}")


@pytest.mark.parametrize(
    "filters",
    [
        "field: AIR_QUALITY",
        "status: ACTIVE",
        "status: CONCLUDED",
        'partner: "tokyo"',
        'search: "a"',
    ],
)
async def test_program_filters_answer_alike(client: Client, filters: str) -> None:
    await both(client, f"{{ programs{connection(PROGRAM, filters)} }}")


async def test_pages_forward_and_backward_answer_alike(client: Client) -> None:
    networks, _, _ = await keys_of(client)
    for root in ("partners", "programs"):
        for forward in (True, False):
            cursor = None
            for _ in range(30):
                if forward:
                    paging = "first: 3" + (f', after: "{cursor}"' if cursor else "")
                else:
                    paging = "last: 3" + (f', before: "{cursor}"' if cursor else "")
                found = await both(client, f"{{ {root}{connection('key', paging)} }}")
                info = found["data"][root]["pageInfo"]
                more = info["hasNextPage"] if forward else info["hasPreviousPage"]
                if not more:
                    break
                cursor = info["endCursor"] if forward else info["startCursor"]
    for paging in ("first: 2", "last: 2", "first: 0", "last: 0"):
        await both(
            client,
            f'{{ partner(key: "{networks[0]}") {{ members{connection("membershipId", paging)} }} }}',
        )


async def test_one_statement_per_root_field(client: Client) -> None:
    query = (
        "{ partners(kind: NETWORK) { nodes { key members { nodes { member { key"
        " programs { nodes { key lead { key } } } } } } } }"
        ' partner(key: "c40") { key memberships { totalCount } } }'
    )
    with counting(client.services) as statements:
        answer = await fresh(client, query, None)
    assert "errors" not in answer
    statements = [s for s in statements if s != "BEGIN"]
    assert len([s for s in statements if "json" in s.lower()]) == 2
    assert len(statements) == 3  # and the head


# Fields the resolvers answer inside compiled ones, placed between compiled fields so that
# where their answers are grafted (and in what order) shows.
PROVENANCE = (
    "provenance(first: 2) { totalCount nodes { position type streamId reason actor"
    " source { document section } } pageInfo { hasNextPage endCursor } }"
)
HISTORY = "history(first: 3) { totalCount nodes { position validFrom validTo eventType madeBy { type } } }"
ROLES = (
    "roles(last: 3) { totalCount nodes { title since until certain holder { key } body { key } } }"
)
MIXED_PARTNER = (
    f"key source {{ document section }} name {PROVENANCE} kind {HISTORY} {ROLES}"
    " officeholders { totalCount } bodies { nodes { key name size } }"
    " activities(first: 3) { totalCount nodes { key on } } commitments { totalCount } certain"
)
MIXED_PROGRAM = (
    f"key source {{ document }} partners(first: 3) {{ nodes {{ since until partner {{ key }} }} }} name"
    f" activities {{ totalCount }} lead {{ key {PROVENANCE} name }} status"
)
MIXED_MEMBERSHIP = (
    f"membershipId {ROLES} since member {{ key {MIXED_PARTNER} programs"
    f"{connection(MIXED_PROGRAM, 'first: 3')} }} provenance {{ totalCount }} until"
)
MIXED_TREE = (
    f"{MIXED_PARTNER} members{connection(MIXED_MEMBERSHIP, 'first: 3')}"
    f" memberships {{ edges {{ cursor node {{ {MIXED_MEMBERSHIP} }} }} }}"
    f" programs{connection(MIXED_PROGRAM)}"
)

# Fields the resolvers answer refusing their arguments: the error nulls the nearest nullable
# place above them, as it does on the resolvers' path.
MIXED_ERRORS = [
    '{ partner(key: "c40") { key members(first: 2) { nodes { membershipId'
    " roles(first: -1) { totalCount } } } } }",
    "{ programs(first: 3) { nodes { key provenance(first: -1) { totalCount } } } }",
    '{ a: partner(key: "c40") { key provenance(last: 1, first: 1) { totalCount } name }'
    ' b: partner(key: "tokyo") { key history(after: "?") { totalCount } } }',
    '{ partner(key: "c40") { key members(first: 2) { edges { node { membershipId'
    ' member { key roles(asOf: "2010-01-01", during: "2010") { totalCount } } } } } } }',
    # Errors inside a place another error nulls are not reported, whichever came first:
    # `actor` (refused to anonymous callers) under the root or a Partner that `roles` nulls.
    "{ partners(first: 3) { nodes { key a: roles(first: -1) { totalCount }"
    " b: provenance(first: 1) { nodes { actor } } } } }",
    '{ partner(key: "c40") { members(first: 2) { nodes { member {'
    " p: provenance(first: 1) { nodes { actor } } } } } x: roles(first: -1) { totalCount } } }",
    # Here `x` fails after the load `p` needs, so `p`'s error used to come first and stay.
    '{ partner(key: "c40") { members(first: 2) { nodes { membershipId member { key'
    " p: provenance(first: 1) { nodes { actor } } x: provenance(first: -1) { totalCount }"
    " } } } } }",
    # `actor` deep inside a deferred field's own answer, the Partner nulled above it.
    '{ partner(key: "c40") { members(first: 2) { edges { node { member { key roles {'
    " nodes { holder { provenance(first: 1) { nodes { actor } } } } } } } } }"
    ' h: history(after: "?") { totalCount } } }',
]


@pytest.mark.parametrize("basis", BASES)
async def test_compiled_and_resolved_parts_answer_alike(client: Client, basis: str) -> None:
    networks, partners, programs = await keys_of(client)
    args = f", {basis}" if basis else ""
    queries = [
        f"{{ partners{connection(MIXED_TREE, ', '.join(['first: 8', basis]).strip(', '))} }}",
        f"{{ programs{connection(MIXED_PROGRAM, basis)} }}",
        *(
            f'{{ partner(key: "{key}"{args}) {{ {MIXED_TREE} }} }}'
            for key in [*networks[:2], *partners[:: max(1, len(partners) // 4)]]
        ),
        *(
            f'{{ program(key: "{key}"{args}) {{ {MIXED_PROGRAM} }} }}'
            for key in programs[:: max(1, len(programs) // 3)]
        ),
    ]
    for query in queries:
        # Anonymous callers are refused `actor` (an error at each one); auditors see it.
        refused = await both(client, query)
        seen = await both(client, query, role="auditor")
        assert "errors" not in seen, seen["errors"]
        assert seen["data"] != refused["data"] or "actor" not in str(seen)


async def test_errors_in_resolved_parts_answer_alike(client: Client) -> None:
    for query in MIXED_ERRORS:
        answer = await both(client, query)
        assert answer["errors"], query


async def test_errors_inside_a_nulled_place_are_not_reported(client: Client) -> None:
    whole, member = MIXED_ERRORS[4], MIXED_ERRORS[6]
    answer = await both(client, whole)
    assert answer["data"] is None
    assert [e["path"] for e in answer["errors"]] == [["partners", "nodes", 0, "a"]]
    answer = await both(client, member)
    paths = [e["path"] for e in answer["errors"]]
    assert paths == [["partner", "members", "nodes", i, "member", "x"] for i in (0, 1)]


async def test_a_parent_that_cannot_be_made_is_an_internal_error(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unmade(deferred: Any, row: Any) -> Any:
        raise ValueError("a row the planner got wrong")

    monkeypatch.setattr(grafting, "parent_of", unmade)
    query = '{ partner(key: "c40") { key provenance(first: 1) { totalCount } } }'
    answer = await fresh(client, query, None)
    assert answer["data"] == {"partner": None}
    [error] = answer["errors"]
    assert error["path"] == ["partner", "provenance"]
    assert error["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
    assert "planner" not in error["message"]


async def test_resolved_parts_add_their_own_batched_statements(client: Client) -> None:
    """The compiled part stays one statement per root field; each field the resolvers answer
    adds its loaders' statements once per level, not once per object."""
    plain = "{ partners(kind: NETWORK) { nodes { key members { nodes { member { key } } } } } }"
    mixed = (
        "{ partners(kind: NETWORK) { nodes { key provenance { totalCount } members { nodes {"
        " member { key source { document } } } } } } }"
    )
    counts = []
    for query in (plain, mixed):
        with counting(client.services) as statements:
            answer = await fresh(client, query, None)
        assert "errors" not in answer
        statements = [s for s in statements if s != "BEGIN"]
        assert len([s for s in statements if "json_" in s]) == 1
        counts.append(len(statements))
    assert counts[1] - counts[0] <= 4, counts


async def test_sources_answer_alike(client: Client) -> None:
    """`source` is compiled: events with a source, with one without a section, and without."""
    store = client.services.store
    await record(client.services, "s-", networks=1, members=2)
    for key, source in (("s-a", SourceRef("a document")), ("s-b", SourceRef("b", "§ 2 «x»"))):
        registered = PartnerRegistered(key=key, name=key, kind="city")
        await store.append(f"partner:{key}", [registered], metadata=Metadata(source=source))
    for key in ("s-a", "s-b", "s-net-0", "c40"):
        answer = await both(
            client,
            f'{{ partner(key: "{key}") {{ source {{ __typename d: document section }}'
            " memberships { nodes { source { section document } } }"
            " members { nodes { source { document } member { source { section } } } } } }",
        )
        assert answer["data"]["partner"] is not None
    with counting(client.services) as statements:
        await fresh(client, '{ partner(key: "c40") { source { document } } }', None)
    assert [s for s in statements if "events" in s and "json" not in s] == []
