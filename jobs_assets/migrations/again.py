"""Load a sibling revision, to run its upgrade or backfill again with this release's code.

Some revisions change no schema: they decide derived columns again (places, eligibility,
categories) because this release's parser decides them differently, and do so by running
the revision that first backfilled those columns (`0010_places`, `0012_eligibility`,
`0018_places_parsed_again`, `0019_categories_decided_again`), whose code reads the stored
listings through the current parser. Revision files start with a digit, so they cannot
be imported by name; Alembic loads them by path, and so does this.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

VERSIONS = Path(__file__).with_name("versions")


def load_revision(stem: str) -> ModuleType:
    """The module of `versions/<stem>.py` (e.g. `0018_places_parsed_again`)."""
    spec = importlib.util.spec_from_file_location(f"jobs_migration_{stem}", VERSIONS / f"{stem}.py")
    if spec is None or spec.loader is None:
        raise FileNotFoundError(f"no migration {stem}.py in {VERSIONS}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def upgrade_again(stem: str) -> None:
    """Run revision `stem`'s `upgrade()` again."""
    load_revision(stem).upgrade()
