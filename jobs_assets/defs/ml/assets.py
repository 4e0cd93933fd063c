"""The salary model (group `ml`): `salary_model` trains, judges and stores a model;
`salary_estimates` writes the current model's estimate for every active listing.

The rules live in `jobs_assets.lib.salary_model`; these assets read, call and report.
They import it when they run: scikit-learn and SciPy take seconds to import, and every
process that loads the definitions (each step of a multiprocess run, the code server,
every `dagster` command) would pay that for nothing.
"""

import dagster as dg

from jobs_assets.automation import in_use, sensor_status
from jobs_assets.defs.ml.automation import AFTER_LISTINGS_OR_MODEL, retrain_condition
from jobs_assets.logs import log_event
from jobs_assets.resources import PostgresResource, SalaryModelResource
from jobs_assets.settings import DefinitionsSettings

JOBS_LISTINGS = dg.AssetKey("jobs_listings")

#: the metrics every training run reports (library names -> metadata names)
REPORTED = {
    "mae": "mae_usd",
    "median_ape": "median_abs_pct_error",
    "r2_log": "r2_log",
    "interval_coverage": "interval_80_coverage",
    "baseline_global_median_mae": "baseline_global_median_mae_usd",
    "baseline_group_median_mae": "baseline_group_median_mae_usd",
    "best_baseline_mae": "best_baseline_mae_usd",
    "improvement_over_best_baseline": "improvement_over_best_baseline",
    "current_model_mae": "current_model_mae_usd",
    "challenger_mae_on_compared_rows": "new_model_mae_on_compared_rows_usd",
    "current_model_compared_rows": "current_model_compared_rows",
}


@dg.asset(
    group_name="ml",
    deps=[JOBS_LISTINGS],
    kinds={"python", "scikitlearn", "postgres"},
    # the default interval; the code location's comes from `JOBS_MODEL_RETRAIN_HOURS`
    automation_condition=retrain_condition(DefinitionsSettings().model_retrain_hours),
    description=(
        "A model of the annual USD salary of a listing, trained on the listings that state "
        "one (one per duplicate cluster), judged on the newest 20% against two median "
        "baselines, stored in ml.salary_models as current only if it beats them (and the "
        "current model), else as rejected. Fewer than JOBS_MODEL_MIN_ROWS listings with a "
        "salary: no model, and that is not a failure."
    ),
)
def salary_model(
    context: dg.AssetExecutionContext,
    postgres: PostgresResource,
    salary_training: SalaryModelResource,
) -> dg.MaterializeResult:
    from jobs_assets.lib.salary_model import store, train_salary_model

    min_rows = salary_training.min_rows
    with postgres.connect() as conn:
        listings = store.training_listings(conn)
        current = store.current_model(conn)
        outcome = train_salary_model(
            listings,
            current=current.model if current else None,
            min_rows=min_rows,
            current_trained_until=current.window_end if current else None,
        )
        version = store.save_outcome(conn, outcome)
    log_event(
        context,
        f"salary_model: {outcome.status} (version {version}), {outcome.rows} training listings; "
        f"{outcome.reason}",
    )
    metadata: dict[str, object] = {
        "status": outcome.status,
        "reason": outcome.reason,
        "model_version": version if version is not None else "none",
        "current_model_version": (
            version if outcome.status == "current" else (current.version if current else "none")
        ),
        "training_rows": outcome.rows,
        "train_rows": outcome.train_rows,
        "test_rows": outcome.test_rows,
        "min_rows": min_rows,
    }
    metadata.update(
        {
            name: float(outcome.metrics[key])
            for key, name in REPORTED.items()
            if key in outcome.metrics
        }
    )
    if outcome.window_start is not None:
        metadata["training_window"] = (
            f"{outcome.window_start:%Y-%m-%d %H:%M} to {outcome.window_end:%Y-%m-%d %H:%M} UTC"
        )
    return dg.MaterializeResult(metadata=metadata)


@dg.asset(
    group_name="ml",
    deps=[salary_model, JOBS_LISTINGS],
    kinds={"python", "postgres"},
    automation_condition=AFTER_LISTINGS_OR_MODEL,
    description=(
        "ml.salary_estimates: the current salary model's annual USD estimate and 80% interval "
        "for every active listing, refreshed for new and changed listings after each window "
        "and in full when a new model becomes current (written with COPY)."
    ),
)
def salary_estimates(
    context: dg.AssetExecutionContext, postgres: PostgresResource
) -> dg.MaterializeResult:
    from jobs_assets.lib.salary_model import store

    with postgres.connect() as conn:
        current = store.current_model(conn)
        if current is None:
            log_event(context, "salary_estimates: no current salary model yet, nothing estimated")
            return dg.MaterializeResult(
                metadata={"model_version": "none", "note": "no current salary model yet"}
            )
        result = store.refresh_estimates(conn, current)
    log_event(
        context,
        f"salary_estimates: model {current.version}, {result.predicted} listings estimated "
        f"({'full' if result.full else 'incremental'}), {result.removed} removed, "
        f"{result.total} in all, {result.rows_per_second:,.0f} listings/s",
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": result.total,
            "model_version": current.version,
            "refresh": "full" if result.full else "incremental",
            "listings_estimated": result.predicted,
            "estimates_removed": result.removed,
            "listings_per_second": round(result.rows_per_second),
            "listings_per_cpu_second": round(result.rows_per_cpu_second),
            "seconds": round(result.seconds, 3),
        }
    )


@dg.definitions
def ml_definitions() -> dg.Definitions:
    """The assets with the retraining interval, and the sensor with the automation switch,
    read when the definitions load."""
    values = in_use()
    retrain = retrain_condition(values.model_retrain_hours)
    return dg.Definitions(
        assets=[salary_model, salary_estimates],
        sensors=[
            # the retraining gate is Python (`TrainedLongAgo`): evaluated in the code server
            dg.AutomationConditionSensorDefinition(
                "ml_automation",
                target=dg.AssetSelection.groups("ml"),
                default_status=sensor_status(values),
                use_user_code_server=True,
            )
        ],
    ).map_asset_specs(
        func=lambda spec: (
            spec.replace_attributes(automation_condition=retrain)
            if spec.key == salary_model.key
            else spec
        )
    )
