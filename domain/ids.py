"""The ids the record gives what it holds, and what each id tells of where its facts live.

A membership is `<member>@<network>#<n>`, a role `<holder>@<network>#role-<n>`, a
participation `<program>/<partner>#<n>` and a body `<network>.<body>`; partners, programs,
activities, commitments and sources are known by their keys. Keys are lowercase letters,
digits and single hyphens, so the separators are never part of one.
"""

from __future__ import annotations

import re

from domain.errors import ValidationError

_KEY = r"[a-z0-9]+(?:-[a-z0-9]+)*"
_MEMBERSHIP = re.compile(rf"({_KEY})@({_KEY})#([1-9][0-9]*)")
_ROLE = re.compile(rf"({_KEY})@({_KEY})#role-([1-9][0-9]*)")
_PARTICIPATION = re.compile(rf"({_KEY})/({_KEY})#([1-9][0-9]*)")
_BODY = re.compile(rf"({_KEY})\.({_KEY})")


def membership_id(member: str, network: str, number: int) -> str:
    return f"{member}@{network}#{number}"


def role_id(holder: str, network: str, number: int) -> str:
    return f"{holder}@{network}#role-{number}"


def participation_id(program: str, partner: str, number: int) -> str:
    return f"{program}/{partner}#{number}"


def body_key(network: str, body: str) -> str:
    """A body's key among all networks' bodies: `c40.steering-committee`."""
    return f"{network}.{body}"


def member_and_network(membership: str) -> tuple[str, str]:
    """The member and network a membership id names."""
    return _parts(_MEMBERSHIP, membership, "membership id", "'tokyo@c40#1'")


def holder_and_network(role: str) -> tuple[str, str]:
    """The holder and network a role id names."""
    return _parts(_ROLE, role, "role id", "'tokyo@c40#role-1'")


def program_and_partner(participation: str) -> tuple[str, str]:
    """The program and partner a participation id names."""
    return _parts(_PARTICIPATION, participation, "participation id", "'program-key/tokyo#1'")


def network_and_body(body: str) -> tuple[str, str]:
    """The network and body key a body's key names."""
    return _parts(_BODY, body, "body key", "'c40.steering-committee'")


def _parts(form: re.Pattern[str], text: str, what: str, example: str) -> tuple[str, str]:
    match = form.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        raise ValidationError(f"{text!r} is not a {what}: it looks like {example}")
    return match.group(1), match.group(2)
