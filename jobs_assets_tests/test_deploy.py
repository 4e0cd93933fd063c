"""The production files, checked without a Docker engine.

`docker-compose config` validates and interpolates docker-compose.yml with .env.example;
the Dockerfile, dagster.yaml and workspace.yaml are parsed and cross-checked against it;
the postgres init script runs against the test PostgreSQL; and local mode is shown never
to pick up the production dagster.yaml.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import uuid
import zipfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import psycopg.conninfo
import pytest
import yaml
from psycopg import sql

from jobs_assets.lib.schema.migrate import ensure_schema
from jobs_assets.testing import DsnPostgres, build_marts
from jobs_assets_tests.conftest import Database

REPO = Path(__file__).resolve().parents[1]
COMPOSE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "deploy" / "Dockerfile"
INIT_SCRIPT = REPO / "deploy" / "postgres" / "10-create-databases.sh"
ENV_EXAMPLE = REPO / ".env.example"
SERVICES = {"postgres", "migrate", "user_code", "webserver", "daemon", "api", "redis"}
SERVICES |= {"docker_proxy_daemon", "docker_proxy_webserver"}
ONE_SHOT = {"migrate"}  # runs once per `up` and exits
GRPC_COMMAND = ["dagster", "api", "grpc", "-h", "0.0.0.0", "-p", "4000"]
GRPC_COMMAND += ["-m", "jobs_assets.definitions"]
DAGSTER_PG = {"DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_DB"}
DAGSTER_PG |= {"DAGSTER_PG_USER", "DAGSTER_PG_PASSWORD"}
DATA_PG = {"PGHOST", "PGPORT", "PGDATABASE", "PGUSER", "PGPASSWORD"}
DATA_DIR = "/var/lib/jobs_data"
LOGS_DIR = "/var/lib/dagster_logs"  # the step logs: run containers write, the UI reads


def production_yaml() -> dict:
    return yaml.safe_load((REPO / "deploy" / "dagster.yaml").read_text())


def documented_settings() -> set[str]:
    """Every JOBS_* setting that .env.example or settings.py names (URL names included)."""
    text = ENV_EXAMPLE.read_text() + (REPO / "jobs_assets" / "settings.py").read_text()
    names = set(re.findall(r"\b(JOBS_[A-Z_]+[A-Z])\b", text)) - {
        "JOBS_IMAGE_TAG",
        "JOBS_IMAGE_NAME",
    }
    from jobs_assets.settings import API_VARIABLES, MIGRATE_VARIABLES, variable_names

    # the API's and migrate's own settings go to those services only (checked below)
    names -= set(API_VARIABLES + MIGRATE_VARIABLES) - set(variable_names())
    names |= set(variable_names())
    return {n for n in names if not n.endswith("_")}


# --- docker-compose.yml ---------------------------------------------------------------


def compose_config(env_file: Path) -> subprocess.CompletedProcess:
    binary = shutil.which("docker-compose")
    if binary is None:
        pytest.skip(
            "docker-compose is not installed (apt-get install docker-compose; .ci/run does)"
        )
    return subprocess.run(
        [binary, "--project-directory", str(REPO), "--env-file", str(env_file)]
        + ["-f", str(COMPOSE), "config"],
        capture_output=True,
        text=True,
        timeout=60,
        # only the env file feeds ${...}: a variable of this shell would take precedence
        env={"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/")},
    )


@pytest.fixture(scope="module")
def compose() -> dict:
    """docker-compose.yml as `docker-compose config` resolves it with .env.example."""
    result = compose_config(ENV_EXAMPLE)
    assert result.returncode == 0, result.stderr
    return yaml.safe_load(result.stdout)


def test_compose_config_is_valid_with_env_example(compose: dict) -> None:
    assert set(compose["services"]) == SERVICES
    for name, service in compose["services"].items():
        if name in ONE_SHOT:
            assert service.get("restart") == "no", name
            continue
        assert service.get("restart") in ("always", "unless-stopped"), name
        assert service.get("healthcheck"), name
    postgres = compose["services"]["postgres"]
    assert "pg_isready" in postgres["healthcheck"]["test"]
    assert any(v.endswith(":/var/lib/postgresql/data") for v in _volumes(postgres))


def test_compose_without_passwords_stops_with_the_variable_to_set(tmp_path: Path) -> None:
    env_file = tmp_path / "env"
    env_file.write_text(
        "\n".join(
            line
            for line in ENV_EXAMPLE.read_text().splitlines()
            if not line.startswith("DAGSTER_PG_PASSWORD=")
        )
    )
    result = compose_config(env_file)
    assert result.returncode != 0
    assert "set DAGSTER_PG_PASSWORD in .env" in result.stderr


def test_user_code_serves_the_package_over_grpc_and_names_its_own_image(compose: dict) -> None:
    user_code = compose["services"]["user_code"]
    assert user_code["command"] == GRPC_COMMAND
    image = user_code["image"]
    assert user_code["environment"]["DAGSTER_CURRENT_IMAGE"] == image
    assert not image.endswith(":latest") and ":" in image
    assert user_code["build"]["target"] == "user_code"
    for name in ("webserver", "daemon"):
        assert not compose["services"][name]["image"].endswith(":latest")


def test_webserver_is_published_on_loopback_only(compose: dict) -> None:
    webserver = compose["services"]["webserver"]
    assert webserver["command"][0] == "dagster-webserver"
    (port,) = webserver["ports"]
    published = port if isinstance(port, str) else f"{port['host_ip']}:{port['published']}"
    assert published.startswith("127.0.0.1:3000")
    assert compose["services"]["daemon"]["command"][:2] == ["dagster-daemon", "run"]


def test_every_service_sees_the_data_volume_and_only_the_proxies_the_docker_socket(
    compose: dict,
) -> None:
    services = compose["services"]
    for name in ("user_code", "daemon"):
        assert f"jobs_data:{DATA_DIR}" in _volumes(services[name]), name
    # the webserver reads step logs from a volume of their own, never the data volume
    assert _volumes(services["webserver"]) == [f"dagster_logs:{LOGS_DIR}"]
    mounting = {n for n, s in services.items() if "/var/run/docker.sock" in str(_volumes(s))}
    assert mounting == {"docker_proxy_daemon", "docker_proxy_webserver"}
    assert not any("group_add" in s for s in services.values())  # nobody in the docker group
    for client in ("daemon", "webserver"):
        proxy = f"docker_proxy_{client}"
        assert services[client]["environment"]["DOCKER_HOST"] == f"tcp://{proxy}:2375"
        assert services[client]["depends_on"][proxy]["condition"] == "service_healthy"
        assert services[proxy]["image"].startswith("wollomatic/socket-proxy:")
        assert not services[proxy]["image"].endswith(":latest")
        assert not services[proxy].get("ports")
        assert services[proxy]["environment"]["SP_ALLOWFROM"] == client  # its one client
        (network,) = services[proxy]["networks"]  # one internal network, shared with the
        assert compose["networks"][network]["internal"] is True  # client only
        on_it = {n for n, s in services.items() if network in s.get("networks", {})}
        assert on_it == {client, proxy}
    # What each proxy lets through, matched whole as the proxy does (`^...$`), against the
    # Docker API calls of DockerRunLauncher (docker-py: /version, then versioned paths).
    container = "/v1.47/containers/3f2a9c1b7e"
    launcher = {
        ("GET", "/version"),
        ("POST", "/v1.47/containers/create"),
        ("POST", f"{container}/start"),
        ("GET", f"{container}/json"),  # run monitoring, and before a stop
        ("POST", f"{container}/stop"),  # terminating a run
    }
    never = {
        ("POST", f"{container}/exec"),
        ("POST", f"{container}/kill"),
        ("POST", "/v1.47/images/create"),
        ("POST", "/v1.47/networks/create"),
        ("POST", "/v1.47/volumes/create"),
        ("POST", "/v1.47/build"),
        ("GET", "/v1.47/containers/json"),  # no listing of every container
        ("GET", "/v1.47/secrets"),
        ("DELETE", container),
        ("PUT", f"{container}/archive"),
    }
    terminate = {("GET", "/version"), ("GET", f"{container}/json"), ("POST", f"{container}/stop")}
    assert _allowed(services["docker_proxy_daemon"], launcher | never) == launcher
    assert _allowed(services["docker_proxy_webserver"], launcher | never) == terminate
    # no host folder may be bind-mounted into a container the daemon's proxy creates
    bind_root = services["docker_proxy_daemon"]["environment"]["SP_ALLOWBINDMOUNTFROM"]
    assert bind_root.startswith("/nonexistent/")


def _allowed(proxy: dict, requests: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The requests a socket-proxy service lets through: SP_ALLOW_<METHOD> is a regex
    matched against the whole path; a method without one is refused."""
    env = proxy["environment"]
    return {
        (method, path)
        for method, path in requests
        if f"SP_ALLOW_{method}" in env and re.fullmatch(env[f"SP_ALLOW_{method}"], path)
    }


