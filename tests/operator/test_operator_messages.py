"""Every verb that cannot run says so in one line, with what to do, and a listed exit code;
`coop serve` never makes a database; SQLite files are the owner's alone."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sqlite3
import stat
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url

from service.cli import main
from tests.conftest import POSTGRES_URL, create_postgres_database, drop_postgres_database
from tests.servers import free_port

VERBS = [["db", "upgrade"], ["seed"], ["serve"], ["verify"], ["export"]]
USAGE, UNAVAILABLE = 2, 3


def ran(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str, verb: list[str]
) -> tuple[int, str]:
    """The exit code and the one line on stderr (anything more fails the test)."""
    monkeypatch.setenv("COOP_DATABASE_URL", url)
    port = ["--port", str(free_port())] if verb[0] == "serve" else []
    code = main([*verb, *port])
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err
    assert lines[0].startswith("coop: "), err
    return code, lines[0]


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize("verb", VERBS, ids=" ".join)
def test_an_sqlite_file_in_a_missing_folder(
    verb: list[str],
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, line = ran(monkeypatch, capsys, f"sqlite:///{folder}/nowhere/coop.db", verb)
    assert code == USAGE
    assert f"there is no folder {folder}/nowhere" in line
    assert "create it" in line
    assert not (folder / "nowhere").exists()


@pytest.mark.parametrize("verb", [v for v in VERBS if v != ["db", "upgrade"]], ids=" ".join)
def test_a_missing_sqlite_file_is_named_and_never_made(
    verb: list[str],
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, line = ran(monkeypatch, capsys, f"sqlite:///{folder}/coop.db", verb)
    assert code == USAGE
    assert "no database file" in line
    assert "run `coop db upgrade`" in line
    assert list(folder.iterdir()) == []


@pytest.mark.parametrize("verb", [v for v in VERBS if v != ["db", "upgrade"]], ids=" ".join)
def test_an_unmigrated_sqlite_file(
    verb: list[str],
    folder: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sqlite3.connect(folder / "coop.db").execute("CREATE TABLE unrelated (x)").connection.close()
    code, line = ran(monkeypatch, capsys, f"sqlite:///{folder}/coop.db", verb)
    assert code == USAGE
    assert "has no Coop schema: run `coop db upgrade`" in line


@pytest.mark.skipif(POSTGRES_URL is None, reason="needs COOP_TEST_POSTGRES_URL")
@pytest.mark.parametrize("verb", VERBS, ids=" ".join)
def test_a_missing_postgresql_database(
    verb: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert POSTGRES_URL is not None
    name = f"coop_absent_{uuid.uuid4().hex[:8]}"
    url = make_url(POSTGRES_URL).set(database=name, password="hunter2")
    code, line = ran(monkeypatch, capsys, url.render_as_string(hide_password=False), verb)
    assert code == USAGE
    assert f"the PostgreSQL database '{name}' does not exist" in line
    assert f"`createdb {name}`" in line
    assert "`coop db upgrade`" in line
    assert "hunter2" not in line
    assert ":***@" in line


@pytest.mark.skipif(POSTGRES_URL is None, reason="needs COOP_TEST_POSTGRES_URL")
@pytest.mark.parametrize("verb", [v for v in VERBS if v != ["db", "upgrade"]], ids=" ".join)
async def test_an_unmigrated_postgresql_database(
    verb: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = await create_postgres_database()
    try:
        code, line = await _in_thread(monkeypatch, capsys, url, verb)
    finally:
        await drop_postgres_database(url)
    assert code == USAGE
    assert "has no Coop schema: run `coop db upgrade`" in line


async def _in_thread(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str, verb: list[str]
) -> tuple[int, str]:
    """A verb runs its own event loop: run it beside the test's."""
    import asyncio

    return await asyncio.to_thread(ran, monkeypatch, capsys, url, verb)


