"""The production stack as local processes, for test_integration.py and test_browser.py.

`dagster api grpc`, `dagster-webserver` and `dagster-daemon` run against a Postgres-backed
Dagster instance built from the repository's own `dagster.yaml` (the same storage block,
run queue, pools, run monitoring and retries) and its `workspace.yaml`, with one change:
the default run launcher instead of Docker, since no Docker engine runs here. Every
source points at a replay server on loopback, so runs are real and offline.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg
import requests
import yaml

from jobs_assets.replay import ReplayServer

if TYPE_CHECKING:
    from jobs_assets_tests.conftest import Database

REPO = Path(__file__).resolve().parents[1]
PRODUCTION_DAGSTER_YAML = REPO / "deploy" / "dagster.yaml"
WORKSPACE_YAML = REPO / "workspace.yaml"
LOCATION = "jobs_assets"
BIN = Path(sys.executable).parent
STARTUP_TIMEOUT = 120.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def stop_sessions(processes: list[subprocess.Popen], timeout: float = 20) -> None:
    """Stop processes started in sessions of their own, with all they started: SIGTERM
    to each session, then SIGKILL to what is left after `timeout`."""
    for process in processes:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


def wait_for(what: str, ready: Callable[[], Any], timeout: float, logs: Callable[[], str]) -> Any:
    """Poll `ready()` until it returns something truthy; fail with the processes' logs."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            value = ready()
            if value:
                return value
        except Exception as err:  # not up yet: keep polling
            last_error = err
        time.sleep(0.5)
    raise TimeoutError(f"{what} not ready after {timeout:.0f}s ({last_error!r})\n{logs()}")


def instance_config(storage: dict[str, Any], compute_log_dir: Path) -> dict[str, Any]:
    """The production instance config with the default run launcher and local step logs."""
    config = yaml.safe_load(PRODUCTION_DAGSTER_YAML.read_text())
    config.pop("run_launcher")  # DockerRunLauncher needs a Docker engine
    config["compute_logs"]["config"]["base_dir"] = str(compute_log_dir)
    config["storage"] = storage
    return config


@dataclass
class DagsterDatabase:
    """Dagster's storage database on the test server, and the instance config reaching it."""

    storage: dict[str, Any]
    env: dict[str, str]
    drop: Callable[[], None]


def dagster_database(database: Database) -> DagsterDatabase:
    """A scratch `dagster_*` database next to the test data database.

    With PGHOST set, the production `postgres_db` block is kept and fed by DAGSTER_PG_*.
    The embedded server listens only on a unix socket, which `postgres_db` cannot name,
    so there the block becomes a `postgres_url` (same driver) with `?host=<socket dir>`,
    which SQLAlchemy hands to libpq.
    """
    name = f"dagster_test_{uuid.uuid4().hex[:10]}"
    admin = "dbname=postgres" if database.pghost else database.conninfo

    def drop() -> None:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
        # a throwaway database: its commits need not wait for the disk
        conn.execute(f'ALTER DATABASE "{name}" SET synchronous_commit = off')
    production = yaml.safe_load(PRODUCTION_DAGSTER_YAML.read_text())
    if database.pghost:
        env = {
            "DAGSTER_PG_HOST": database.pghost,
            "DAGSTER_PG_PORT": os.environ.get("PGPORT") or "5432",
            "DAGSTER_PG_DB": name,
            "DAGSTER_PG_USER": os.environ.get("PGUSER") or getpass.getuser(),
            "DAGSTER_PG_PASSWORD": os.environ.get("PGPASSWORD", ""),
        }
        return DagsterDatabase(production["storage"], env, drop)
    scheme = production["storage"]["postgres"]["postgres_db"]["scheme"]
    with psycopg.connect(database.conninfo) as conn:
        info = conn.info
        url = f"{scheme}://{info.user}@/{name}?host={info.host}&port={info.port}"
    return DagsterDatabase({"postgres": {"postgres_url": url}}, {}, drop)