def test_run_launcher_matches_the_compose_network_volume_and_environment(compose: dict) -> None:
    launcher = production_yaml()["run_launcher"]
    assert (launcher["module"], launcher["class"]) == ("dagster_docker", "DockerRunLauncher")
    config = launcher["config"]
    assert config["network"] == compose["networks"]["jobs_assets"]["name"]
    # every run container mounts the data volume and the step-logs volume, where the
    # compute log manager writes what the webserver shows
    assert config["container_kwargs"]["volumes"] == [
        f"{compose['volumes']['jobs_data']['name']}:{DATA_DIR}",
        f"{compose['volumes']['dagster_logs']['name']}:{LOGS_DIR}",
    ]
    assert production_yaml()["compute_logs"]["config"]["base_dir"] == LOGS_DIR
    daemon_env = compose["services"]["daemon"]["environment"]
    # the daemon hands these to every run container, so it must have each of them
    assert set(config["env_vars"]) <= set(daemon_env)
    assert set(config["env_vars"]) >= DAGSTER_PG | DATA_PG | documented_settings()
    assert daemon_env["PGHOST"] == "postgres" == daemon_env["DAGSTER_PG_HOST"]
    assert daemon_env["JOBS_DATA_DIR"] == DATA_DIR


def test_each_service_gets_only_the_secrets_it_uses(compose: dict) -> None:
    services = compose["services"]
    postgres_env = services["postgres"]["environment"]
    owner_password = postgres_env["DATA_PG_PASSWORD"]
    secrets = {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "JOBS_ALERT_WEBHOOK_URL"}
    # user_code (sensors) and the daemon (which hands them to run containers): the pipeline's
    for name in ("user_code", "daemon"):
        env = services[name]["environment"]
        assert set(env) >= DAGSTER_PG | DATA_PG | documented_settings() | secrets, name
        assert env["PGUSER"] == postgres_env["PIPELINE_PG_USER"] == "jobs_pipeline", name
        assert env["PGPASSWORD"] == postgres_env["PIPELINE_PG_PASSWORD"], name
        assert env["JOBS_MIGRATE"] == "check", name  # the migrate service owns the schema
        migrated = services[name]["depends_on"]["migrate"]["condition"]
        assert migrated == "service_completed_successfully", name
    # the webserver: Dagster's storage, the code server and its Docker proxy, nothing else
    webserver = services["webserver"]["environment"]
    assert set(webserver) == DAGSTER_PG | {
        "DAGSTER_CODE_SERVER_HOST",
        "DAGSTER_CODE_SERVER_PORT",
        "DOCKER_HOST",
    }
    # the migrations: the schema owner, whose password no other service sees
    migrate = services["migrate"]
    assert migrate["command"] == ["python", "-m", "jobs_assets.cli", "migrate"]
    assert migrate["image"] == services["user_code"]["image"]
    assert migrate["environment"]["PGUSER"] == postgres_env["DATA_PG_USER"] == "jobs"
    assert migrate["environment"]["PGPASSWORD"] == owner_password
    assert not secrets & set(migrate["environment"])
    for name, service in services.items():
        env = service.get("environment") or {}
        assert "POSTGRES_PASSWORD" not in env or name == "postgres", name
        if name not in ("postgres", "migrate"):
            assert owner_password not in env.values(), name
    assert postgres_env["POSTGRES_PASSWORD"]


