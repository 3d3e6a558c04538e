"""The command line's own verbs: settings errors, the signing settings (tokens:
tests/operator/test_secrets.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from service.cli import main
from service.settings import Every, Settings, SettingsError


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


def test_signing_settings_are_checked_at_start(tmp_path: Path) -> None:
    from service.signing import create_key_pair

    key, _ = create_key_pair(tmp_path)
    settings = Settings.from_env({"COOP_SIGNING_KEY": str(key), "COOP_CHECKPOINT_EVERY": "30s"})
    assert settings.signing_key == str(key)
    assert settings.checkpoint_every == Every(seconds=30.0)
    for text, every in (("45", Every(seconds=45.0)), ("1000 events", Every(events=1000))):
        env = {"COOP_SIGNING_KEY": str(key), "COOP_CHECKPOINT_EVERY": text}
        assert Settings.from_env(env).checkpoint_every == every
    refused = {
        "COOP_SIGNING_KEY=": {"COOP_SIGNING_KEY": str(tmp_path / "none.pem")},
        "needs COOP_SIGNING_KEY": {"COOP_CHECKPOINT_EVERY": "30"},
        "COOP_CHECKPOINT_EVERY='soon'": {
            "COOP_SIGNING_KEY": str(key),
            "COOP_CHECKPOINT_EVERY": "soon",
        },
    }
    for expected, env in refused.items():
        with pytest.raises(SettingsError, match=re.escape(expected.rstrip("="))):
            Settings.from_env(env)
    public = tmp_path / "coop-signing.pub.pem"
    with pytest.raises(SettingsError, match="not an unencrypted PEM private key"):
        Settings.from_env({"COOP_SIGNING_KEY": str(public)})
