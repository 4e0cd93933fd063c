"""Run an earlier revision's upgrade again, with this release's code.

Some revisions change no schema: they decide derived columns again (places, eligibility,
categories) because this release's parser decides them differently, and do so by running
the revision that first backfilled those columns (`0018_places_parsed_again.py`,
`0019_categories_decided_again.py`), whose upgrade reads the stored listings through the
current parser. Alembic loads revision files by path, not as a package, so this loads
the file the same way.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

VERSIONS = Path(__file__).with_name("versions")


def upgrade_again(filename: str, alias: str) -> None:
    """Run `versions/<filename>`'s `upgrade()` (loaded under module name `alias`)."""
    spec = importlib.util.spec_from_file_location(alias, VERSIONS / filename)
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"no migration {filename} in {VERSIONS}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.upgrade()
