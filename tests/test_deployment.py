"""The deployment files: docker-compose.yml, read as YAML, and the Dockerfile.

What the deployment must guarantee is checked on every machine: the instances share one
PostgreSQL, migrations run once before any instance starts, the proxy forwards HTTP and
WebSocket upgrades to every instance, everything has a health check. Where the docker
client has the compose plugin, `docker compose config` must also accept the file.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import make_url

from service.cli import _parser
from service.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"

SERVICE_CMD = ["coop", "serve", "--host", "0.0.0.0", "--port", "8000"]
# The only variables the compose file may take from the host's environment.
HOST_VARIABLES = {"COOP_API_TOKENS", "COOP_REQUIRE_AUTH_FOR_READS", "COOP_PORT"}
_VARIABLE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")


def _interpolate(value: Any) -> Any:
    """What Compose makes of the file when none of the host variables is set."""
    if isinstance(value, str):
        parts = value.split("$$")
        return "$".join(_VARIABLE.sub(lambda m: m["default"] or "", part) for part in parts)
    if isinstance(value, dict):
        return {key: _interpolate(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_interpolate(item) for item in value]
    return value


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    return document


@pytest.fixture(scope="module")
def compose(raw: dict[str, Any]) -> dict[str, Any]:
    interpolated: dict[str, Any] = _interpolate(raw)
    return interpolated


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = compose["services"]
    return found


def _environment(service: dict[str, Any]) -> dict[str, str]:
    given = service.get("environment") or {}
    if isinstance(given, list):
        given = dict(item.split("=", 1) for item in given)
    return {key: "" if value is None else str(value) for key, value in given.items()}


def _depends_on(service: dict[str, Any]) -> dict[str, str]:
    given = service.get("depends_on") or {}
    if isinstance(given, list):  # the short form means service_started
        return dict.fromkeys(given, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in given.items()}


def _command(service: dict[str, Any]) -> str:
    command = service.get("command")
    return command if isinstance(command, str) else " ".join(command or [])


def _healthcheck(service: dict[str, Any]) -> str:
    check = service.get("healthcheck") or {}
    assert not check.get("disable"), "the health check is disabled"
    test = check.get("test")
    assert test, "no health check"
    return test if isinstance(test, str) else " ".join(test)


def _instances(services: dict[str, Any]) -> list[str]:
    """The services that run the Coop image with the image's own command: `coop serve`."""
    image = services["migrate"]["image"]
    return sorted(
        name
        for name, service in services.items()
        if service.get("image") == image and "command" not in service
    )


def _proxy_config(compose: dict[str, Any]) -> str:
    proxy = compose["services"]["proxy"]
    nginx = [c for c in proxy["configs"] if c["target"].startswith("/etc/nginx/")]
    assert len(nginx) == 1, proxy["configs"]
    content: str = compose["configs"][nginx[0]["source"]]["content"]
    return content


def _seconds(duration: str) -> int:
    units = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}
    return sum(
        int(number) * units[unit] for number, unit in re.findall(r"(\d+)([smhd]?)", duration)
    )


# The compose file as a whole


