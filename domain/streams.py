"""Which stream holds which fact.

One stream per thing that must stay consistent on its own: a partner, all periods of one
member in one network, all roles of one holder in one network, a body, a program, an
activity, a commitment, a source. Every event names its stream (`DomainEvent.stream`), so
a history of events can be regrouped into streams without the log.
"""

from __future__ import annotations


def partner_stream(key: str) -> str:
    return f"partner:{key}"


def membership_stream(member: str, network: str) -> str:
    return f"membership:{member}@{network}"


def role_stream(holder: str, network: str) -> str:
    return f"role:{holder}@{network}"


def body_stream(network: str, body: str) -> str:
    return f"body:{network}.{body}"


def program_stream(key: str) -> str:
    return f"program:{key}"


def activity_stream(key: str) -> str:
    return f"activity:{key}"


def commitment_stream(key: str) -> str:
    return f"commitment:{key}"


def source_stream(key: str) -> str:
    return f"source:{key}"
