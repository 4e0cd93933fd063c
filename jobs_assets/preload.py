"""Imported once by the multiprocess executor's fork server (see `definitions.py`): loads
the definitions, so every module they need is imported before the step processes fork.
Nothing here opens a connection or starts a thread, which a fork would not carry over."""

from jobs_assets.definitions import defs

defs()
