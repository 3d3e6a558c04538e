"""No password in any message, log line or answer; tokens configured by their digest."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from service.app import create_app
from service.auth import BadToken, principal_for
from service.cli import main
from service.observability import configure_logging
from service.redaction import masked, redacted
from service.settings import Settings, SettingsError, parse_tokens, token_digest
from tests.servers import free_port


def test_urls_in_any_text_lose_their_password() -> None:
    assert masked("postgresql://root:pw@db.example/coop") == "postgresql://root:***@db.example/coop"
    assert (
        masked("postgresql://root:pw@db:notaport/coop") == "postgresql://root:***@db:notaport/coop"
    )
    text = "failed: 'postgresql://u:p@ss:w@h:5432/db?sslmode=require&password=x' and sqlite:///a.db"
    assert redacted(text) == (
        "failed: 'postgresql://u:***@h:5432/db?sslmode=require&password=***' and sqlite:///a.db"
    )


def test_a_bad_database_url_is_refused_without_its_password() -> None:
    url = "postgresql://root:hunter2@127.0.0.1:notaport/coop"
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"COOP_DATABASE_URL": url})
    message = str(refused.value)
    assert "COOP_DATABASE_URL='postgresql://root:***@127.0.0.1:notaport/coop'" in message
    assert "hunter2" not in message


def test_db_upgrade_shows_the_url_without_its_password(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COOP_DATABASE_URL", f"postgresql://root:hunter2@127.0.0.1:{free_port()}/x")
    assert main(["db", "upgrade"]) == 3
    monkeypatch.setenv("COOP_DATABASE_URL", "postgresql://root:hunter2@127.0.0.1:x/db")
    assert main(["db", "upgrade"]) == 2
    out, err = capsys.readouterr()
    assert "hunter2" not in out + err
    assert err.count("root:***@127.0.0.1") == 2


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """The service's log configuration, writing to a string."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    written = io.StringIO()
    configure_logging(stream=written)
    try:
        yield written
    finally:
        root.handlers[:], root.level = handlers, level


def test_log_lines_never_carry_a_password(json_log: io.StringIO) -> None:
    log = logging.getLogger("coop.test")
    url = "postgresql://root:hunter2@db/coop"
    log.warning("connecting to %s", url)
    try:
        raise ConnectionError(f"cannot reach {url}")
    except ConnectionError:
        log.exception("failed")
    err = json_log.getvalue()
    assert "hunter2" not in err
    assert err.count("root:***@db/coop") == 2  # the message, and the error in its traceback


async def test_readyz_gives_a_reason_class_and_no_driver_text(tmp_path: Path) -> None:
    unmigrated = f"sqlite:///{tmp_path / 'empty.db'}"
    unreachable = f"postgresql://root:hunter2@127.0.0.1:{free_port()}/coop"
    for url, reason in ((unmigrated, "database_error"), (unreachable, "database_unavailable")):
        app = create_app(Settings(database_url=url))
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://coop") as http:
            response = await http.get("/readyz")
        await app.state.services.close()
        assert response.status_code == 503
        assert response.json() == {"ready": False, "reason": reason}


def test_hashed_tokens_are_accepted_beside_plain_ones() -> None:
    secret = "a-long-secret-for-the-editor"
    entries = f"editor:alice:sha256:{token_digest(secret).upper()},reader:rd:plain-secret"
    settings = Settings(tokens=parse_tokens(entries))
    alice = principal_for(settings, f"Bearer {secret}")
    assert (alice.role, alice.actor) == ("editor", "alice")
    assert principal_for(settings, "Bearer plain-secret").role == "reader"
    with pytest.raises(BadToken):
        principal_for(settings, f"Bearer {token_digest(secret)}")  # the digest is no token


@pytest.mark.parametrize(
    "entry",
    ["editor:alice:sha256:abc", "editor:alice:sha256:" + "g" * 64, "editor:sha256:" + "a" * 64],
)
def test_a_malformed_hashed_entry_names_the_variable(entry: str) -> None:
    with pytest.raises(SettingsError, match="COOP_API_TOKENS entry 1"):
        parse_tokens(entry)


def test_tokens_create_prints_the_hashed_entry_and_the_token_once(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["tokens", "create", "--role", "editor", "--name", "alice"]) == 0
    out = capsys.readouterr().out
    lines = dict(line.split(": ", 1) for line in out.strip().splitlines())
    entry, token = lines["entry"], lines["token"]
    assert entry.startswith("editor:alice:sha256:")
    assert token not in entry
    assert len(token) >= 32
    assert out.count(token) == 1
    settings = Settings(tokens=parse_tokens(entry))
    assert principal_for(settings, f"Bearer {token}").actor == "alice"
