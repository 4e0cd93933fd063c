"""What `make run` and `make demo` print: one line per step, failures in full.

The runs execute in the CLI's own process, and Dagster hands every log record of the run
to the `console` logger defined here: its `StepLines` handler turns the structured
events into one line per step (asset or check, window, the counts that matter, seconds),
and the daily file handler keeps the full Dagster log (DEBUG included) under
`$JOBS_DATA_DIR/logs/`, where a failure can be read in context.
"""

from __future__ import annotations

import io
import logging
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import dagster as dg

from jobs_assets.logs import DailyFileHandler

WIDTH = 40  # the step's name column


@dataclass
class RunNotes:
    """What the run's events said, for the summary."""

    materializations: dict[str, dict[str, Any]] = field(default_factory=dict)
    failed_checks: list[str] = field(default_factory=list)
    failed_steps: list[str] = field(default_factory=list)
    checks_passed: int = 0


def _value(entry: Any) -> Any:
    return getattr(entry, "value", entry)


def asset_counts(name: str, metadata: dict[str, Any]) -> str:
    """The few numbers a person wants from one asset's materialisation."""
    if name.endswith("_raw"):
        return (
            f"{metadata.get('mode', '?')}: {metadata.get('records_parsed', 0)} listings, "
            f"{metadata.get('records_rejected', 0)} rejected, "
            f"{metadata.get('http_requests', 0)} requests"
        )
    if name == "staged_listings":
        return (
            f"{metadata.get('dagster/row_count', 0)} rows staged, "
            f"{metadata.get('records_rejected', 0)} rejected"
        )
    if name == "jobs_listings":
        return (
            f"{metadata.get('window_listings', 0)} listings: "
            f"{metadata.get('rows_inserted', 0)} inserted, "
            f"{metadata.get('rows_updated', 0)} updated, "
            f"{metadata.get('rows_unchanged', 0)} unchanged"
        )
    if "dagster/row_count" in metadata:
        return f"{metadata['dagster/row_count']} rows"
    return ""


class StepLines(logging.Handler):
    """Prints one line when a step ends, from the run's structured Dagster events."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        super().__init__(logging.DEBUG)
        self.stream = stream or sys.stdout
        self.spill = _ToLog(logging.getLogger("jobs_assets.cli.stdout"))  # others' prints
        self.notes = RunNotes()
        self._assets: dict[str, list[str]] = {}  # step key -> what it materialised
        self._checks: dict[str, list[str]] = {}  # step key -> its check results

    def write(self, line: str) -> None:
        self.stream.write(line + "\n")
        self.stream.flush()

    def emit(self, record: logging.LogRecord) -> None:
        try:
            meta = getattr(record, "dagster_meta", None) or {}
            event = meta.get("dagster_event")
            if event is None:
                if record.levelno >= logging.WARNING:  # a step's own warning
                    self.write(f"  ! {meta.get('orig_message') or record.getMessage()}")
                return
            self._on_event(event, meta.get("job_tags") or {})
        except Exception:  # printing must never fail a run
            self.handleError(record)

    def _on_event(self, event: dg.DagsterEvent, tags: dict[str, str]) -> None:
        kind = event.event_type
        step = event.step_key or ""
        data = event.event_specific_data
        window = tags.get("dagster/partition", "")
        if kind == dg.DagsterEventType.ASSET_MATERIALIZATION:
            mat = data.materialization
            name = mat.asset_key.to_user_string()
            metadata = {k: _value(v) for k, v in mat.metadata.items()}
            self.notes.materializations[name] = metadata
            self._assets.setdefault(step, []).append(f"{name}|{asset_counts(name, metadata)}")
        elif kind == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            name = f"{data.asset_key.to_user_string()}:{data.check_name}"
            if data.passed:
                self.notes.checks_passed += 1
                text = (data.description or "").replace("|", "/")
                self._checks.setdefault(step, []).append(f"{name}|passed|{text}")
            else:
                level = "FAILED" if data.severity == dg.AssetCheckSeverity.ERROR else "WARN"
                text = data.description or ""
                self.notes.failed_checks.append(f"{level} {name}: {text}")
                self._checks.setdefault(step, []).append(f"{name}|{level}|{text}")
        elif kind == dg.DagsterEventType.STEP_SUCCESS:
            self._step_line(step, window, data.duration_ms / 1000)
        elif kind == dg.DagsterEventType.STEP_FAILURE:
            self.notes.failed_steps.append(step)
            self.write(f"  FAILED {step} {window}".rstrip())
            error = data.error
            text = error.to_string() if error is not None else "(no error recorded)"
            if data.user_failure_data is not None and data.user_failure_data.description:
                text = data.user_failure_data.description  # our own words, no traceback
            for line in text.rstrip().splitlines():
                self.write(f"      {line}")
        elif kind == dg.DagsterEventType.STEP_UP_FOR_RETRY:
            self.write(f"  retry  {step}: {event.message or ''}".rstrip())
        elif kind == dg.DagsterEventType.STEP_SKIPPED:
            self.write(f"  skip   {step} (an upstream step failed)")

    def _step_line(self, step: str, window: str, seconds: float) -> None:
        assets = self._assets.pop(step, [])
        checks = self._checks.pop(step, [])
        if len(assets) == 1 and not checks:
            name, counts = assets[0].split("|", 1)
            self.write(_line("ok", name, window, counts, seconds))
        elif len(checks) == 1 and not assets:
            name, status, text = checks[0].split("|", 2)
            self.write(_line("ok" if status == "passed" else status, name, window, text, seconds))
        elif assets or checks:  # dbt, or an asset's checks: one line for all of it
            failed = [c for c in checks if c.split("|")[1] != "passed"]
            counts = f"{len(checks) - len(failed)}/{len(checks)} checks passed"
            if assets:
                counts = f"{len(assets)} assets, {counts}"
            self.write(_line("ok" if not failed else "WARN", step, window, counts, seconds))
            for check in failed:
                name, status, text = check.split("|", 2)
                self.write(f"      {status} {name}: {text}")
        else:
            self.write(_line("ok", step, window, "", seconds))


class _ToLog(io.TextIOBase):
    """A text stream whose lines go to a logger (the daily file), not the terminal."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger
        self.buffer = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.buffer += text
        *lines, self.buffer = self.buffer.split("\n")
        for line in lines:
            if line.strip():
                self.logger.debug(line)
        return len(text)


def _line(status: str, name: str, window: str, counts: str, seconds: float) -> str:
    counts = counts if len(counts) <= 60 else counts[:59] + "…"
    label = f"{name} [{window}]" if window else name
    return f"  {status:<6} {label:<{WIDTH}} {seconds:5.1f} s  {counts}".rstrip()


def console_logger(
    data_dir: Path, stream: IO[str] | None = None
) -> tuple[dg.LoggerDefinition, StepLines]:
    """The `console` logger of the CLI's runs, and the handler that collects their notes."""
    lines = StepLines(stream)
    full = DailyFileHandler(Path(data_dir) / "logs")
    full.setLevel(logging.DEBUG)

    def build(_: dg.InitLoggerContext) -> logging.Logger:
        logger = logging.getLogger("jobs_assets.cli.run")
        logger.setLevel(logging.DEBUG)
        logger.propagate = False
        logger.handlers = [lines, full]
        spill = logging.getLogger("jobs_assets.cli.stdout")
        spill.setLevel(logging.DEBUG)
        spill.propagate = False
        spill.handlers = [full]
        return logger

    return dg.LoggerDefinition(build, description="one line per step; full log to file"), lines
