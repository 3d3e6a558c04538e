"""The command line's own verbs: settings errors and tokens."""

from __future__ import annotations

import pytest

from service.cli import main
from service.settings import parse_tokens


def test_tokens_create_prints_an_entry_the_settings_accept(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["tokens", "create", "--role", "editor", "--name", "alice"]) == 0
    line = capsys.readouterr().out.strip()
    (token,) = parse_tokens(line)
    assert (token.role, token.name) == ("editor", "alice")
    assert len(token.secret) >= 32
    assert main(["tokens", "create", "--role", "editor"]) == 0
    assert capsys.readouterr().out.strip() != line


def test_a_bad_setting_stops_the_command_with_its_name(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COOP_DATABASE_URL", "mysql://nope")
    assert main(["db", "upgrade"]) == 2
    assert "COOP_DATABASE_URL" in capsys.readouterr().err
    monkeypatch.setenv("COOP_DATABASE_URL", "sqlite:///x.db")
    monkeypatch.setenv("COOP_API_TOKENS", "boss:secret")
    assert main(["db", "upgrade"]) == 2
    assert "role 'boss'" in capsys.readouterr().err
