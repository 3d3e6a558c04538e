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
  provenance(first: 20) { totalCount nodes { position type recordedAt reason } }
}
"""

HOME = f"""
query Home($search: String, $kind: PartnerKind, $after: String, {TIME}) {{
  partners(search: $search, kind: $kind, first: 100, after: $after, {AT}) {{
    totalCount
    pageInfo {{ hasNextPage endCursor }}
    nodes {{ key name kind country region }}
  }}
}}
"""

PARTNER = (
    f"""
query PartnerPage($key: String!, {TIME}) {{
  partner(key: $key, {AT}) {{
    key name kind country region description validFrom validTo recordedAt
    ...origin
    memberships(first: 100) {{ totalCount nodes {{ ...membership network {{ key name }} }} }}
    roles(first: 100) {{ totalCount nodes {{ ...role network {{ key name }} }} }}
    members(first: 100) {{ totalCount nodes {{ ...membership member {{ key name country }} }} }}
    officeholders(first: 100) {{ totalCount nodes {{ ...role holder {{ key name }} }} }}
    bodies(first: 100) {{
      totalCount
      nodes {{ key name description size sizeAsOf ...origin }}
    }}
    programs(first: 100) {{
      totalCount
      nodes {{
        key name field kind status since until certain topics description
        lead {{ key name }}
        ...origin
      }}
    }}
    activities(first: 100) {{
      totalCount
      nodes {{
        key name kind on mode description certain
        organiser {{ key name }} program {{ key name }}
        ...origin
      }}
    }}
    commitments(first: 100) {{
      totalCount
      nodes {{
        key byTitle on statement focusAreas certain
        activity {{ key name }}
        ...origin
      }}
    }}
  }}
}}
"""
    + ORIGIN
    + """
fragment membership on Membership {
  membershipId since until certain notes
  ...origin
}

fragment role on Role {
  roleId title holderTitle since until heldAsOf certain notes
  body { name }
  ...origin
}
"""
)

SOURCES = f"""
query Sources({RECORD_TIME}) {{
  sources(first: 100, {RECORD_AT}) {{
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
