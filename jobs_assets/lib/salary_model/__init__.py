"""The salary model: features from `jobs_listings_data` rows, training with a time
split, baselines and a promotion gate, and skops storage. No Dagster here.
May import: `lib.listings.copy_text`, `lib.listings.pipeline`, `lib.normalise`,
`lib.sources`."""

from jobs_assets.lib.salary_model.evaluation import Decision, promotion_decision
from jobs_assets.lib.salary_model.masking import mask_money, mask_money_many
from jobs_assets.lib.salary_model.model import (
    DEFAULT_MIN_ROWS,
    TRUSTED_TYPES,
    SalaryModel,
    TrainingOutcome,
    train_salary_model,
)

__all__ = [
    "DEFAULT_MIN_ROWS",
    "TRUSTED_TYPES",
    "Decision",
    "SalaryModel",
    "TrainingOutcome",
    "mask_money",
    "mask_money_many",
    "promotion_decision",
    "train_salary_model",
]
