"""Train, evaluate and decide on a salary model; predict; store it as skops bytes.

The estimator is sparse and linear: TF-IDF (see `text.ArrowTfidf`) of the title's
words and word pairs,
tags, countries and the masked description, one-hot categories, and a ridge
regression on the log of the annual USD midpoint. It trains on 200k listings in
well under a minute on two cores, predicts tens of thousands of rows a second, and
is deterministic (no randomness anywhere in the fit).
The 80% interval comes from the residuals on a calibration slice: the newest part of
the training rows, predicted by a ridge fitted on the older part, like the real use.
"""

from __future__ import annotations

import io
import json
import platform
import zipfile
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pandas as pd
import scipy
import sklearn
import skops
import skops.io
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import Ridge
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder

from jobs_assets.lib.salary_model.evaluation import (
    TEST_SHARE,
    Decision,
    baseline_maes,
    promotion_decision,
    regression_metrics,
    time_split,
    training_rows,
)
from jobs_assets.lib.salary_model.features import (
    CATEGORICAL,
    FEATURES,
    annual_usd_midpoint,
    log_target,
    model_inputs,
)
from jobs_assets.lib.salary_model.text import ArrowTfidf

DEFAULT_MIN_ROWS = 200
INTERVAL = 0.8
RIDGE_ALPHA = 1.0


def _type_name(kind: type) -> str:
    """How skops names a type in a stored model: where the class is defined."""
    return f"{kind.__module__}.{kind.__qualname__}"


#: the only types a stored model may contain; anything else is refused on load (named
#: from the classes, so a library that moves one within its own package still loads)
TRUSTED_TYPES = tuple(
    _type_name(kind)
    for kind in (
        dict, float, list, slice, str, tuple,
        np.dtype, np.float32, np.float64, np.int64, np.ndarray,
        ColumnTransformer, ArrowTfidf, Ridge, Pipeline, OneHotEncoder,
    )
)  # fmt: skip


def build_pipeline(alpha: float = RIDGE_ALPHA) -> Pipeline:
    """The estimator, unfitted. Nothing in it is random, so a fit is reproducible."""
    columns = ColumnTransformer(
        [
            ("title", ArrowTfidf(min_df=2, bigrams=True), "title"),
            # a company's own pay level is worth learning from its second listing on
            ("company", OneHotEncoder(handle_unknown="ignore", dtype=np.float32), ["company"]),
            (
                "categories",
                OneHotEncoder(handle_unknown="ignore", min_frequency=3, dtype=np.float32),
                [c for c in CATEGORICAL if c != "company"],
            ),
            ("countries", ArrowTfidf(min_df=1, whitespace=True, binary=True), "countries"),
            ("tags", ArrowTfidf(min_df=2, whitespace=True), "tags"),
            (
                "description",
                ArrowTfidf(min_df=3, max_df=0.5, max_features=40_000),
                "description",
            ),
        ],
        sparse_threshold=1.0,
    )
    return Pipeline(
        [("features", columns), ("ridge", Ridge(alpha=alpha, solver="sparse_cg", tol=1e-4))]
    )


@dataclass
class SalaryModel:
    """A fitted pipeline and the residual quantiles that make its 80% interval."""

    pipeline: Pipeline
    low_offset: float
    high_offset: float

    def predict(self, listings: pd.DataFrame) -> pd.DataFrame:
        """`estimate`, `low`, `high` in annual USD for rows of `jobs_listings_data`."""
        return self.predict_inputs(model_inputs(listings))

    def predict_inputs(self, inputs: pd.DataFrame) -> pd.DataFrame:
        log_estimate = self.pipeline.predict(inputs).astype(float)
        return pd.DataFrame(
            {
                "estimate": np.exp(log_estimate),
                "low": np.exp(log_estimate + self.low_offset),
                "high": np.exp(log_estimate + self.high_offset),
            },
            index=inputs.index,
        )

    def to_bytes(self) -> bytes:
        state = {
            "pipeline": self.pipeline,
            "low_offset": float(self.low_offset),
            "high_offset": float(self.high_offset),
        }
        return skops.io.dumps(state)

    @classmethod
    def from_bytes(cls, data: bytes) -> SalaryModel:
        """Load stored bytes, refusing any type outside `TRUSTED_TYPES` (never pickle).

        skops trusts much of scikit-learn by default; this model trusts only its own list.
        """
        untrusted = stored_types(data) - set(TRUSTED_TYPES)
        if untrusted:
            raise ValueError(f"stored salary model holds untrusted types {sorted(untrusted)}")
        state = skops.io.loads(data, trusted=list(TRUSTED_TYPES))
        return cls(state["pipeline"], state["low_offset"], state["high_offset"])