def test_api_reads_with_its_own_role_caches_in_redis_and_listens_on_loopback_only(
    compose: dict,
) -> None:
    api = compose["services"]["api"]
    assert api["command"][:3] == ["python", "-m", "jobs_assets.api"]
    assert api["image"] == compose["services"]["user_code"]["image"]  # the package's image
    (port,) = api["ports"]
    published = port if isinstance(port, str) else f"{port['host_ip']}:{port['published']}"
    assert published.startswith("127.0.0.1:8000")
    env = api["environment"]
    assert env["PGHOST"] == "postgres" and env["PGDATABASE"] == "jobs"
    assert env["PGUSER"] == "jobs_api" != compose["services"]["daemon"]["environment"]["PGUSER"]
    assert env["PGPASSWORD"] == "change-me-api"
    assert not {"POSTGRES_PASSWORD", "DATA_PG_PASSWORD", "DAGSTER_PG_PASSWORD"} & set(env)
    assert env["JOBS_REDIS_URL"] == "redis://redis:6379/0"
    # saved searches: the API's settings, and migrate grants its role their table
    from jobs_assets.settings import API_VARIABLES

    assert set(API_VARIABLES) <= set(env)
    assert env["JOBS_SEARCH_RATE_LIMIT"] == "20/hour"
    migrate_env = compose["services"]["migrate"]["environment"]
    assert migrate_env["JOBS_API_PG_ROLE"] == env["PGUSER"]
    assert "/var/run/docker.sock" not in str(api) and not _volumes(api)
    assert "/healthz" in str(api["healthcheck"]["test"])
    redis_service = compose["services"]["redis"]
    assert not redis_service.get("ports")  # reachable on the compose network only
    assert "redis-cli" in redis_service["healthcheck"]["test"]
    postgres_env = compose["services"]["postgres"]["environment"]
    assert postgres_env["API_PG_USER"] == "jobs_api"
    assert postgres_env["API_PG_PASSWORD"] == env["PGPASSWORD"]


