"""Who is asking: bearer tokens from COOP_API_TOKENS, compared in constant time."""

from __future__ import annotations

import hmac
import secrets

from schema.access import ANONYMOUS, Principal
from service.settings import Settings, token_digest


class BadToken(Exception):
    """A token was given but is not one Coop knows."""


def principal_for(settings: Settings, authorization: str | None) -> Principal:
    """The principal an `Authorization: Bearer <token>` value stands for.

    No header is anonymous; a header with an unknown or malformed token is refused.
    """
    if authorization is None or not authorization.strip():
        return ANONYMOUS
    scheme, _, secret = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise BadToken("the Authorization header must be 'Bearer <token>'")
    given = token_digest(secret.strip()).encode()
    found = None
    for token in settings.tokens:
        # Compare against every token, so the time taken says nothing about which matched.
        if hmac.compare_digest(token.digest.encode(), given):
            found = token
    if found is None:
        raise BadToken("the bearer token is not valid")
    return Principal(found.role, found.name)


def new_token(role: str, name: str | None = None) -> tuple[str, str]:
    """A fresh token: the `role:name:sha256:<hex>` entry to add to COOP_API_TOKENS, which
    holds only its digest, and the token itself, for its holder."""
    secret = secrets.token_urlsafe(32)
    digest = token_digest(secret)
    return f"{role}:{name or f'{role}-{digest[:10]}'}:sha256:{digest}", secret
