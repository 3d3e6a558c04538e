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

MEMBERSHIP = "membershipId since until certain notes"
ROLE = "roleId title holderTitle since until heldAsOf certain notes body { name }"

# What a partner page shows of each related collection, in the order shown; each fact also
# shows where it came from (`origin`).
RELATIONS = {
    "memberships": f"{MEMBERSHIP} network {{ key name }}",
    "roles": f"{ROLE} network {{ key name }}",
    "members": f"{MEMBERSHIP} member {{ key name country }}",
    "officeholders": f"{ROLE} holder {{ key name }}",
    "bodies": "key name description size sizeAsOf",
    "programs": """key name field kind status since until certain topics description
        lead { key name }""",
    "activities": """key name kind on mode description certain
        organiser { key name } program { key name }""",
    "commitments": "key byTitle on statement focusAreas certain activity { key name }",
}
# The relations the SQL compiler answers whole (when their facts' origins are not asked).
COMPILED = ("memberships", "members", "programs")
# The relations whose facts' origins the page reads apart, all at once (origins.py), each
# with the field that holds the key their versions are kept under. (A body's is not in the
# answer: bodies ask for their origin.)
APART = {
    "memberships": "membershipId",
    "roles": "roleId",
    "members": "membershipId",
    "officeholders": "roleId",
    "programs": "key",
    "activities": "key",
    "commitments": "key",
}
PARTNER_FIELDS = "key name kind country region description validFrom validTo recordedAt"


def _connection(name: str, after: str = "", origin: bool = True) -> str:
    """A page of one relation; without `origin`, each fact's position alone."""
    told = "...origin" if origin else "position"
    return (
        f"{name}(first: $first{after}) {{ totalCount pageInfo {{ hasNextPage endCursor }}"
        f" nodes {{ {RELATIONS[name]} {told} }} }}"
    )


# The whole page as one question, as a client would ask it. The page asks the same in parts
# (PARTNER_PAGE), and a test holds the two answers equal.
PARTNER = (
    f"""
query PartnerPage($key: String!, $first: Int!, {TIME}) {{
  partner(key: $key, {AT}) {{
    {PARTNER_FIELDS} ...origin
    {" ".join(_connection(name) for name in RELATIONS)}
  }}
}}
"""
    + ORIGIN
)

# The page's own read: `facts`, whose whole selection the SQL compiler answers in one
# statement, and `more`, which the resolvers answer. Where the facts came from is read apart
# for all of them at once, but for bodies.
RESOLVED = [name for name in RELATIONS if name not in COMPILED]
PARTNER_PAGE = (
    f"""
query PartnerPage($key: String!, $first: Int!, {TIME}) {{
  facts: partner(key: $key, {AT}) {{
    {PARTNER_FIELDS} position
    {" ".join(_connection(name, origin=False) for name in RELATIONS if name in COMPILED)}
  }}
  more: partner(key: $key, {AT}) {{
    {" ".join(_connection(name, origin=name not in APART) for name in RESOLVED)}
  }}
}}
"""
    + ORIGIN
)


def _relation(name: str, origin: bool) -> str:
    return f"""
query PartnerRelation($key: String!, $first: Int!, $after: String, {TIME}) {{
  partner(key: $key, {AT}) {{
    key name kind
    {_connection(name, ", after: $after", origin)}
  }}
}}
""" + (ORIGIN if origin else "")


# One collection of a partner, a page at a time: `$after` is the cursor the last page ended
# on. As a client would ask it, and as the page asks it: the origins of the facts apart.
RELATION = {name: _relation(name, origin=True) for name in RELATIONS}
RELATION_PAGE = {name: _relation(name, origin=name not in APART) for name in RELATIONS}

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