def test_workspace_points_at_the_user_code_service(compose: dict) -> None:
    (entry,) = yaml.safe_load((REPO / "workspace.yaml").read_text())["load_from"]
    server = entry["grpc_server"]
    assert server["location_name"] == "jobs_assets"
    for name in ("webserver", "daemon"):
        env = compose["services"][name]["environment"]
        assert env[server["host"]["env"]] == "user_code"
        assert env[server["port"]["env"]] == GRPC_COMMAND[GRPC_COMMAND.index("-p") + 1]


def _volumes(service: dict) -> list[str]:
    """`source:target` of each mount, from compose v1 strings or v2 mappings."""
    out = []
    for volume in service.get("volumes", []):
        if isinstance(volume, str):
            out.append(":".join(volume.split(":")[:2]))
        else:
            out.append(f"{volume['source']}:{volume['target']}")
    return out


# --- deploy/Dockerfile ----------------------------------------------------------------


def dockerfile_stages() -> dict[str, list[tuple[str, str]]]:
    """Instructions per stage, continuation lines joined; `FROM x AS y` opens stage y."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    stages: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instruction, _, argument = line.partition(" ")
        instruction = instruction.upper()
        if instruction == "FROM":
            base, _, name = argument.partition(" AS ")
            # a stage built on another one starts with that one's instructions
            current = list(stages.get(base.strip(), [])) + [("FROM", base.strip())]
            stages[name.strip()] = current
        else:
            current.append((instruction, argument.strip()))
    return stages


@pytest.mark.parametrize("stage", ["user_code", "dagster"])
def test_images_run_as_a_non_root_user(stage: str) -> None:
    users = [arg for op, arg in dockerfile_stages()[stage] if op == "USER"]
    assert users, f"stage {stage} never sets USER, so it runs as root"
    assert users[-1].split(":")[0] not in ("root", "0")
    # the folders named volumes mount are the user's in the image, so a fresh volume
    # mounted there is too (Docker copies the folder's ownership into an empty volume)
    runs = [arg for op, arg in dockerfile_stages()[stage] if op == "RUN"]
    chown = next(re.search(r"chown dagster:dagster ([^&]+)", r) for r in runs if "chown" in r)
    owned = [path.strip('"') for path in chown.group(1).split()]
    assert "$JOBS_DATA_DIR" in owned and LOGS_DIR in owned, owned


def test_user_code_image_installs_the_package_with_pyproject_pins() -> None:
    steps = dockerfile_stages()["user_code"]
    runs = " ".join(arg for op, arg in steps if op == "RUN")
    copies = [arg for op, arg in steps if op == "COPY"]
    assert re.search(r"pip install \.(\s|$)", runs), runs
    assert any(c.startswith("pyproject.toml") for c in copies)
    assert any(c.startswith("jobs_assets ") for c in copies)
    cmd = next(arg for op, arg in reversed(steps) if op == "CMD")
    assert yaml.safe_load(cmd) == GRPC_COMMAND


def test_dagster_image_installs_exactly_the_dagster_pins_of_pyproject(tmp_path: Path) -> None:
    """Run the image's own requirements step on a copy of pyproject.toml."""
    runs = [arg for op, arg in dockerfile_stages()["dagster"] if op == "RUN"]
    step = next(r for r in runs if "pyproject.toml" in r)
    extract, _, install = step.partition("&&")
    assert "pip install -r requirements-dagster.txt" in install
    shutil.copy(REPO / "pyproject.toml", tmp_path)
    command = extract.replace("python ", f"{sys.executable} ", 1)
    subprocess.run(["bash", "-c", command], cwd=tmp_path, check=True, timeout=60)
    pins = (tmp_path / "requirements-dagster.txt").read_text().split()
    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib

    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    assert pins == [d for d in dependencies if d.startswith("dagster")]
    assert {"dagster", "dagster-webserver", "dagster-postgres", "dagster-docker"} <= {
        pin.split("==")[0] for pin in pins
    }
    assert all("==" in pin for pin in pins)


def test_no_secret_is_baked_into_an_image() -> None:
    for stage, steps in dockerfile_stages().items():
        for op, arg in steps:
            if op in ("ENV", "ARG"):
                assert not re.search(r"PASSWORD|SECRET|TOKEN|WEBHOOK", arg, re.I), (stage, arg)
            if op == "COPY":
                assert ".env" not in arg.split(), (stage, arg)
    included = [p.lstrip("!") for p in dockerignore_patterns() if p.startswith("!")]
    assert not any(p.startswith((".env", ".venv", "jobs_data", ".git")) for p in included)


def dockerignore_patterns() -> list[str]:
    return [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]


def build_context(target: Path) -> Path:
    """The files `docker build` would send, per .dockerignore: everything excluded (`*`),
    then the `!` entries put back, then the patterns after them taken out again."""
    patterns = dockerignore_patterns()
    assert patterns[0] == "*", "the context is an allow-list: keep `*` first"
    target.mkdir()
    for pattern in patterns[1:]:
        if pattern.startswith("!"):
            source = REPO / pattern[1:]
            (target / pattern[1:]).parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target / pattern[1:])
            else:
                shutil.copy2(source, target / pattern[1:])
        else:
            for path in list(target.glob(pattern)):
                shutil.rmtree(path) if path.is_dir() else path.unlink()
    return target