def stored_types(data: bytes) -> set[str]:
    """Every `module.Class` named in a skops file's schema (without loading anything)."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        schema = json.loads(archive.read("schema.json"))
    found: set[str] = set()
    pending: list[object] = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if "__class__" in node and "__module__" in node:
                found.add(f"{node['__module__']}.{node['__class__']}")
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found


def fit_model(inputs: pd.DataFrame, log_usd: np.ndarray, alpha: float = RIDGE_ALPHA) -> SalaryModel:
    """Fit on all rows; the interval's offsets come from a ridge fitted on the older 80%
    and scored on the newest 20%. The vocabularies are learnt once from every row
    (they see no salary), so the text is tokenised once."""
    pipeline = build_pipeline(alpha)
    features, ridge = pipeline.named_steps["features"], pipeline.named_steps["ridge"]
    matrix = features.fit_transform(inputs).tocsr()
    cut = len(inputs) - max(1, int(round(len(inputs) * TEST_SHARE)))
    calibration = clone(ridge).fit(matrix[:cut], log_usd[:cut])
    residuals = log_usd[cut:] - calibration.predict(matrix[cut:])
    tail = (1.0 - INTERVAL) / 2
    low, high = np.quantile(residuals, [tail, 1.0 - tail])
    ridge.fit(matrix, log_usd)
    return SalaryModel(pipeline, float(low), float(high))


@dataclass
class TrainingOutcome:
    """What one training run produced, for the asset to store and report."""

    status: str  # "current", "rejected" or "skipped"
    reason: str
    model: SalaryModel | None = None
    metrics: dict[str, float] = field(default_factory=dict)
    rows: int = 0
    train_rows: int = 0
    test_rows: int = 0
    window_start: datetime | None = None
    window_end: datetime | None = None
    features: tuple[str, ...] = FEATURES
    library_versions: dict[str, str] = field(default_factory=dict)


def library_versions() -> dict[str, str]:
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "pandas": pd.__version__,
        "skops": skops.__version__,
    }


def train_salary_model(
    listings: pd.DataFrame,
    current: SalaryModel | None = None,
    min_rows: int = DEFAULT_MIN_ROWS,
    alpha: float = RIDGE_ALPHA,
    current_trained_until: datetime | None = None,
) -> TrainingOutcome:
    """Train on listings with a stated salary, evaluate on the newest 20%, decide.

    `current` is the model in service, if any: it is scored on the holdout rows it has
    not seen (first seen after `current_trained_until`, the end of its training window;
    the stored model learnt from every row up to then), and the new model must not be
    more than 2% worse than it on those same rows to replace it. With no such rows the
    two cannot be compared fairly, and the current model stays.
    """
    rows = training_rows(listings, annual_usd_midpoint(listings))
    versions = library_versions()
    if len(rows) < min_rows:
        return TrainingOutcome(
            "skipped",
            f"not enough data yet: {len(rows)} listings with a usable salary, "
            f"{min_rows} needed (JOBS_MODEL_MIN_ROWS)",
            rows=len(rows),
            library_versions=versions,
        )
    inputs = model_inputs(rows)
    usd = rows["_target_usd"].to_numpy(dtype=float)
    log_usd = log_target(rows["_target_usd"])
    train, test = time_split(rows)

    model = fit_model(inputs.iloc[train], log_usd[train], alpha)
    predicted = model.predict_inputs(inputs.iloc[test])
    metrics = regression_metrics(
        usd[test],
        predicted["estimate"].to_numpy(),
        predicted["low"].to_numpy(),
        predicted["high"].to_numpy(),
    )
    metrics.update(baseline_maes(inputs.iloc[train], usd[train], inputs.iloc[test], usd[test]))
    best = min(metrics["baseline_global_median_mae"], metrics["baseline_group_median_mae"])
    metrics["best_baseline_mae"] = best
    metrics["improvement_over_best_baseline"] = 1.0 - metrics["mae"] / best
    current_mae = compared_mae = None
    unseen_note = ""
    if current is not None:
        seen_test = rows["first_seen_at"].iloc[test]
        unseen = (
            np.ones(len(test), bool)
            if current_trained_until is None
            else (seen_test > pd.Timestamp(current_trained_until)).to_numpy()
        )
        metrics["current_model_compared_rows"] = int(unseen.sum())
        if unseen.any():
            compared = inputs.iloc[test[unseen]]
            current_estimate = current.predict_inputs(compared)["estimate"].to_numpy()
            current_mae = float(np.mean(np.abs(current_estimate - usd[test][unseen])))
            compared_mae = float(
                np.mean(np.abs(predicted["estimate"].to_numpy()[unseen] - usd[test][unseen]))
            )
            metrics["current_model_mae"] = current_mae
            metrics["challenger_mae_on_compared_rows"] = compared_mae
        else:
            unseen_note = (
                "no holdout listing is newer than the current model's training window "
                f"(to {current_trained_until:%Y-%m-%d %H:%M}), so the two cannot be compared "
                "on listings neither has seen; the current model stays"
            )
    decision: Decision = promotion_decision(
        metrics["mae"], best, current_mae, compared_mae=compared_mae
    )
    if unseen_note and decision.status == "current":
        decision = Decision("rejected", unseen_note)

    # The stored model learns from every row, the holdout included: it was judged
    # above on rows it had not seen; now it may learn from the newest listings too.
    final = fit_model(inputs, log_usd, alpha)
    seen = rows["first_seen_at"]
    return TrainingOutcome(
        decision.status,
        decision.reason,
        model=final,
        metrics=metrics,
        rows=len(rows),
        train_rows=len(train),
        test_rows=len(test),
        window_start=seen.min().to_pydatetime(),
        window_end=seen.max().to_pydatetime(),
        library_versions=versions,
    )