@dataclass
class Deployment:
    """The running stack: its URLs, environment and logs."""

    webserver_url: str
    grpc_port: int
    home: Path
    data_dir: Path
    env: dict[str, str]
    replay: ReplayServer
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)
    log_dir: Path = Path()

    @property
    def graphql_url(self) -> str:
        return f"{self.webserver_url}/graphql"

    def graphql(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        """POST a query to the webserver; GraphQL errors fail with the server's message."""
        response = requests.post(
            self.graphql_url, json={"query": query, "variables": variables or {}}, timeout=60
        )
        response.raise_for_status()
        body = response.json()
        if body.get("errors"):
            raise AssertionError(f"GraphQL errors: {body['errors']}")
        return body["data"]

    def logs(self, lines: int = 40) -> str:
        """The tail of every process's output, for failure messages."""
        out = []
        for path in sorted(self.log_dir.glob("*.log")):
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            out.append(f"--- {path.name} (last {len(tail)} lines) ---\n" + "\n".join(tail))
        return "\n".join(out)

    def start(self, name: str, command: list[str]) -> None:
        log = (self.log_dir / f"{name}.log").open("wb")
        # A session of its own, so teardown can stop the process with everything it spawned.
        self.processes[name] = subprocess.Popen(
            command,
            cwd=self.home,  # away from the repository's .env and dagster.yaml
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}\n{self.logs()}")

    def stop(self) -> None:
        stop_sessions(list(self.processes.values()))

    def grpc_listening(self) -> bool:
        self.check_alive()
        with socket.create_connection(("127.0.0.1", self.grpc_port), timeout=2):
            return True

    def location_loaded(self) -> bool:
        self.check_alive()
        data = self.graphql(
            "{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus "
            "locationOrLoadError { __typename ... on PythonError { message } } } } } }"
        )
        for entry in data["workspaceOrError"]["locationEntries"]:
            if entry["name"] == LOCATION and entry["loadStatus"] == "LOADED":
                loaded = entry["locationOrLoadError"]
                if loaded["__typename"] == "PythonError":
                    raise RuntimeError(f"code location failed to load: {loaded['message']}")
                return True
        return False


@contextlib.contextmanager
def running_deployment(workdir: Path, database: Database) -> Iterator[Deployment]:
    """Start the code server, webserver and daemon; stop them and drop their storage after."""
    home = workdir / "dagster_home"
    log_dir = workdir / "logs"
    home.mkdir()
    log_dir.mkdir()
    # The embedded data database lives under its JOBS_DATA_DIR; otherwise any folder will do.
    data_dir = database.data_dir if not database.pghost else workdir / "jobs_data"
    data_dir.mkdir(exist_ok=True)
    storage = dagster_database(database)
    grpc_port, web_port = free_port(), free_port()
    (home / "dagster.yaml").write_text(
        yaml.safe_dump(instance_config(storage.storage, data_dir / "logs" / "dagster"))
    )
    with ReplayServer() as replay:
        # The suite's JOBS_* settings (fast step retries) carry over; alerts stay in the log.
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith("DAGSTER_") and key != "JOBS_ALERT_WEBHOOK_URL"
        }
        env.update(
            {
                **database.env,
                **storage.env,
                **replay.env(),
                "DAGSTER_HOME": str(home),
                "DAGSTER_CODE_SERVER_HOST": "127.0.0.1",
                "DAGSTER_CODE_SERVER_PORT": str(grpc_port),
                "JOBS_DATA_DIR": str(data_dir),
                "JOBS_MAX_RPS": "0",
                # Off: schedules and sensors stay stopped, so the daemon launches only
                # the runs the tests submit. The stack shares the worker's data database
                # with the tests that run after it; with automation on, its daemon started
                # runs of its own (downstream of the tests' window) that wrote there during
                # a later test (a deadlock on the ml schema in CI).
                "JOBS_AUTOMATION": "off",
                "JOBS_REMOTIVE_MIN_INTERVAL_HOURS": "0",
                "JOBS_JOBICY_MIN_INTERVAL_HOURS": "0",
                "JOBS_HTTP_BACKOFF_SECONDS": "0.01",
                "PYTHONUNBUFFERED": "1",
            }
        )
        stack = Deployment(
            webserver_url=f"http://127.0.0.1:{web_port}",
            grpc_port=grpc_port,
            home=home,
            data_dir=data_dir,
            env=env,
            replay=replay,
            log_dir=log_dir,
        )
        try:
            stack.start(
                "grpc",
                [str(BIN / "dagster"), "api", "grpc", "-h", "127.0.0.1", "-p", str(grpc_port)]
                + ["-m", "jobs_assets.definitions"],
            )
            # Like compose's `service_healthy`: the others start once the code server listens.
            wait_for("gRPC code server", stack.grpc_listening, STARTUP_TIMEOUT, stack.logs)
            workspace = ["-w", str(WORKSPACE_YAML)]
            stack.start(
                "webserver",
                [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(web_port)]
                + workspace,
            )
            stack.start("daemon", [str(BIN / "dagster-daemon"), "run", *workspace])
            wait_for("code location", stack.location_loaded, STARTUP_TIMEOUT, stack.logs)
            yield stack
        finally:
            stack.stop()
            storage.drop()