def test_the_build_context_holds_what_the_images_copy_and_the_package_builds(
    tmp_path: Path,
) -> None:
    """Every COPY source is in the context, and the package builds from it with its data."""
    context = build_context(tmp_path / "context")
    for stage, steps in dockerfile_stages().items():
        for op, arg in steps:
            if op == "COPY":
                for source in arg.split()[:-1]:
                    assert (context / source).exists(), (
                        f"{stage}: COPY {source} is not in the context"
                    )
    assert not list(context.rglob("__pycache__"))
    # setuptools of this environment when it meets pyproject's build requirement, else pip
    # fetches the build backend
    isolation = ["--no-build-isolation"] if _local_setuptools_builds() else []
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", *isolation]
        + ["--wheel-dir", str(tmp_path / "dist"), str(context)],
        check=True,
        timeout=180,
    )
    (wheel,) = (tmp_path / "dist").glob("jobs_assets-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
    assert "jobs_assets/definitions.py" in names
    assert any(n.startswith("jobs_assets/replay_fixtures/") and n.endswith(".json") for n in names)
    assert any(n.startswith("jobs_assets/data/") and n.endswith(".csv") for n in names)
    page = {"index.html", "app.js", "style.css"}
    assert {f"jobs_assets/api/page/{n}" for n in page} <= names
    assert any(n.startswith("jobs_assets/migrations/versions/0003") for n in names)


# --- dagster.yaml ---------------------------------------------------------------------


@pytest.fixture
def production_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """What compose gives the services: the storage settings dagster.yaml reads."""
    for name, value in {
        "DAGSTER_PG_HOST": "postgres",
        "DAGSTER_PG_PORT": "5432",
        "DAGSTER_PG_DB": "dagster",
        "DAGSTER_PG_USER": "dagster",
        "DAGSTER_PG_PASSWORD": "secret",
    }.items():
        monkeypatch.setenv(name, value)


def test_production_instance_config_is_valid(production_env: None) -> None:
    from dagster._core.instance.config import dagster_instance_config
    from dagster._serdes.config_class import ConfigurableClassData
    from dagster_docker import DockerRunLauncher

    config, _ = dagster_instance_config(str(REPO / "deploy"))
    assert config["run_coordinator"]["class"] == "QueuedRunCoordinator"
    assert config["concurrency"]["pools"]["default_limit"] == 1
    assert config["run_monitoring"]["enabled"] is True
    assert config["run_retries"]["enabled"] is True
    assert config["run_retries"]["max_retries"] >= 1
    postgres_db = config["storage"]["postgres"]["postgres_db"]
    assert postgres_db["scheme"] == "postgresql+psycopg2"
    # every credential comes from the environment
    for key in ("hostname", "db_name", "username", "password"):
        assert set(postgres_db[key]) == {"env"}, key
    launcher = config["run_launcher"]
    built = ConfigurableClassData(
        launcher["module"], launcher["class"], yaml.safe_dump(launcher["config"])
    ).rehydrate(DockerRunLauncher)
    assert isinstance(built, DockerRunLauncher)
    assert built.networks == ["jobs_assets"]


def test_raw_assets_use_the_pools_dagster_yaml_limits() -> None:
    from jobs_assets.definitions import defs

    repository = defs().get_repository_def()
    pools = {
        node.name: node.definition.pool
        for node in repository.get_job("ingestion_job").graph.node_dict.values()
    }
    from jobs_assets.lib.sources import SOURCES

    for source in SOURCES:
        assert pools[f"{source}_raw"] == f"api_{source}"


# --- local mode never reads the production dagster.yaml ---------------------------------


def clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("DAGSTER_", "MAKE"))}