@pytest.mark.parametrize("verb", VERBS, ids=" ".join)
def test_a_database_that_cannot_be_reached_may_be_tried_again(
    verb: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    closed = free_port()  # nothing listens there
    url = f"postgresql://coop:s3cret@127.0.0.1:{closed}/coop"
    code, line = ran(monkeypatch, capsys, url, verb)
    assert code == UNAVAILABLE
    assert f"postgresql://coop:***@127.0.0.1:{closed}/coop cannot be reached" in line
    assert "s3cret" not in line


def test_a_port_in_use(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COOP_DATABASE_URL", f"sqlite:///{folder}/coop.db")
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        code = main(["serve", "--port", str(port)])
    err = capsys.readouterr().err.strip()
    assert code == UNAVAILABLE
    assert err == (
        f"coop: port {port} on 127.0.0.1 is in use (another `coop serve`?): stop what holds it,"
        " or choose another with --port"
    )


def test_sqlite_files_are_made_readable_by_their_owner_alone(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    previous = os.umask(0o022)
    try:
        monkeypatch.setenv("COOP_DATABASE_URL", f"sqlite:///{folder}/coop.db")
        assert main(["db", "upgrade"]) == 0
        assert main(["seed"]) == 0
        assert main(["replay", "--until", "5", "--into", str(folder / "then.db")]) == 0
    finally:
        os.umask(previous)
    made = [path for path in folder.iterdir() if path.name.endswith((".db", "-wal", "-shm"))]
    assert {path.name for path in made} >= {"coop.db", "then.db"}
    for path in made:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_arguments_that_are_not_what_a_verb_takes_are_named_for_what_they_are(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder given to import, a database URL given to replay's --into (password
    masked): usage errors that say what was given, before anything is read or written."""
    url = f"sqlite:///{folder}/coop.db"
    monkeypatch.setenv("COOP_DATABASE_URL", url)
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    code, line = ran(monkeypatch, capsys, url, ["import", str(folder)])
    assert (code, line) == (USAGE, f"coop: {folder} is a folder, not an export file")
    into = ["replay", "--until", "1", "--into", "postgresql://coop:s3cret@db/then"]
    code, line = ran(monkeypatch, capsys, url, into)
    assert (code, line) == (
        USAGE,
        "coop: postgresql://coop:***@db/then is a database URL; replay writes a new SQLite"
        " file: give its path",
    )


def test_ctrl_c_says_so_in_one_line(
    folder: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Interrupted by SIGINT (Ctrl-C) while its event loop runs, a verb's work is cancelled
    (its cleanup runs) and it says so in one line, not a traceback, exiting as a shell
    reports an interrupted command."""
    cleaned = []

    async def interrupted(*_: object) -> int:
        try:
            os.kill(os.getpid(), signal.SIGINT)
            await asyncio.sleep(30)
            return 0
        finally:
            cleaned.append(True)

    monkeypatch.setattr("service.cli.transfer.export", interrupted)
    code, line = ran(monkeypatch, capsys, f"sqlite:///{folder}/coop.db", ["export"])
    assert (code, line) == (
        130,
        "coop: interrupted; a transaction under way, if any, was rolled back; what was"
        " committed before it stays",
    )
    assert cleaned == [True]


INTERRUPTED_LINE = (
    "coop: interrupted; a transaction under way, if any, was rolled back; what was committed"
    " before it stays"
)


def test_ctrl_c_while_the_command_line_loads_says_so_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C in the second or two before a verb runs (the command line's imports, its
    parser reading the installed version): the same line and exit 130, no traceback."""

    def stopped(*_: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("service.cli._parser", stopped)
    assert main(["export"]) == 130
    assert capsys.readouterr().err.strip() == INTERRUPTED_LINE
    # The entry point the `coop` command runs, interrupted while it imports the command line.
    loading = (
        "import builtins, sys\n"
        "real = builtins.__import__\n"
        "def stopped(name, *args, **kwargs):\n"
        "    if name == 'service.cli':\n"
        "        raise KeyboardInterrupt\n"
        "    return real(name, *args, **kwargs)\n"
        "builtins.__import__ = stopped\n"
        "from service.command import main\n"
        "sys.exit(main())\n"
    )
    ran = subprocess.run([sys.executable, "-c", loading], capture_output=True, text=True)
    assert (ran.returncode, ran.stderr.strip()) == (130, INTERRUPTED_LINE)