def test_the_file_is_a_compose_file_that_docker_accepts(raw: dict[str, Any]) -> None:
    known = {"name", "services", "volumes", "configs", "networks", "secrets"}
    unknown = {key for key in raw if key not in known and not key.startswith("x-")}
    assert not unknown, f"top-level keys Compose does not know: {unknown}"
    assert {"db", "migrate", "coop-1", "coop-2", "proxy"} <= set(raw["services"])
    for name, service in raw["services"].items():
        assert "image" in service or "build" in service, name

    # Where the docker client has the compose plugin, the file must pass its own check.
    # (Not a skip: everything above runs on every machine.)
    if _docker_compose_available():
        result = subprocess.run(
            ["docker", "compose", "-f", str(COMPOSE_FILE), "config", "-q"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stderr


def _docker_compose_available() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, timeout=60, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0


def test_every_dollar_is_either_nginx_escaped_or_a_known_host_variable() -> None:
    # Compose substitutes $name everywhere, the proxy's config included: nginx's own
    # variables must be written $$name, and nothing else may come from the host by accident.
    text = COMPOSE_FILE.read_text(encoding="utf-8").replace("$$", "")
    found = _VARIABLE.findall(text)
    assert text.count("$") == len(found), "a bare $ that Compose would try to substitute"
    assert {name for name, _default in found} <= HOST_VARIABLES


# PostgreSQL and the instances


def test_the_instances_share_one_postgresql_database(services: dict[str, Any]) -> None:
    instances = _instances(services)
    assert {"coop-1", "coop-2"} <= set(instances)
    urls = {_environment(services[name])["COOP_DATABASE_URL"] for name in instances}
    assert len(urls) == 1, f"the instances use different databases: {urls}"
    (url,) = urls
    assert _environment(services["migrate"])["COOP_DATABASE_URL"] == url

    parsed = make_url(url)
    assert parsed.get_backend_name() == "postgresql"
    assert parsed.host == "db"
    assert (parsed.port or 5432) == 5432
    db = _environment(services["db"])
    assert parsed.username == db["POSTGRES_USER"]
    assert parsed.password == db["POSTGRES_PASSWORD"]
    assert parsed.database == db.get("POSTGRES_DB", db["POSTGRES_USER"])
    # ...and the service accepts it.
    assert Settings.from_env({"COOP_DATABASE_URL": url}).database_url == url


def test_the_instances_take_their_tokens_from_the_host(raw: dict[str, Any]) -> None:
    for name in ("coop-1", "coop-2"):
        # (yaml.safe_load has resolved the `<<:` merges from the shared instance block.)
        environment = _environment(raw["services"][name])
        assert environment["COOP_API_TOKENS"] == "${COOP_API_TOKENS:-}", name


def test_the_database_has_a_readiness_check_and_a_named_volume(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    db = services["db"]
    assert db["image"].startswith("postgres:15")
    assert "pg_isready" in _healthcheck(db)
    named = [v.split(":", 1)[0] for v in db["volumes"] if not v.startswith((".", "/"))]
    assert any(v.split(":", 1)[1].startswith("/var/lib/postgresql/data") for v in db["volumes"]), (
        db["volumes"]
    )
    assert named, "the database's data is not on a named volume"
    assert set(named) <= set(compose.get("volumes") or {})
    assert "ports" not in db, "the database need not be reachable from the host"


# Migrations: once, before the instances


def test_migrations_run_once_before_any_instance_starts(services: dict[str, Any]) -> None:
    migrate = services["migrate"]
    command = _command(migrate)
    assert re.search(r"coop db upgrade\s*&&\s*coop seed", command), command
    assert _depends_on(migrate).get("db") == "service_healthy"
    assert migrate.get("restart", "no") == "no", "a one-off job must not be restarted"
    assert (migrate.get("deploy") or {}).get("replicas", 1) == 1

    for name in _instances(services):
        instance = services[name]
        assert _depends_on(instance).get("migrate") == "service_completed_successfully", name
        assert "upgrade" not in _command(instance), name
        # Every instance runs the image the migrations ran from.
        assert instance["image"] == migrate["image"], name

    # The verbs the job runs exist in the command line.
    arguments = _parser().parse_args(["db", "upgrade"])
    assert callable(arguments.run)
    assert callable(_parser().parse_args(["seed"]).run)


# Health checks


def test_every_long_running_service_has_a_health_check(services: dict[str, Any]) -> None:
    for name in _instances(services):
        assert "/readyz" in _healthcheck(services[name]), name
    assert _healthcheck(services["proxy"])
    assert _healthcheck(services["db"])


# The proxy


def test_the_proxy_balances_http_and_websocket_across_every_instance(
    compose: dict[str, Any], services: dict[str, Any]
) -> None:
    config = _proxy_config(compose)
    proxy = services["proxy"]
    assert any(str(port).split(":")[-2:] == ["8000", "8000"] for port in proxy["ports"]), proxy[
        "ports"
    ]
    assert re.search(r"^\s*listen\s+8000\s*;", config, re.MULTILINE)

    # One upstream, naming every instance on the port the image serves.
    upstreams = dict(re.findall(r"upstream\s+(\S+)\s*\{([^}]*)\}", config))
    target = re.search(r"proxy_pass\s+http://([^\s;/]+)", config)
    assert target, "no proxy_pass"
    assert target[1] in upstreams, f"proxy_pass to {target[1]}, upstreams {set(upstreams)}"
    servers = re.findall(r"^\s*server\s+([^\s;]+)", upstreams[target[1]], re.MULTILINE)
    assert sorted(servers) == sorted(f"{name}:8000" for name in _instances(services))
    for name in _instances(services):
        assert _depends_on(proxy).get(name) == "service_healthy", name

    # WebSocket: HTTP/1.1 upstream, the Upgrade header passed on, Connection: upgrade.
    assert re.search(r"proxy_http_version\s+1\.1\s*;", config)
    assert re.search(r"proxy_set_header\s+Upgrade\s+\$http_upgrade\s*;", config)
    connection = re.search(r"proxy_set_header\s+Connection\s+(\S+)\s*;", config)
    assert connection, "the Connection header is not set"
    if connection[1].startswith("$"):
        mapping = re.search(
            r"map\s+\$http_upgrade\s+" + re.escape(connection[1]) + r"\s*\{([^}]*)\}", config
        )
        assert mapping, f"{connection[1]} is not mapped from $http_upgrade"
        assert re.search(r"default\s+upgrade\s*;", mapping[1])
    else:
        assert connection[1].strip("'\"").lower() == "upgrade"

    # Subscriptions stay open: the proxy must not cut a quiet one after nginx's 60 s.
    read_timeout = re.search(r"proxy_read_timeout\s+(\S+)\s*;", config)
    assert read_timeout, "no proxy_read_timeout: nginx would close quiet sockets after 60 s"
    assert _seconds(read_timeout[1]) >= 600
    assert _seconds(read_timeout[1]) > Settings().ws_ping_seconds, "shorter than the pings"


# The image


def _dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    lines = [
        line
        for line in DOCKERFILE.read_text(encoding="utf-8").splitlines()
        if not line.lstrip().startswith("#")
    ]
    text = re.sub(r"\\\n", " ", "\n".join(lines))
    pairs = []
    for line in text.splitlines():
        if line.strip():
            instruction, _, arguments = line.strip().partition(" ")
            pairs.append((instruction.upper(), arguments.strip()))
    return pairs


def test_the_dockerfile_serves_on_8000_as_an_unprivileged_user() -> None:
    instructions = _dockerfile()
    first = dict(instructions)

    assert instructions[0] == ("FROM", "python:3.11-slim")
    assert first["EXPOSE"].split() == ["8000"]
    assert [json.loads(args) for kind, args in instructions if kind == "CMD"] == [SERVICE_CMD]
    # The command is one the command line understands.
    arguments = _parser().parse_args(SERVICE_CMD[1:])
    assert (arguments.host, arguments.port) == ("0.0.0.0", 8000)

    users = [args for kind, args in instructions if kind == "USER"]
    assert users, "the image runs as root"
    assert users[-1].split(":")[0] not in ("root", "0")
    assert any(
        re.search(r"pip install \.(\s|$)", args) for kind, args in instructions if kind == "RUN"
    )
    assert "/healthz" in first["HEALTHCHECK"]
    assert "curl" not in first["HEALTHCHECK"]


def test_the_image_holds_every_package_pyproject_installs() -> None:
    import tomllib

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = [
        p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    ]
    copied = [args.split()[0] for kind, args in _dockerfile() if kind == "COPY"]
    for needed in [*packages, "pyproject.toml", pyproject["project"]["readme"]]:
        assert needed in copied, f"the Dockerfile does not copy {needed}"

    ignored = [
        line.strip()
        for line in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for excluded in (".venv", ".git", "*.db"):
        assert excluded in ignored, f".dockerignore lets {excluded} into the build"
    assert not set(copied) & set(ignored), "the Dockerfile copies what .dockerignore drops"
