"""How a salary model is judged: a time split, two baselines, metrics and the gate.

The holdout is the newest listings, because the model is used on listings that
arrive after it was trained; a random split would flatter it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

TEST_SHARE = 0.2
#: a baseline cell needs this many training rows before its median is trusted
MIN_CELL_ROWS = 10
#: the baseline's cells, finest first; each later key backs off to coarser groups
BASELINE_LEVELS = (
    ("category", "seniority", "region"),
    ("category", "seniority"),
    ("category",),
)
#: a challenger may be at most this much worse than the current model on the same split
TOLERANCE = 1.02


def training_rows(listings: pd.DataFrame, target_usd: pd.Series) -> pd.DataFrame:
    """One row per duplicate cluster among listings with a target: its canonical listing
    when `is_canonical` is given, else its first sighting.

    Rows without a cluster id are their own cluster. The result is sorted oldest first.
    """
    rows = listings.assign(_target_usd=target_usd)
    rows = rows[rows["_target_usd"].notna() & (rows["_target_usd"] > 0)]
    cluster = rows.get("duplicate_cluster_id")
    own = rows["source"].astype(str) + ":" + rows["source_job_id"].astype(str)
    key = own if cluster is None else cluster.astype(object).where(cluster.notna(), own)
    rows = rows.assign(_cluster=key.astype(str))
    if "is_canonical" in rows:
        # the cluster's canonical listing speaks for it, dated by the cluster's first sighting
        first_seen = rows.groupby("_cluster")["first_seen_at"].transform("min")
        rows = rows.assign(first_seen_at=first_seen)
        rows = rows.sort_values("is_canonical", ascending=False, kind="stable")
        rows = rows.drop_duplicates("_cluster", keep="first")
    order = (
        ["first_seen_at", "published_at", "_cluster"]
        if "published_at" in rows
        else [
            "first_seen_at",
            "_cluster",
        ]
    )
    rows = rows.sort_values(order, kind="stable")
    return rows.drop_duplicates("_cluster", keep="first").reset_index(drop=True)


def time_split(rows: pd.DataFrame, test_share: float = TEST_SHARE) -> tuple[np.ndarray, np.ndarray]:
    """Positions of the oldest rows (train) and of the newest `test_share` (test).

    `rows` comes from `training_rows`: one row per cluster, oldest first, so no
    cluster can fall on both sides. Rows sharing the boundary timestamp stay together.
    """
    n = len(rows)
    wanted = n - max(1, int(round(n * test_share)))
    seen = rows["first_seen_at"].to_numpy()
    cut = wanted
    while 0 < cut < n and seen[cut] == seen[cut - 1]:
        cut -= 1
    if cut < n // 2:
        # most rows share one sighting (a first load): split inside it, in the order
        # `training_rows` gave (sources' publication dates, when it had them)
        cut = wanted
    return np.arange(cut), np.arange(cut, n)


@dataclass(frozen=True)
class GroupMedianBaseline:
    """Median training salary of the listing's category × seniority × region cell,
    backing off to coarser cells, then to the global median, when a cell is small."""

    levels: tuple[tuple[str, ...], ...]
    tables: tuple[dict, ...]
    global_median: float

    @classmethod
    def fit(
        cls, inputs: pd.DataFrame, usd: np.ndarray, min_rows: int = MIN_CELL_ROWS
    ) -> GroupMedianBaseline:
        frame = inputs.assign(_usd=usd)
        tables = []
        for level in BASELINE_LEVELS:
            grouped = frame.groupby(list(level), sort=False)["_usd"]
            stats = pd.DataFrame({"n": grouped.size(), "median": grouped.median()})
            stats = stats[stats["n"] >= min_rows]
            tables.append(
                {(k if isinstance(k, tuple) else (k,)): m for k, m in stats["median"].items()}
            )
        return cls(BASELINE_LEVELS, tuple(tables), float(np.median(usd)))

    def predict(self, inputs: pd.DataFrame) -> np.ndarray:
        out = np.full(len(inputs), np.nan)
        for level, table in zip(self.levels, self.tables, strict=True):
            keys = list(zip(*(inputs[c] for c in level), strict=True))
            values = np.array([table.get(k, np.nan) for k in keys], dtype=float)
            out = np.where(np.isnan(out), values, out)
        return np.where(np.isnan(out), self.global_median, out)


def regression_metrics(
    actual_usd: np.ndarray, predicted_usd: np.ndarray, low: np.ndarray, high: np.ndarray
) -> dict[str, float]:
    """MAE (USD), median absolute percentage error, R² (log scale), 80% interval coverage."""
    error = np.abs(predicted_usd - actual_usd)
    log_actual, log_predicted = np.log(actual_usd), np.log(predicted_usd)
    spread = np.sum((log_actual - log_actual.mean()) ** 2)
    r2 = 1.0 - np.sum((log_actual - log_predicted) ** 2) / spread if spread > 0 else 0.0
    return {
        "mae": float(np.mean(error)),
        "median_ape": float(np.median(error / actual_usd)),
        "r2_log": float(r2),
        "interval_coverage": float(np.mean((actual_usd >= low) & (actual_usd <= high))),
    }


def baseline_maes(
    train_inputs: pd.DataFrame,
    train_usd: np.ndarray,
    test_inputs: pd.DataFrame,
    test_usd: np.ndarray,
) -> dict[str, float]:
    grouped = GroupMedianBaseline.fit(train_inputs, train_usd).predict(test_inputs)
    return {
        "baseline_global_median_mae": float(np.mean(np.abs(np.median(train_usd) - test_usd))),
        "baseline_group_median_mae": float(np.mean(np.abs(grouped - test_usd))),
    }


@dataclass(frozen=True)
class Decision:
    status: str  # "current" or "rejected"
    reason: str


def promotion_decision(
    mae: float,
    best_baseline_mae: float,
    current_mae: float | None,
    tolerance: float = TOLERANCE,
    compared_mae: float | None = None,
) -> Decision:
    """A new model becomes current only if it beats the best baseline and is no worse
    than `tolerance` × the current model's MAE on the same rows.

    `compared_mae` is the new model's MAE on the rows the current model was scored on
    (by default the whole holdout, `mae`).
    """
    if not mae < best_baseline_mae:
        return Decision(
            "rejected", f"MAE {mae:,.0f} does not beat the best baseline's {best_baseline_mae:,.0f}"
        )
    challenger = mae if compared_mae is None else compared_mae
    if current_mae is not None and challenger > tolerance * current_mae:
        return Decision(
            "rejected",
            f"MAE {challenger:,.0f} is worse than {tolerance:g} × the current model's "
            f"{current_mae:,.0f} on the same split",
        )
    against = "" if current_mae is None else f" and the current model's {current_mae:,.0f}"
    return Decision(
        "current", f"MAE {mae:,.0f} beats the best baseline's {best_baseline_mae:,.0f}{against}"
    )
