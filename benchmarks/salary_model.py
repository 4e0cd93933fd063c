"""Salary model speed: training on N listings and prediction throughput.

The corpus holds a few thousand real listings; the timing run resamples them (with
replacement, seeded) up to N rows. That measures speed only: no metric of model
quality is ever computed on resampled rows. Run: `python -m benchmarks.salary_model`.
Times are process CPU seconds as well as wall seconds, since the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from datetime import UTC, datetime

import numpy as np

from jobs_assets.lib.salary_model.corpus import corpus_available, load_corpus
from jobs_assets.lib.salary_model.features import annual_usd_midpoint, log_target, model_inputs
from jobs_assets.lib.salary_model.model import fit_model
from jobs_assets.testing import salary_corpus_dir


def run(rows: int = 200_000, predict_rows: int = 100_000, seed: int = 0) -> dict:
    corpus = load_corpus(salary_corpus_dir())
    corpus = corpus[annual_usd_midpoint(corpus).notna()]
    train = corpus.sample(rows, replace=True, random_state=seed).reset_index(drop=True)
    train["first_seen_at"] = train["first_seen_at"].sort_values().to_numpy()
    wall, cpu = time.perf_counter(), time.process_time()
    inputs = model_inputs(train)
    model = fit_model(inputs, log_target(annual_usd_midpoint(train)))
    train_wall, train_cpu = time.perf_counter() - wall, time.process_time() - cpu

    # prediction on listings with descriptions (the costly case), from the five APIs
    described = corpus[corpus["description_text"].notna()]
    batch = described.sample(predict_rows, replace=True, random_state=seed + 1)
    wall, cpu = time.perf_counter(), time.process_time()
    estimates = model.predict(batch)
    predict_wall, predict_cpu = time.perf_counter() - wall, time.process_time() - cpu
    assert np.isfinite(estimates.to_numpy()).all()
    return {
        "train_rows": rows,
        "train_wall_s": round(train_wall, 2),
        "train_cpu_s": round(train_cpu, 2),
        "predict_rows": predict_rows,
        "predict_rows_per_wall_s": round(predict_rows / predict_wall),
        "predict_rows_per_cpu_s": round(predict_rows / predict_cpu),
        "model_bytes": len(model.to_bytes()),
        "train_target_s": 60,
        "train_target_met": train_wall <= 60,
        "predict_target_rows_per_s": 10_000,
        "predict_target_met": predict_rows / predict_cpu >= 10_000,
    }


def run_or_skip(rows: int = 200_000, predict_rows: int = 100_000) -> dict:
    """`run`, or why it could not (the corpus is not committed with the code)."""
    if not corpus_available(salary_corpus_dir()):
        return {"skipped": f"no salary corpus at {salary_corpus_dir()}: set JOBS_SALARY_CORPUS_DIR"}
    started = datetime.now(UTC).isoformat(timespec="seconds")
    load = [round(x, 2) for x in os.getloadavg()]
    return {"measured_at": started, "load_average": load, **run(rows, min(predict_rows, rows))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--predict-rows", type=int, default=100_000)
    args = parser.parse_args()
    print(json.dumps(run(args.rows, args.predict_rows), indent=1))


if __name__ == "__main__":
    main()
