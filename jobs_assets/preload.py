"""Imported once by the multiprocess executor's fork server (see `definitions.py`): loads
the definitions, so every module they need is imported before the step processes fork,
and the parts of dbt the marts step runs in its own process (`defs/marts/in_process.py`)
that the definitions do not import (about 2.5 s a step would otherwise spend).
Nothing here opens a connection or starts a thread, which a fork would not carry over."""

import dbt.adapters.factory  # noqa: F401
import dbt.adapters.postgres  # noqa: F401
import dbt.cli.main  # noqa: F401
import dbt.config.runtime  # noqa: F401

from jobs_assets.definitions import defs

defs()
