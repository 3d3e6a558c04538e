"""Settings from the environment, checked once at start with a message that names the problem."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from events.database import async_url

ROLES = ("reader", "editor", "auditor", "admin")
DEFAULT_DATABASE_URL = "sqlite:///coop.db"


class SettingsError(ValueError):
    """A setting has a value Coop cannot use."""


@dataclass(frozen=True)
class Token:
    role: str
    name: str
    secret: str


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    tokens: tuple[Token, ...] = field(default=())
    require_auth_for_reads: bool = False
    read_only: bool = False
    max_page_size: int = 100
    max_query_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 2000
    ws_ping_seconds: float = 15.0
    feed_poll_seconds: float = 5.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        url = env.get("COOP_DATABASE_URL", DEFAULT_DATABASE_URL)
        try:
            async_url(url)
        except Exception as error:
            raise SettingsError(f"COOP_DATABASE_URL={url!r} is not usable: {error}") from None
        return cls(
            database_url=url,
            tokens=parse_tokens(env.get("COOP_API_TOKENS", "")),
            require_auth_for_reads=_flag(env, "COOP_REQUIRE_AUTH_FOR_READS"),
            read_only=_flag(env, "COOP_READ_ONLY"),
            max_page_size=_positive(env, "COOP_MAX_PAGE_SIZE", cls.max_page_size),
            max_query_depth=_positive(env, "COOP_MAX_QUERY_DEPTH", cls.max_query_depth),
            max_aliases=_positive(env, "COOP_MAX_ALIASES", cls.max_aliases),
            max_tokens=_positive(env, "COOP_MAX_QUERY_TOKENS", cls.max_tokens),
            ws_ping_seconds=_seconds(env, "COOP_WS_PING_SECONDS", cls.ws_ping_seconds),
            feed_poll_seconds=_seconds(env, "COOP_FEED_POLL_SECONDS", cls.feed_poll_seconds),
        )


def parse_tokens(text: str) -> tuple[Token, ...]:
    """`role:token` pairs, comma-separated; a token may be named `role:name:token`."""
    tokens = []
    for number, item in enumerate(filter(None, (part.strip() for part in text.split(","))), 1):
        parts = item.split(":")
        if len(parts) not in (2, 3) or not all(parts):
            raise SettingsError(
                f"COOP_API_TOKENS entry {number} is not 'role:token' or 'role:name:token'"
            )
        role, secret = parts[0], parts[-1]
        if role not in ROLES:
            raise SettingsError(
                f"COOP_API_TOKENS entry {number} has role {role!r}; roles are {', '.join(ROLES)}"
            )
        # An unnamed token is named by a digest of it, never by any part of the secret.
        digest = hashlib.sha256(secret.encode()).hexdigest()[:10]
        name = parts[1] if len(parts) == 3 else f"{role}-{digest}"
        tokens.append(Token(role, name, secret))
    return tuple(tokens)


def _flag(env: Mapping[str, str], name: str) -> bool:
    value = env.get(name, "").strip().lower()
    if value in ("", "0", "false", "no"):
        return False
    if value in ("1", "true", "yes"):
        return True
    raise SettingsError(f"{name}={value!r}: use true or false")


def _positive(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name)
    if value is None:
        return default
    if not value.isdigit() or int(value) < 1:
        raise SettingsError(f"{name}={value!r}: use a whole number of at least 1")
    return int(value)


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    value = env.get(name)
    if value is None:
        return default
    try:
        seconds = float(value)
    except ValueError:
        seconds = 0
    if not 0 < seconds <= 3600:
        raise SettingsError(f"{name}={value!r}: use a number of seconds above 0, at most 3600")
    return seconds