def test_makefile_sets_a_local_dagster_home_for_every_target() -> None:
    probe = 'print-dagster-home: ; @echo "$$DAGSTER_HOME"\n'
    result = subprocess.run(
        ["make", "--no-print-directory", "-s", "-f", "Makefile", "-f", "-", "print-dagster-home"],
        input=probe,
        cwd=REPO,
        env=clean_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(REPO / ".dagster_home")
    dev = subprocess.run(
        ["make", "-n", "dev"], cwd=REPO, env=clean_env(), capture_output=True, text=True, timeout=60
    )
    # its own workspace file in DAGSTER_HOME (jobs_assets/cli.py), never workspace.yaml
    assert ".venv/bin/jobs dev" in dev.stdout


def test_local_instance_ignores_the_production_file_in_the_working_directory(
    tmp_path: Path,
) -> None:
    """`dagster` run from the repository root (where the production dagster.yaml sits),
    with DAGSTER_HOME as the Makefile and the CLI set it, uses the local SQLite instance."""
    home = tmp_path / "dagster_home"
    env = {**clean_env(), "DAGSTER_HOME": str(home)}
    subprocess.run(
        [sys.executable, "-c", "from jobs_assets.cli import dagster_home; dagster_home()"],
        cwd=REPO,
        env=env,
        check=True,
        timeout=60,
    )
    result = subprocess.run(
        [str(Path(sys.executable).parent / "dagster"), "instance", "info"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert "SqliteRunStorage" in result.stdout
    assert "DefaultRunLauncher" in result.stdout
    assert "DockerRunLauncher" not in result.stdout
    assert "postgres" not in result.stdout.lower()


# --- deploy/postgres/10-create-databases.sh ---------------------------------------------


def psql_bin() -> Path:
    from pgserver import pg_config  # psql ships with the embedded server

    return Path(pg_config(["--bindir"]).strip())


def run_init_script(database: Database, **values: str) -> subprocess.CompletedProcess:
    """Run the init script as the postgres image would, against the test server."""
    with database.connect() as conn:
        info = conn.info
        host, port, user = info.host, info.port, info.user
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    env.update(
        {
            "PATH": f"{psql_bin()}{os.pathsep}{env.get('PATH', '')}",
            "PGHOST": host,
            "PGPORT": str(port),
            "POSTGRES_USER": user,
            **({"PGPASSWORD": os.environ["PGPASSWORD"]} if "PGPASSWORD" in os.environ else {}),
            **values,
        }
    )
    return subprocess.run(
        ["bash", str(INIT_SCRIPT)], env=env, capture_output=True, text=True, timeout=60
    )


@pytest.fixture
def init_names(database: Database) -> Iterator[dict[str, str]]:
    """Fresh role and database names; whatever the script created is dropped afterwards."""
    suffix = uuid.uuid4().hex[:8]
    names = {
        "POSTGRES_PASSWORD": "superuser-pw",
        "DATA_PG_USER": f"jobs_{suffix}",
        "DATA_PG_PASSWORD": "data-pw",
        "DATA_PG_DB": f"jobs_{suffix}",
        "DAGSTER_PG_USER": f"dagster_{suffix}",
        "DAGSTER_PG_PASSWORD": "dagster-pw",
        "DAGSTER_PG_DB": f"dagster_{suffix}",
        "API_PG_USER": f"api_{suffix}",
        "API_PG_PASSWORD": "api-pw",
        "PIPELINE_PG_USER": f"pipeline_{suffix}",
        "PIPELINE_PG_PASSWORD": "pipeline-pw",
    }
    yield names
    with database.connect(autocommit=True) as conn:
        for key in ("DATA_PG_DB", "DAGSTER_PG_DB"):
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                    sql.Identifier(names[key])
                )
            )
        for key in ("PIPELINE_PG_USER", "DATA_PG_USER", "DAGSTER_PG_USER", "API_PG_USER"):
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(names[key])))


def test_init_script_creates_each_database_owned_by_its_role(
    database: Database, init_names: dict[str, str]
) -> None:
    result = run_init_script(database, **init_names)
    assert result.returncode == 0, result.stderr
    owners = dict(
        database.query(
            "SELECT d.datname, r.rolname FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba "
            "WHERE d.datname = ANY(%s)",
            ([init_names["DATA_PG_DB"], init_names["DAGSTER_PG_DB"]],),
        )
    )
    assert owners == {
        init_names["DATA_PG_DB"]: init_names["DATA_PG_USER"],
        init_names["DAGSTER_PG_DB"]: init_names["DAGSTER_PG_USER"],
    }
    roles = dict(
        database.query(
            "SELECT rolname, rolcreatedb FROM pg_roles WHERE rolname = ANY(%s) AND NOT rolsuper",
            ([init_names["DATA_PG_USER"], init_names["DAGSTER_PG_USER"]],),
        )
    )
    # CREATEDB for the data role only: backups are verified by a restore into a scratch database
    assert roles == {init_names["DATA_PG_USER"]: True, init_names["DAGSTER_PG_USER"]: False}
    # the data role can create the pipeline's schema in its database
    with psycopg.connect(_role_conninfo(database, init_names, "DATA")) as conn:
        conn.execute("CREATE SCHEMA staging")
        conn.execute("CREATE TABLE staging.t (id int)")


