"""Imported once by the multiprocess executor's fork server (see `definitions.py`): loads
the definitions, so every module they need is imported before the step processes fork,
and the parts of dbt that dagster-dbt's `DbtCliResource` imports in the marts step to
open its adapter (`marts.ADAPTER_MODULES`; about 2 s a step would otherwise spend). dbt itself runs as a process of its own.
Nothing here opens a connection or starts a thread, which a fork would not carry over."""

from jobs_assets.definitions import defs
from jobs_assets.lib import marts

marts.import_adapter()
defs()
