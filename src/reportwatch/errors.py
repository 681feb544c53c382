"""The project's own error types: every failure a user can cause is one of these."""


class ReportwatchError(Exception):
    """Base of every error reportwatch reports to a user (one line, naming the reason)."""


class InputError(ReportwatchError):
    """An input that cannot be read as a report: empty, binary, undecodable, not a report."""


class IncompleteReport(InputError):
    """A document that parses but lacks what its kind must have (e.g. a statement with no score)."""


class StoreError(ReportwatchError):
    """The snapshot store cannot be opened, read or written as asked."""


class ConfigError(ReportwatchError):
    """A mistake in the sources file or in the settings."""


class FetchError(InputError):
    """A URL that could not be fetched; the message is one short line naming the reason."""
