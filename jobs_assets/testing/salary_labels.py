"""Salary parse accuracy on real salary strings labelled by hand (issue 28).

`jobs_assets_tests/data/salary_labels.csv` holds real salary strings from the shared
salary corpus (docs/salary_corpus.md; the project's recorded fixtures left out): free-text
`salary` fields, salary lines of the sources' descriptions,
and structured salary fields as the APIs serve them (JSON, scored through the source's
field map and `structured_salary`). Each row was judged by hand: `min` and `max` are the
figures as the text states them, per `period` (annualised here with
`PERIOD_FACTORS`, as the SPEC's §7 does), `currency` is ISO 4217; empty cells are nulls.

A row is right when min, max, currency and period all match. The rows are split in two
halves by a hash of the text: the parser's rules were tuned on the `tuning` half only,
so the `held_out` half's accuracy is the honest number.

    python -m benchmarks.salary_labels [--csv PATH]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
from dataclasses import dataclass
from pathlib import Path

LABELS_CSV = (
    Path(__file__).resolve().parents[2] / "jobs_assets_tests" / "data" / "salary_labels.csv"
)
FIELDS_SUFFIX = " fields"


@dataclass(frozen=True)
class Label:
    source: str
    text: str
    min: float | None
    max: float | None
    currency: str | None
    period: str | None
    reason: str

    @property
    def half(self) -> str:
        """`tuning` or `held_out`, fixed by the text alone (first byte of its SHA-256)."""
        return ("tuning", "held_out")[hashlib.sha256(self.text.encode()).digest()[0] % 2]


@dataclass(frozen=True)
class Outcome:
    label: Label
    got: tuple[float | None, float | None, str | None, str | None]  # annual, as parsed
    want: tuple[float | None, float | None, str | None, str | None]  # annual, as labelled

    @property
    def right(self) -> bool:
        return all(_same(a, b) for a, b in zip(self.got, self.want, strict=True))


def _same(a: object, b: object) -> bool:
    if isinstance(a, float | int) and isinstance(b, float | int):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)
    return a == b


def _number(cell: str) -> float | None:
    return float(cell) if cell.strip() else None


def read_labels(path: Path = LABELS_CSV) -> list[Label]:
    with path.open(newline="", encoding="utf-8") as handle:
        return [
            Label(
                row["source"],
                row["text"],
                _number(row["min"]),
                _number(row["max"]),
                row["currency"] or None,
                row["period"] or None,
                row["reason"],
            )
            for row in csv.DictReader(handle)
        ]


def parse(label: Label):  # noqa: ANN201 - a jobs_assets.lib.money.salary.Salary
    """What the pipeline makes of the labelled input: free text through
    `parse_salary_text`; structured fields through the source's field map (the Python twin
    of the SQL extraction) and `structured_salary`, as `normalise` does."""
    from jobs_assets.lib.money.salary import parse_salary_text, structured_salary
    from jobs_assets.lib.sources import SOURCES

    if not label.source.endswith(FIELDS_SUFFIX):
        return parse_salary_text(label.text)
    source = SOURCES[label.source.removesuffix(FIELDS_SUFFIX)]
    fields = source.item_fields(json.loads(label.text))
    return structured_salary(
        fields["salary_min"],
        fields["salary_max"],
        fields["salary_period"],
        fields["salary_currency"],
    )


def score(labels: list[Label]) -> list[Outcome]:
    from jobs_assets.lib.money.salary import PERIOD_FACTORS

    outcomes = []
    for label in labels:
        salary = parse(label)
        factor = PERIOD_FACTORS[label.period] if label.period else 1
        want = (
            None if label.min is None else label.min * factor,
            None if label.max is None else label.max * factor,
            label.currency,
            label.period,
        )
        got = (salary.min, salary.max, salary.currency, salary.period)
        outcomes.append(Outcome(label, got, want))
    return outcomes


def accuracy(outcomes: list[Outcome]) -> float:
    return sum(o.right for o in outcomes) / len(outcomes) if outcomes else 0.0


def summary(path: Path = LABELS_CSV) -> dict:
    """Accuracy overall, per half and per kind of input (for `make bench` and the test)."""
    outcomes = score(read_labels(path))

    def part(selected: list[Outcome]) -> dict:
        return {"rows": len(selected), "right": sum(o.right for o in selected),
                "accuracy": round(accuracy(selected), 4)}  # fmt: skip

    return {
        "overall": part(outcomes),
        "tuning": part([o for o in outcomes if o.label.half == "tuning"]),
        "held_out": part([o for o in outcomes if o.label.half == "held_out"]),
        "free_text": part([o for o in outcomes if not o.label.source.endswith(FIELDS_SUFFIX)]),
        "structured": part([o for o in outcomes if o.label.source.endswith(FIELDS_SUFFIX)]),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--csv", type=Path, default=LABELS_CSV)
    args = parser.parse_args()
    print(json.dumps(summary(args.csv)))


if __name__ == "__main__":
    main()
