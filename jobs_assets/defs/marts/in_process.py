"""dbt in the marts step's own process (unless `JOBS_DBT_PROCESS=own`).

dagster-dbt runs every dbt command as a subprocess and reads its JSON log lines. A new
dbt process spends about 2.5-3.5 s starting and importing dbt before it does anything:
most of the marts step of a small window (BENCHMARKS.md, "The demo") and more than half
of an incremental refresh (B6). The step's process has already imported dbt (with
dagster-dbt; in deployments the fork server preloads the rest, `jobs_assets/preload.py`),
so here dbt runs through its programmatic API (`dbtRunner`) in a thread, and its events
reach dagster-dbt as the same JSON lines, through a pipe: everything downstream of the
"process" (asset events, checks, artifacts, errors) is dagster-dbt's own code.

dbt's process-wide state (flags, adapters, event manager) is not shared: one dbt runs at
a time in a process (`_dbt_lock`), and a step process runs one step.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import threading
import types
from collections.abc import Iterator, Mapping, Sequence
from typing import IO, Any

from dagster_dbt.core import dbt_cli_invocation
from dbt_common.events.functions import msg_to_json

from jobs_assets.lib import marts

# one dbt at a time: dbt's flags, adapters and event manager belong to the process
_dbt_lock = threading.Lock()


class DbtThread:
    """What dagster-dbt uses of the `subprocess.Popen` running dbt: `args`, `stdout` (JSON
    log lines, bytes), `wait()`, `returncode` and `send_signal()`."""

    def __init__(self, args: Sequence[str], env: Mapping[str, str], **_: Any) -> None:
        self.args = list(args)
        self.returncode: int | None = None
        read, write = os.pipe()
        self.stdout: IO[bytes] = os.fdopen(read, "rb")
        self._sink = os.fdopen(write, "wb")
        self._write_lock = threading.Lock()
        self._thread = threading.Thread(
            target=self._run, args=(dict(env),), name="dbt", daemon=True
        )
        self._thread.start()

    def _run(self, env: dict[str, str]) -> None:
        from dbt.cli.main import dbtRunner

        changed = {k: v for k, v in env.items() if os.environ.get(k) != v}
        # the console logger only errors: the events reach dagster-dbt through the pipe
        changed["DBT_QUIET"] = "true"
        code = 2
        try:
            with _dbt_lock, marts.environ(changed):
                result = dbtRunner(callbacks=[self._emit]).invoke(self.args[1:])
            code = 0 if result.success else 1
            if result.exception is not None:
                self._line(_error_event(f"dbt stopped: {result.exception!r}"))
        except BaseException as err:  # noqa: BLE001 - reported through the log lines
            self._line(_error_event(f"dbt could not run in this process: {err!r}"))
        finally:
            self.returncode = code
            self._sink.close()

    def _emit(self, msg: Any) -> None:
        """dbt's event, as `--log-format json` prints it (debug events are not printed)."""
        if msg.info.level == "debug":
            return
        self._line(msg_to_json(msg))

    def _line(self, text: str) -> None:
        with self._write_lock:  # dbt fires events from its worker threads
            self._sink.write(text.encode() + b"\n")
            self._sink.flush()

    def wait(self, timeout: float | None = None) -> int:
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise subprocess.TimeoutExpired(self.args, timeout or 0)
        return self.returncode if self.returncode is not None else 2

    def send_signal(self, signum: int) -> None:
        """dbt in a thread cannot be interrupted: the run finishes its current nodes."""


def _error_event(message: str) -> str:
    return json.dumps(
        {
            "info": {"level": "error", "msg": message, "name": "InProcessError"},
            "data": {},
        }
    )


@contextlib.contextmanager
def dbt_in_this_process() -> Iterator[None]:
    """For the block, dagster-dbt's dbt commands run in this process (`DbtThread`)."""
    shim = types.SimpleNamespace(Popen=DbtThread, PIPE=subprocess.PIPE, STDOUT=subprocess.STDOUT)
    original = dbt_cli_invocation.subprocess
    dbt_cli_invocation.subprocess = shim  # type: ignore[assignment]
    try:
        yield
    finally:
        dbt_cli_invocation.subprocess = original
