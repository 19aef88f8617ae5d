"""docker-compose.yml parses (`podman-compose config`) and agrees with the Dockerfile, README, .env.example and config.py."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from enertrack.cli.main import main
from enertrack.config import URL_PREFIX, Settings

ROOT = Path(__file__).resolve().parent.parent.parent
COMPOSE = ROOT / "docker-compose.yml"
SERVICES = {"web", "ingest", "mariadb", "redis", "influxdb", "mosquitto-init", "mosquitto"}
# Settings of the broker-provisioning work (decisions for issue 10) that this branch's config.py does
# not read yet: the compose file passes them on for it. Once they are Settings aliases, drop them here.
PROVISIONING = {"ENERTRACK_BROKER_PROVISIONING", "ENERTRACK_DEVICE_MQTT_HOST", "ENERTRACK_DEVICE_MQTT_PORT",
                "ENERTRACK_DEVICE_CA_FILE"}
SECRETS = {"FLASK_SECRET_KEY": "s" * 64, "MYSQL_USER": "enertrack", "MYSQL_PASSWORD": "db-pass", "MYSQL_DB": "enertrack",
           "INFLUX_TOKEN": "influx-token", "INFLUX_ORG": "home", "INFLUX_BUCKET": "energy", "MQTT_USR": "enertrack-ingest",
           "MQTT_PASS": "mqtt-pass", "ENERTRACK_BROKER_ADMIN_USER": "broker-admin",
           "ENERTRACK_BROKER_ADMIN_PASSWORD": "admin-pass", "INFLUXDB_ADMIN_PASSWORD": "influx-admin-pass",
           "DOMINIO": "energia.example.com"}


def _dotenv(values: dict[str, str]) -> str:
    """.env.example with values filled in, as an installer's .env."""
    lines = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        name = line.split("=", 1)[0]
        lines.append(f"{name}={values[name]}" if "=" in line and not line.startswith("#") and name in values else line)
    return "\n".join(lines) + "\n"


