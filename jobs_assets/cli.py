"""`python -m jobs_assets.cli run|demo|migrate|db-stop`: what `make run` and `make demo` call.

Both materialise the ingestion group for the latest complete window, then the analytics
marts, with the real Dagster CLI (multiprocess executor and all); `demo` first starts
the replay server on loopback and points every source at it.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from jobs_assets.settings import SOURCES, Settings, interval_variable, mask_url

LOCAL_DAGSTER_YAML = """\
# Local instance for `make run`, `make demo` and `make dev` (SQLite storage).
# The production instance is ../dagster.yaml, used only by docker-compose.
telemetry:
  enabled: false
concurrency:
  pools:
    default_limit: 1
"""


def dagster_home() -> Path:
    """A local instance folder, so the production `dagster.yaml` is never picked up."""
    home = Path(os.environ.get("DAGSTER_HOME") or ".dagster_home").resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(LOCAL_DAGSTER_YAML)
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def latest_window() -> str:
    from jobs_assets.partitions import INGESTION_PARTITIONS

    return INGESTION_PARTITIONS.get_last_partition_key()


def unreachable(urls: dict[str, str], timeout: float = 4.0) -> list[str]:
    """Sources whose host cannot be resolved or connected to (no request is sent)."""
    failed = []
    for name, url in urls.items():
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        try:
            with socket.create_connection((parts.hostname, port), timeout=timeout):
                pass
        except OSError as err:
            failed.append(f"{name} ({mask_url(url)}): {err}")
    return failed


def materialize_command(partition_key: str) -> list[str]:
    """The Dagster CLI call that materialises the ingestion group for one window."""
    return [
        sys.executable,
        "-m",
        "dagster",
        "asset",
        "materialize",
        "-m",
        "jobs_assets.definitions",
        "--select",
        "group:ingestion",
        "--partition",
        partition_key,
    ]


def marts_command() -> list[str]:
    """The Dagster CLI call that builds the analytics marts (dbt) on what was loaded."""
    return [
        sys.executable,
        "-m",
        "dagster",
        "asset",
        "materialize",
        "-m",
        "jobs_assets.definitions",
        "--select",
        "group:marts",
    ]


def materialize(partition_key: str, extra_env: dict[str, str] | None = None) -> int:
    """The ingestion window, then the marts: what the automation sensor does in a
    deployment after each window (no daemon runs here)."""
    dagster_home()
    env = {**os.environ, **(extra_env or {})}
    print(f"materialising group:ingestion for window {partition_key} ...", flush=True)
    code = subprocess.call(materialize_command(partition_key), env=env)
    if code != 0:
        return code
    print("materialising group:marts (dbt build of the analytics marts) ...", flush=True)
    return subprocess.call(marts_command(), env=env)


def summary(settings: Settings) -> str:
    from jobs_assets.lib import db
    from jobs_assets.lib.marts import row_count

    conninfo = db.conninfo_for(settings.data_dir, settings.pghost)
    with db.connect(conninfo) as conn:
        rows = conn.execute(
            "SELECT source, count(*), "
            "count(*) FILTER (WHERE salary_min_usd IS NOT NULL OR salary_max_usd IS NOT NULL), "
            "max(last_partition_key) "
            "FROM public.jobs_listings_data GROUP BY source ORDER BY source"
        ).fetchall()
        names = conn.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'marts' ORDER BY table_name"
        ).fetchall()
        marts = [(name, row_count(conn, "marts", name)) for (name,) in names]
    lines = ["public.jobs_listings_data:"]
    lines += [
        f"  {s:<10} {n:>7} listings ({w} with a USD salary), last window {k}" for s, n, w, k in rows
    ]
    if marts:
        lines.append("marts: " + ", ".join(f"{name} ({n} rows)" for name, n in marts))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    failed = unreachable(settings.urls)
    if failed:
        print(
            "Cannot reach the job APIs, so nothing was fetched:\n  "
            + "\n  ".join(failed)
            + "\nAre you offline? `make demo` runs the same pipeline on recorded responses.",
            file=sys.stderr,
        )
        return 2
    code = materialize(args.partition or latest_window())
    if code == 0:
        print(summary(settings))
    return code


def demo(args: argparse.Namespace) -> int:
    from jobs_assets.replay import ReplayServer

    with ReplayServer() as server:
        env = {
            **server.env(),
            "JOBS_MAX_RPS": "0",  # loopback: no need to be polite
            **{interval_variable(s): "0" for s in SOURCES.values()},
        }
        print(f"replay server on {server.base_url} serving the recorded API responses")
        code = materialize(args.partition or latest_window(), env)
    if code == 0:
        print(summary(Settings.from_env()))
    return code


def db_stop(args: argparse.Namespace) -> int:
    from jobs_assets.lib import db

    stopped = db.stop_embedded(Settings.from_env().data_dir)
    print("embedded PostgreSQL stopped" if stopped else "embedded PostgreSQL was not running")
    return 0


def migrate(args: argparse.Namespace) -> int:
    """`make migrate`: bring the data database to the newest migration, by hand."""
    from jobs_assets.lib import db
    from jobs_assets.lib.schema.migrate import migrate as run_migrations

    settings = Settings.from_env()
    done = run_migrations(db.conninfo_for(settings.data_dir, settings.pghost))
    print(f"schema revision before: {done.before or 'none (no migration had run)'}")
    print(f"schema revision after:  {done.after}" + ("" if done.upgraded else " (nothing to do)"))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jobs_assets", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, handler in (("run", run), ("demo", demo), ("migrate", migrate), ("db-stop", db_stop)):
        command = commands.add_parser(name)
        if name not in ("migrate", "db-stop"):
            command.add_argument("--partition", help="window key, default: the latest complete")
        command.set_defaults(handler=handler)
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (ConnectionError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
