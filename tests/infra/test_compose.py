"""infra/docker-compose.yml, infra/.env.example and infra/Dockerfile are consistent and safe.

`docker compose config` is the authority when the compose plugin is installed; without it
the file is loaded and checked here (services, images, healthchecks, secrets, volumes).
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from .conftest import INFRA, INTERPOLATION, REPO, SECRET_NAME, interpolate

pytestmark = pytest.mark.unit

SERVICES = {
    "minio", "minio-init",
    "spark-master", "spark-worker-1", "spark-worker-2",
    "collector", "sql-endpoint",
    "postgres", "airflow-init", "airflow-apiserver", "airflow-scheduler",
    "airflow-dag-processor", "airflow-triggerer",
}
ONE_SHOT = {"minio-init", "airflow-init"}


def compose_plugin_available() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    return probe.returncode == 0


@pytest.mark.skipif(not compose_plugin_available(), reason="no `docker compose` plugin here")
def test_docker_compose_config_accepts_the_file():
    done = subprocess.run(
        ["docker", "compose", "-f", str(INFRA / "docker-compose.yml"),
         "--env-file", str(INFRA / ".env.example"), "config", "--quiet"],
        capture_output=True, text=True,
    )
    assert done.returncode == 0, done.stderr


def test_it_runs_every_part_of_the_platform(compose):
    assert set(compose["services"]) == SERVICES


def test_every_variable_used_is_in_the_env_example(compose_text, env_example):
    # Comments are not interpolated; `$$` is a literal dollar.
    code = "\n".join(line for line in compose_text.splitlines() if not line.lstrip().startswith("#"))
    without_escapes = code.replace("$$", "")
    used = set(INTERPOLATION.findall(without_escapes))
    assert used, "the compose file should take its settings from the environment"
    assert used - set(env_example) == set()
    # No bare $VAR: compose would interpolate it too, silently.
    assert re.findall(r"\$(?!\{)[A-Za-z_]", without_escapes) == []


def test_the_env_example_holds_placeholders_not_secrets(env_example):
    secrets = {name: value for name, value in env_example.items() if SECRET_NAME.search(name)}
    assert {"MINIO_ROOT_PASSWORD", "EVENTLAKE_PSEUDONYM_SALT", "EVENTLAKE_JOBS_SECRET_KEY",
            "EVENTLAKE_COLLECTOR_SECRET_KEY", "POSTGRES_PASSWORD", "AIRFLOW_FERNET_KEY",
            "AIRFLOW_JWT_SECRET", "EVENTLAKE_JWT_SECRET"} <= set(secrets)
    not_placeholders = {n: v for n, v in secrets.items() if not re.fullmatch(r"<[^>]+>", v)}
    assert not_placeholders == {}


def test_no_secret_is_written_in_the_compose_file(compose):
    literal = {}
    for name, service in compose["services"].items():
        environment = service.get("environment") or {}
        if isinstance(environment, list):
            environment = dict(item.partition("=")[::2] for item in environment)
        for key, value in environment.items():
            if SECRET_NAME.search(key) and not INTERPOLATION.fullmatch(str(value)):
                literal[f"{name}.{key}"] = value
    assert literal == {}


def test_images_are_pinned(compose, env_example):
    for name, service in compose["services"].items():
        image = interpolate(service["image"], env_example)
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest" and "/" not in tag, f"{name}: {image}"


def test_long_running_services_have_healthchecks(compose):
    missing = [
        name for name, service in compose["services"].items()
        if name not in ONE_SHOT and "test" not in (service.get("healthcheck") or {})
    ]
    assert missing == []


def test_dependencies_exist_and_wait_for_health(compose):
    services = compose["services"]
    for name, service in services.items():
        for dependency, rule in (service.get("depends_on") or {}).items():
            assert dependency in services, f"{name} depends on unknown {dependency}"
            expected = (
                "service_completed_successfully" if dependency in ONE_SHOT else "service_healthy"
            )
            assert rule["condition"] == expected, f"{name} -> {dependency}"
            if expected == "service_healthy":
                assert "healthcheck" in services[dependency]


def test_volumes_are_declared_and_bind_mounts_exist(compose):
    declared = set(compose.get("volumes") or {})
    for name, service in compose["services"].items():
        for mount in service.get("volumes") or []:
            source = mount.split(":", 1)[0]
            if source.startswith((".", "/")):
                assert (INFRA / source).resolve().exists(), f"{name}: {source} does not exist"
            else:
                assert source in declared, f"{name}: volume {source} is not declared"


def test_ports_are_published_on_loopback_only(compose):
    for name, service in compose["services"].items():
        for port in service.get("ports") or []:
            assert str(port).startswith("127.0.0.1:"), f"{name}: {port}"


def test_the_collector_and_the_jobs_use_their_own_least_privilege_keys(compose):
    services = compose["services"]
    collector = services["collector"]["environment"]
    assert collector["AWS_ACCESS_KEY_ID"] == "${EVENTLAKE_COLLECTOR_ACCESS_KEY}"
    assert collector["AWS_SECRET_ACCESS_KEY"] == "${EVENTLAKE_COLLECTOR_SECRET_KEY}"
    for name in ("spark-worker-1", "spark-worker-2", "airflow-scheduler"):
        environment = services[name]["environment"]
        assert environment["AWS_ACCESS_KEY_ID"] == "${EVENTLAKE_JOBS_ACCESS_KEY}", name
    # Only minio-init ever sees the MinIO administrator.
    root_users = [n for n, s in services.items() if "MINIO_ROOT_PASSWORD" in (s.get("environment") or {})]
    assert sorted(root_users) == ["minio", "minio-init"]


def test_every_process_on_the_lake_points_at_minio(compose):
    for name in ("collector", "spark-worker-1", "airflow-scheduler", "airflow-apiserver"):
        environment = compose["services"][name]["environment"]
        assert environment["EVENTLAKE_LAKE_URI"] == "s3a://${EVENTLAKE_BUCKET}", name
        assert environment["EVENTLAKE_S3_ENDPOINT"] == "http://minio:9000", name


def test_the_minio_init_applies_the_policies_in_the_repository(compose):
    script = (INFRA / "minio" / "init.sh").read_text()
    for policy in re.findall(r"\b([\w-]+\.json)\b", script):
        assert (INFRA / "policies" / policy).is_file(), policy
    assert "mc mb --ignore-existing" in script
    subprocess.run(["sh", "-n", str(INFRA / "minio" / "init.sh")], check=True)


def test_the_dockerfile_copies_only_what_exists_and_the_context_sends_it():
    dockerfile = (INFRA / "Dockerfile").read_text()
    ignore = (INFRA / "Dockerfile.dockerignore").read_text().split()
    sources = []
    for line in dockerfile.splitlines():
        if line.startswith("COPY ") and "--from" not in line:
            parts = [p for p in line.split()[1:] if not p.startswith("--")]
            sources += parts[:-1]
    assert "pyproject.toml" in sources and "src" in sources
    for source in sources:
        assert (REPO / source).exists(), f"COPY {source}: missing from the repository"
        assert any(rule.lstrip("!").rstrip("/") == source for rule in ignore if rule.startswith("!")), (
            f"{source} is not let through infra/Dockerfile.dockerignore"
        )
    subprocess.run(["bash", "-n", str(INFRA / "entrypoint.sh")], check=True)
