"""Settings from the environment, checked once at start with a message that names the problem."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from events.database import async_url
from service.redaction import masked, redacted

ROLES = ("reader", "editor", "auditor", "admin")
DEFAULT_DATABASE_URL = "sqlite:///coop.db"
ORIGIN = re.compile(r"https?://([^/\s:\[\]]+|\[[0-9A-Fa-f:.]+\])(:[0-9]{1,5})?")


class SettingsError(ValueError):
    """A setting has a value Coop cannot use."""


@dataclass(frozen=True)
class Token:
    """A token the service accepts, known by the SHA-256 of its secret (hex)."""

    role: str
    name: str
    digest: str


def token_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Every:
    """How often the service makes a checkpoint: after so many seconds, or so many events."""

    seconds: float | None = None
    events: int | None = None


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
    # Queries answered by SQL compiled from their selection (off: by the resolvers alone).
    compile_reads: bool = True
    signing_key: str | None = None
    checkpoint_every: Every | None = None
    ws_queue_limit: int = 200
    max_body_bytes: int = 1_000_000
    max_query_cost: int = 50_000
    request_timeout: float = 10.0
    header_timeout: float = 10.0
    body_timeout: float = 20.0
    ws_init_timeout: float = 10.0
    ws_max_operations: int = 100
    ws_max_subscriptions_per_token: int = 200
    introspection: bool = True
    graphiql: bool = True
    cors_origins: tuple[str, ...] = ()
    response_cache_mb: int = 64

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        url = env.get("COOP_DATABASE_URL", DEFAULT_DATABASE_URL)
        try:
            async_url(url)
        except Exception as error:
            raise SettingsError(
                redacted(f"COOP_DATABASE_URL={masked(url)!r} is not usable: {error}")
            ) from None
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
            compile_reads=not _flag(env, "COOP_RESOLVE_READS"),
            signing_key=_signing_key(env),
            checkpoint_every=_every(env),
            ws_queue_limit=_positive(env, "COOP_WS_QUEUE_LIMIT", cls.ws_queue_limit),
            max_body_bytes=_positive(env, "COOP_MAX_BODY_BYTES", cls.max_body_bytes),
            max_query_cost=_positive(env, "COOP_MAX_QUERY_COST", cls.max_query_cost),
            request_timeout=_seconds(env, "COOP_REQUEST_TIMEOUT", cls.request_timeout),
            header_timeout=_seconds(env, "COOP_HEADER_TIMEOUT", cls.header_timeout),
            body_timeout=_seconds(env, "COOP_BODY_TIMEOUT", cls.body_timeout),
            ws_init_timeout=_seconds(env, "COOP_WS_INIT_TIMEOUT", cls.ws_init_timeout),
            ws_max_operations=_positive(env, "COOP_WS_MAX_OPERATIONS", cls.ws_max_operations),
            ws_max_subscriptions_per_token=_positive(
                env, "COOP_WS_MAX_SUBSCRIPTIONS_PER_TOKEN", cls.ws_max_subscriptions_per_token
            ),
            introspection=_flag(env, "COOP_INTROSPECTION", default=cls.introspection),
            graphiql=_flag(env, "COOP_GRAPHIQL", default=cls.graphiql),
            cors_origins=parse_origins(env.get("COOP_CORS_ORIGINS", "")),
            response_cache_mb=_count(env, "COOP_RESPONSE_CACHE_MB", cls.response_cache_mb),
        )


def parse_tokens(text: str) -> tuple[Token, ...]:
    """Comma-separated entries: `role:token`, `role:name:token`, or `role:name:sha256:<hex>`
    (the token kept only as its SHA-256, as `coop tokens create` prints it)."""
    tokens = []
    for number, item in enumerate(filter(None, (part.strip() for part in text.split(","))), 1):
        tokens.append(_token(number, item.split(":")))
    return tuple(tokens)


def _token(number: int, parts: list[str]) -> Token:
    hashed_shape = "'role:name:sha256:<64 hex digits>'"
    shape = f"'role:token', 'role:name:token' or {hashed_shape}"
    hashed = len(parts) == 4 and parts[2] == "sha256"
    if not (len(parts) in (2, 3) or hashed) or not all(parts):
        raise SettingsError(f"COOP_API_TOKENS entry {number} is not {shape}")
    if len(parts) == 3 and parts[1] == "sha256":  # a digest would be taken for the token
        raise SettingsError(f"COOP_API_TOKENS entry {number}: a hashed entry is {hashed_shape}")
    role = parts[0]
    if role not in ROLES:
        raise SettingsError(
            f"COOP_API_TOKENS entry {number} has role {role!r}; roles are {', '.join(ROLES)}"
        )
    if hashed:
        if not _SHA256.fullmatch(parts[3]):
            raise SettingsError(f"COOP_API_TOKENS entry {number} is not {shape}")
        return Token(role, parts[1], parts[3].lower())
    digest = token_digest(parts[-1])
    # An unnamed token is named by a digest of it, never by any part of the secret.
    name = parts[1] if len(parts) == 3 else f"{role}-{digest[:10]}"
    return Token(role, name, digest)


_SHA256 = re.compile(r"[0-9a-fA-F]{64}")


def parse_origins(text: str) -> tuple[str, ...]:
    """Comma-separated origins (`https://app.example.org`) a browser may call from, or `*`."""
    origins = tuple(filter(None, (part.strip().rstrip("/") for part in text.split(","))))
    for origin in origins:
        if origin != "*" and not ORIGIN.fullmatch(origin):
            raise SettingsError(
                f"COOP_CORS_ORIGINS entry {origin!r} is not an origin: use scheme://host[:port],"
                " like https://app.example.org, or *"
            )
    return origins


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    value = env.get(name, "").strip().lower()
    if value == "":
        return default
    if value in ("0", "false", "no"):
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


def _count(env: Mapping[str, str], name: str, default: int) -> int:
    value = env.get(name)
    if value is None:
        return default
    if not value.isdigit():
        raise SettingsError(f"{name}={value!r}: use a whole number (0 for none)")
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


def _signing_key(env: Mapping[str, str]) -> str | None:
    """The path of the checkpoint signing key, checked to hold an Ed25519 private key."""
    from pathlib import Path

    from service.signing import KeyProblem, load_signing_key

    path = env.get("COOP_SIGNING_KEY", "").strip()
    if not path:
        return None
    try:
        load_signing_key(Path(path))
    except KeyProblem as problem:
        raise SettingsError(f"COOP_SIGNING_KEY: {problem}") from None
    return path


def _every(env: Mapping[str, str]) -> Every | None:
    """COOP_CHECKPOINT_EVERY: `300` or `300s` (seconds), or `1000 events`."""
    value = env.get("COOP_CHECKPOINT_EVERY", "").strip()
    if not value:
        return None
    if not env.get("COOP_SIGNING_KEY", "").strip():
        raise SettingsError("COOP_CHECKPOINT_EVERY needs COOP_SIGNING_KEY, the key to sign with")
    number, _, unit = value.lower().partition(" ") if " " in value else _split_unit(value)
    if unit in ("", "s") and number.isdigit() and int(number) >= 1:
        return Every(seconds=float(number))
    if unit in ("event", "events") and number.isdigit() and int(number) >= 1:
        return Every(events=int(number))
    raise SettingsError(
        f"COOP_CHECKPOINT_EVERY={value!r}: use seconds (`300` or `300s`) or events (`1000 events`)"
    )


def _split_unit(value: str) -> tuple[str, str, str]:
    digits = len(value) - len(value.lstrip("0123456789"))
    return value[:digits], "", value[digits:].lower()
