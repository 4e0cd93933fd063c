"""The marts' dbt project, as dagster-dbt's `DbtProject`, in a module of its own so that
`dagster-dbt project prepare-and-package --file jobs_assets/defs/marts/project.py`
(`make manifest`, the image build) can load it before any manifest exists.

Where the manifest comes from (as in Dagster's own reference projects):

- under `dagster dev`, `prepare_if_dev()` parses the project on every load, so an edited
  model shows at once;
- everywhere else the manifest was made ahead: `make install`/`make manifest` in a
  checkout (again whenever a file of the project changed), the image build in
  deployments (`deploy/Dockerfile`). A missing manifest is a clear error saying so.
"""

from dagster_dbt import DbtProject

from jobs_assets.lib import marts

PROJECT = DbtProject(project_dir=marts.PROJECT_DIR, profiles_dir=marts.PROJECT_DIR)
PROJECT.prepare_if_dev()
