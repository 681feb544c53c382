"""The project's own error types: every failure a user can cause is one of these."""

from __future__ import annotations


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
    """A URL that could not be fetched; the message is one short line naming the reason.

    `transient` is True when the same fetch may succeed later (a connection error, a timeout,
    429, 5xx, a truncated body) and False when it will not (another 4xx, a refused scheme,
    address or redirect, an oversize body)."""

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient

    def __reduce__(self) -> tuple[type[FetchError], tuple[str, bool]]:
        """Pickle with `transient` (Prefect may carry the error between processes)."""
        return type(self), (str(self), self.transient)


def is_transient(error: BaseException | None) -> bool:
    """Return True for a fetch failure that may pass if tried again later."""
    return isinstance(error, FetchError) and error.transient