def test_init_script_gives_the_api_role_read_only_access_to_public_and_marts(
    database: Database, init_names: dict[str, str], tmp_path: Path
) -> None:
    """What the owner creates (the migrations, and dbt's schemas and marts as they were
    built before the pipeline role existed, or as a restore leaves them): the API reads
    the listings, every mart and dbt's build stamp, and writes nothing; in `public` it
    reads only what it uses (granted by the migrate service), not the outbox, the
    deliveries or the holds."""
    from jobs_assets.lib.schema.migrate import head_revision, migrate
    from jobs_assets.lib.searches.store import API_READS, grant_api_role

    result = run_init_script(database, **init_names)
    assert result.returncode == 0, result.stderr
    owner = _role_conninfo(database, init_names, "DATA")
    assert migrate(owner).after == head_revision()
    with psycopg.connect(owner, autocommit=True) as conn:
        grant_api_role(conn, init_names["API_PG_USER"])
    assert build_marts(DsnPostgres(data_dir=str(tmp_path), dsn=owner)).success
    built = _marts_tables(owner)
    assert len(built) >= 6 and "marts.daily_postings" in built
    api = _role_conninfo(database, init_names, "API")
    reads = [f"public.{table}" for table in API_READS]
    with psycopg.connect(api, autocommit=True) as conn:
        for table in (*reads, *built, "analytics_intermediate.refresh_marks"):
            conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        for table in ("jobs_alert_outbox", "jobs_search_deliveries", "jobs_expiry_holds",
                      "jobs_search_announced", "jobs_search_creations"):  # fmt: skip
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(f"SELECT count(*) FROM public.{table}")
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("DELETE FROM public.jobs_listings_data")
        conn.execute("SET default_transaction_read_only = off")  # even then: no write grant
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("DELETE FROM public.jobs_listings_data")
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            conn.execute("SELECT count(*) FROM staging.staging_jobs_listings_data")


#: the code the read API and the MCP server run, and the tables of `public` it may name
#: without a SELECT grant: reached through its owner's function (the rate limiter's)
API_CODE = ("jobs_assets/api", "jobs_assets/mcp_server.py", "jobs_assets/lib/listings",
            "jobs_assets/lib/searches/store.py", "jobs_assets/lib/searches/match.py")  # fmt: skip
THROUGH_FUNCTIONS = {"jobs_search_creations"}


def test_the_api_role_is_granted_every_public_table_and_function_the_api_names() -> None:
    """A table the API's code starts reading must join `API_READS`, or the API's role
    (least privilege: granted by name) would answer 500 in a deployment."""
    from jobs_assets.lib.searches.store import API_CALLS, API_READS

    named: set[str] = set()
    for part in API_CODE:
        path = REPO / part
        for file in [path] if path.is_file() else sorted(path.rglob("*.py")):
            named |= set(re.findall(r"\bpublic\.([a-z_]+)", file.read_text()))
    functions = {call.split("(")[0] for call in API_CALLS}
    granted = set(API_READS) | {"jobs_saved_searches"} | functions | THROUGH_FUNCTIONS
    assert "jobs_listings_data" in named and "jobs_record_search_creation" in named
    assert named <= granted, f"not granted to the API's role: {sorted(named - granted)}"


def _role_conninfo(database: Database, names: dict[str, str], role: str) -> str:
    """The data database as `role` (DATA, PIPELINE, API) of the init script's `names`."""
    with database.connect() as conn:
        host, port = conn.info.host, conn.info.port
    return psycopg.conninfo.make_conninfo(
        host=host,
        port=port,
        dbname=names["DATA_PG_DB"],
        user=names[f"{role}_PG_USER"],
        password=names[f"{role}_PG_PASSWORD"],
    )


def _marts_tables(conninfo: str) -> list[str]:
    """The tables dbt built in the marts schema, `marts.<name>`."""
    with psycopg.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' "
            "AND table_type = 'BASE TABLE' ORDER BY 1"
        ).fetchall()
    return [f"marts.{name}" for (name,) in rows]


def test_init_script_refuses_placeholder_passwords(
    database: Database, init_names: dict[str, str]
) -> None:
    result = run_init_script(database, **{**init_names, "DAGSTER_PG_PASSWORD": "change-me-dagster"})
    assert result.returncode == 1
    assert "DAGSTER_PG_PASSWORD still has the .env.example placeholder" in result.stderr
    created = database.query(
        "SELECT rolname FROM pg_roles WHERE rolname = ANY(%s)",
        ([init_names["DATA_PG_USER"], init_names["DAGSTER_PG_USER"]],),
    )
    assert created == []


def _local_setuptools_builds() -> bool:
    """True when the installed setuptools satisfies `[build-system] requires`."""
    from importlib.metadata import PackageNotFoundError, version

    from packaging.requirements import Requirement

    try:
        import tomllib
    except ImportError:  # Python 3.10
        import tomli as tomllib

    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["build-system"]["requires"]
    try:
        installed = version("setuptools")
    except PackageNotFoundError:
        return False
    wanted = next(Requirement(r) for r in requires if Requirement(r).name == "setuptools")
    return wanted.specifier.contains(installed)


