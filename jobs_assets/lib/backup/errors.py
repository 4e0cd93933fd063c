"""What can go wrong with a backup; each message says what to do next."""


class BackupError(RuntimeError):
    """A backup, verification or restore step failed; the message says what to do next."""


class WindowTooOld(BackupError):
    """The window is too old: a backup taken now would not show the database as it was then."""


class ToolsNotFound(BackupError):
    """No pg_dump/pg_restore of the server's major version was found."""