def _podman_compose_config(tmp_path: Path, values: dict[str, str]) -> subprocess.CompletedProcess[str]:
    project = tmp_path / "project"
    project.mkdir(exist_ok=True)
    shutil.copy(COMPOSE, project / "docker-compose.yml")
    (project / ".env").write_text(_dotenv(values))
    env = {k: v for k, v in os.environ.items() if k not in SECRETS and not k.startswith(("ENERTRACK_", "INFLUX"))}
    if not shutil.which("podman"):
        # `podman-compose config` only parses, but first runs `podman version`: answer it where podman is absent.
        fake = tmp_path / "bin"
        fake.mkdir(exist_ok=True)
        (fake / "podman").write_text("#!/bin/sh\necho 'podman version 4.3.1'\n")
        (fake / "podman").chmod(0o755)
        env["PATH"] = f"{fake}{os.pathsep}{env['PATH']}"
    return subprocess.run([str(Path(sys.executable).parent / "podman-compose"), "config"], cwd=project,
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.fixture(scope="module")
def compose(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The configuration podman-compose resolves from the compose file and a filled-in .env."""
    done = _podman_compose_config(tmp_path_factory.mktemp("compose"), SECRETS)
    assert done.returncode == 0, done.stderr
    return yaml.safe_load(done.stdout)


def _dockerfile_cmd() -> list[str]:
    match = re.search(r"^CMD (\[.*\])$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert match
    return json.loads(match.group(1))


def test_the_stack_has_every_service_with_restart_and_health_checks(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == SERVICES
    for name, service in services.items():
        if name == "mosquitto-init":  # a one-shot step before the broker
            assert service["restart"] == "no" and "healthcheck" not in service
            continue
        assert service["restart"] == "unless-stopped", name
        assert service["healthcheck"]["test"][0] in {"CMD", "CMD-SHELL"}, name


def test_commands_are_the_image_default_and_real_cli_commands(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["web"]["command"] == _dockerfile_cmd()
    assert services["ingest"]["command"] == ["enertrack", "ingest"]
    assert services["ingest"]["healthcheck"]["test"] == ["CMD", "enertrack", "ingest", "health"]
    ingest = main.commands["ingest"]
    assert "health" in ingest.commands  # type: ignore[attr-defined]
    assert {"serve", "db", "ingest", "certs"} <= set(main.commands)


def test_web_health_check_and_port_match_the_image_and_the_app(compose: dict[str, Any]) -> None:
    web = compose["services"]["web"]
    check = " ".join(web["healthcheck"]["test"])
    assert f"http://127.0.0.1:8006{URL_PREFIX}healthz" in check
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert f"{URL_PREFIX}healthz" in dockerfile and "EXPOSE 8006" in dockerfile
    assert web["ports"] == ["8006:8006"] and web["environment"]["ENERTRACK_PORT"] == "8006"
    assert Settings.model_fields["port"].default == 8006
    assert compose["services"]["mosquitto"]["ports"] == [f"{Settings.model_fields['mqtt_port'].default}:8883"]


def test_every_piece_of_state_is_in_a_named_volume(compose: dict[str, Any]) -> None:
    state = {"web": "/data", "ingest": "/data", "mariadb": "/var/lib/mysql", "redis": "/data",
             "influxdb": "/var/lib/influxdb2", "mosquitto": "/mosquitto/data"}
    for name, path in state.items():
        mounts = {v.split(":")[1]: v.split(":")[0] for v in compose["services"][name]["volumes"]}
        assert mounts[path] in compose["volumes"], (name, path)


def test_container_settings_are_enertrack_settings(compose: dict[str, Any]) -> None:
    aliases = {field.alias for field in Settings.model_fields.values()}
    for name in ("web", "ingest"):
        unknown = set(compose["services"][name]["environment"]) - aliases - PROVISIONING
        assert not unknown, (name, unknown)
    env = compose["services"]["ingest"]["environment"]
    assert (env["DOMINIO"], env["INFLUX_URL"], env["MYSQL_HOST"]) == ("mosquitto", "http://influxdb:8086", "mariadb")
    assert env["RATELIMIT_STORAGE_URI"].startswith("redis://redis:")
    # Devices are told the public name from .env, not the service name the containers use.
    assert env["ENERTRACK_DEVICE_MQTT_HOST"] == SECRETS["DOMINIO"]


def test_every_variable_the_compose_file_reads_is_in_env_example() -> None:
    text = "\n".join(line for line in COMPOSE.read_text().splitlines() if not line.lstrip().startswith("#"))
    used = set(re.findall(r"(?<!\$)\$\{([A-Z0-9_]+)", text))
    example = (ROOT / ".env.example").read_text()
    missing = {name for name in used if not re.search(rf"^(# )?{name}=", example, re.MULTILINE)}
    assert used and not missing, missing


def test_no_secret_is_written_in_the_compose_file() -> None:
    raw = yaml.safe_load(COMPOSE.read_text())
    for service in raw["services"].values():
        environment = service.get("environment") or {}
        for key, value in environment.items():
            if key == "MARIADB_RANDOM_ROOT_PASSWORD":  # a flag: MariaDB makes a root password nobody knows
                assert value == "1"
            elif re.search(r"PASSWORD|PASS$|TOKEN|SECRET", key):
                assert str(value).startswith("${") and ":?" in str(value), (key, value)


def test_a_missing_secret_stops_compose_and_names_it(tmp_path: Path) -> None:
    values = {**SECRETS, "MQTT_PASS": ""}
    done = _podman_compose_config(tmp_path, values)
    assert done.returncode != 0
    assert "set MQTT_PASS in .env" in done.stderr


def test_readme_names_the_single_container_path_and_the_stack() -> None:
    readme = (ROOT / "README.md").read_text()
    assert "docker run -p 8006:8006 --env-file .env enertrack" in readme
    assert "docker compose up -d" in readme
    deployment = (ROOT / "docs" / "deployment.md").read_text()
    for service in SERVICES:
        assert f"`{service}`" in deployment, service
