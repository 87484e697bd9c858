"""docker-compose.yml describes the full stack and is valid for Compose."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from django.conf import settings

COMPOSE = Path(settings.BASE_DIR) / "docker-compose.yml"


def test_compose_has_the_five_services_each_with_a_healthcheck():
    spec = yaml.safe_load(COMPOSE.read_text())

    services = spec["services"]
    assert set(services) == {"web", "worker", "beat", "postgres", "redis"}
    for name, service in services.items():
        assert "healthcheck" in service, name
    assert {"pgdata", "redisdata"} <= set(spec["volumes"])
    assert "gunicorn" in services["web"]["command"]
    assert "worker" in services["worker"]["command"]
    assert "beat" in services["beat"]["command"]


def _compose_command() -> list[str] | None:
    """The Compose client on this machine: the v2 plugin or the v1 binary, or None."""
    if shutil.which("docker"):
        probe = subprocess.run(
            ["docker", "compose", "version"], capture_output=True, text=True, timeout=30
        )
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


COMPOSE_CMD = _compose_command()


@pytest.mark.skipif(COMPOSE_CMD is None, reason="no Compose client (.ci/run installs one)")
def test_docker_compose_config_accepts_the_file():
    assert COMPOSE_CMD is not None
    cmd = COMPOSE_CMD
    result = subprocess.run(
        [*cmd, "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
