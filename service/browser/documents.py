"""The GraphQL documents the pages send to the API's schema: what a page shows is what a
client asking the same question would be answered."""

from __future__ import annotations

TIME = "$asOf: Date, $knownAt: DateTime, $atPosition: Int"
AT = "asOf: $asOf, knownAt: $knownAt, atPosition: $atPosition"
RECORD_TIME = "$knownAt: DateTime, $atPosition: Int"
RECORD_AT = "knownAt: $knownAt, atPosition: $atPosition"

# Where a fact came from: its source, and the events that made, corrected or ended it.
ORIGIN = """
fragment origin on Recorded {
  position
  source { document section }
  provenance(first: $first) { totalCount nodes { position type recordedAt reason } }
}
"""

# The partners a page at a time; the programs and the activities (those that may have taken
# place by the day asked) that match, the first page of each.
HOME = f"""
query Home($search: String, $kind: PartnerKind, $first: Int!, $after: String, {TIME}) {{
  partners(search: $search, kind: $kind, first: $first, after: $after, {AT}) {{
    totalCount
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ key name kind country region }}
  }}
  programs(search: $search, first: $first, {AT}) {{
    totalCount
    nodes {{ key name field status since until certain lead {{ key name }} }}
  }}
  activities(search: $search, to: $asOf, first: $first, {RECORD_AT}) {{
    totalCount
    nodes {{ key name kind on certain }}
  }}
}}
"""

# What a partner page shows of each related collection, in the order shown.
RELATIONS = {
    "memberships": "...membership network { key name }",
    "roles": "...role network { key name }",
    "members": "...membership member { key name country }",
    "officeholders": "...role holder { key name }",
    "bodies": "key name description size sizeAsOf ...origin",
    "programs": """key name field kind status since until certain topics description
        lead { key name } ...origin""",
    "activities": """key name kind on mode description certain
        organiser { key name } program { key name } ...origin""",
    "commitments": "key byTitle on statement focusAreas certain activity { key name } ...origin",
}

FRAGMENTS = {
    "membership": """
fragment membership on Membership {
  membershipId since until certain notes
  ...origin
}
""",
    "role": """
fragment role on Role {
  roleId title holderTitle since until heldAsOf certain notes
  body { name }
  ...origin
}
""",
}


def _fragments(names: list[str]) -> str:
    """The fragments the selections of `names` spread (a document may hold no other)."""
    spread = " ".join(RELATIONS[name] for name in names)
    return ORIGIN + "".join(text for name, text in FRAGMENTS.items() if f"...{name} " in spread)


def _connection(name: str, after: str = "") -> str:
    return (
        f"{name}(first: $first{after}) {{ totalCount pageInfo {{ hasNextPage endCursor }}"
        f" nodes {{ {RELATIONS[name]} }} }}"
    )


PARTNER = f"""
query PartnerPage($key: String!, $first: Int!, {TIME}) {{
  partner(key: $key, {AT}) {{
    key name kind country region description validFrom validTo recordedAt
    ...origin
    {" ".join(_connection(name) for name in RELATIONS)}
  }}
}}
""" + _fragments(list(RELATIONS))

# One collection of a partner, a page at a time: `$after` is the cursor the last page ended on.
RELATION = {
    name: f"""
query PartnerRelation($key: String!, $first: Int!, $after: String, {TIME}) {{
  partner(key: $key, {AT}) {{
    key name kind
    {_connection(name, ", after: $after")}
  }}
}}
"""
    + _fragments([name])
    for name in RELATIONS
}

PROGRAM = (
    f"""
query ProgramPage($key: String!, $first: Int!, {TIME}) {{
  program(key: $key, {AT}) {{
    key name field kind status since until certain topics description recordedAt
    lead {{ key name }} network {{ key name }}
    ...origin
    partners(first: $first) {{
      totalCount
      nodes {{ participationId since until certain partner {{ key name country }} ...origin }}
    }}
    activities(first: $first) {{
      totalCount
      nodes {{ key name kind on mode certain organiser {{ key name }} ...origin }}
    }}
  }}
}}
"""
    + ORIGIN
)

# What an activity's page and a commitment's page show of a commitment.
COMMITMENT_FIELDS = """
fragment commitment on Commitment {
  key byTitle on statement focusAreas certain recordedAt
  by { key name }
  collaborators(first: $first) { nodes { name partner { key name } } }
  ...origin
}
"""

ACTIVITY = (
    f"""
query ActivityPage($key: String!, $first: Int!, {RECORD_TIME}) {{
  activity(key: $key, {RECORD_AT}) {{
    key name kind on mode field representatives description certain recordedAt
    organiser {{ key name }} network {{ key name }} body {{ name }} program {{ key name }}
    ...origin
    participants(first: $first) {{ totalCount nodes {{ key name country }} }}
    commitments(first: $first) {{ totalCount nodes {{ ...commitment }} }}
  }}
}}
"""
    + ORIGIN
    + COMMITMENT_FIELDS
)

COMMITMENT = (
    f"""
query CommitmentPage($key: String!, $first: Int!, {TIME}) {{
  commitment(key: $key, {AT}) {{
    ...commitment
    activity {{ key name on }}
  }}
}}
"""
    + ORIGIN
    + COMMITMENT_FIELDS
)

SOURCES = f"""
query Sources($first: Int!, {RECORD_TIME}) {{
  sources(first: $first, {RECORD_AT}) {{
    nodes {{ key title publisher url sections position recordedAt }}
  }}
}}
"""

EVENT = """
query Event($after: Int!) {
  events(after: $after, first: 1) {
    nodes { position streamId streamVersion type schemaVersion data recordedAt hash prevHash }
  }
}
"""