def test_init_script_gives_the_pipeline_role_loading_but_not_the_schema(
    database: Database, init_names: dict[str, str], tmp_path: Path
) -> None:
    """Migrations run as the owner (the migrate service); runs log in as the pipeline
    role, which loads, builds dbt's schemas and marts, but cannot change the migrated
    schema; the API reads what the pipeline builds."""
    from jobs_assets.lib.schema.migrate import head_revision, migrate

    result = run_init_script(database, **init_names)
    assert result.returncode == 0, result.stderr

    def conninfo(role: str) -> str:
        return _role_conninfo(database, init_names, role)

    assert migrate(conninfo("DATA")).after == head_revision()  # the migrate service
    ensure_schema(conninfo("PIPELINE"), upgrade=False)  # a step's check passes
    with psycopg.connect(conninfo("PIPELINE"), autocommit=True) as conn:
        conn.execute(
            "INSERT INTO staging.staging_jobs_listings_data VALUES (%s, %s, %s, %s, now())",
            ("remotive", "2026-11-22-04:00", "1", "{}"),
        )
        conn.execute("TRUNCATE staging.staging_jobs_listings_data")
        conn.execute("UPDATE public.jobs_listings_data SET title = title")
        conn.execute("CREATE TEMP TABLE window_keys AS SELECT 1 AS id")
        for ddl in (
            "CREATE TABLE public.evil (id int)",
            "ALTER TABLE public.jobs_listings_data ADD COLUMN evil int",
            "DROP TABLE staging.staging_jobs_listings_data",
            # the revision is the migrate job's alone (before: the default privileges
            # gave the pipeline role every write on it)
            "UPDATE public.alembic_version SET version_num = '0099'",
            "DELETE FROM public.alembic_version",
            "INSERT INTO public.alembic_version VALUES ('0099')",
            "TRUNCATE public.alembic_version",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(ddl)
        assert conn.execute("SELECT version_num FROM public.alembic_version").fetchall() == [
            (head_revision(),)
        ]
    # dbt builds its schemas and the marts as the pipeline role; the API reads them all
    assert build_marts(DsnPostgres(data_dir=str(tmp_path), dsn=conninfo("PIPELINE"))).success
    built = _marts_tables(conninfo("PIPELINE"))
    assert len(built) >= 6 and "marts.daily_postings" in built
    with psycopg.connect(conninfo("API"), autocommit=True) as conn:
        for table in (*built, "analytics_intermediate.refresh_marks"):
            conn.execute(f"SELECT count(*) FROM {table}").fetchone()
    with psycopg.connect(conninfo("DATA"), autocommit=True) as conn:  # e.g. a restore
        conn.execute("DROP TABLE marts.daily_postings")


def test_migrate_grants_the_api_role_saving_and_deleting_searches_and_nothing_more(
    database: Database,
    init_names: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The migrate service (`jobs_assets.cli migrate` as the owner, JOBS_API_PG_ROLE set,
    as docker-compose.yml and the k8s Job run it) lets the API's role save and delete
    searches in a read-write transaction; its sessions stay read-only, and it can change
    no other table nor a saved search."""
    from jobs_assets import cli
    from jobs_assets.lib.searches import store

    result = run_init_script(database, **init_names)
    assert result.returncode == 0, result.stderr
    with database.connect() as conn:
        host, port = conn.info.host, conn.info.port
    for name, value in {
        "PGHOST": host,
        "PGPORT": str(port),
        "PGUSER": init_names["DATA_PG_USER"],
        "PGPASSWORD": init_names["DATA_PG_PASSWORD"],
        "PGDATABASE": init_names["DATA_PG_DB"],
        "JOBS_DATA_DIR": str(tmp_path),
        "JOBS_API_PG_ROLE": init_names["API_PG_USER"],
    }.items():
        monkeypatch.setenv(name, value)
    assert cli.main(["migrate"]) == 0
    printed = capsys.readouterr().out
    assert f"on public.jobs_saved_searches to {init_names['API_PG_USER']}" in printed

    api = _role_conninfo(database, init_names, "API")
    with psycopg.connect(api, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.ReadOnlySqlTransaction):  # the session default
            store.create_search(conn, {"q": "python"}, {})
        with conn.transaction():
            conn.execute("SET TRANSACTION READ WRITE")
            made = store.create_search(conn, {"q": "python"}, {}, client="c", rate_limit=None)
        assert store.get_search(conn, made.search.search_id, made.token) is not None
        conn.execute("SET default_transaction_read_only = off")  # even then: nothing else
        for statement in (
            "UPDATE public.jobs_saved_searches SET query = '{}'",
            "DELETE FROM public.jobs_listings_data",
            "INSERT INTO public.jobs_search_announced VALUES ('x', 'x', 'x', 'x', 'x')",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)
        assert store.delete_search(conn, made.search.search_id, made.token)
    # the rate limiter's function runs with its owner's rights: the API's role only
    pipeline = _role_conninfo(database, init_names, "PIPELINE")
    with (
        psycopg.connect(pipeline, autocommit=True) as conn,
        pytest.raises(psycopg.errors.InsufficientPrivilege),
    ):
        conn.execute("SELECT public.jobs_record_search_creation('c', 1, interval '1 minute')")
