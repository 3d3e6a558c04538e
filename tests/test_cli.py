"""The command line's own verbs: settings errors (tokens: tests/operator/test_secrets.py)."""

from __future__ import annotations

import pytest

from service.cli import main


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
