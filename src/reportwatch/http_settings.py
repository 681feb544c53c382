"""How the HTTP fetcher talks to servers: timeouts, retries, limits and politeness, as settings.

Kept apart from `reportwatch.http` so that the sources file can be checked without importing
urllib3.
"""

from __future__ import annotations

from dataclasses import dataclass

from reportwatch import __version__
from reportwatch.errors import ConfigError

MB = 1024 * 1024


@dataclass(frozen=True)
class HttpSettings:
    """How a `Fetcher` talks to servers. Raises ConfigError when a value is out of range."""

    timeout: float = 30.0  # connect and read timeout, seconds
    retries: int = 3  # on connection errors, 429 and 5xx
    backoff: float = 0.5  # urllib3 backoff_factor
    max_redirects: int = 5
    max_bytes: int = 20 * MB
    max_seconds: float = 300.0  # reading one whole body, seconds
    per_host: int = 2  # at most N requests in flight per host
    min_interval: float = 1.0  # seconds between request starts to one host
    max_retry_after: float = 120.0  # never sleep longer than this for a Retry-After
    user_agent: str = f"reportwatch/{__version__} (+https://github.com/reportwatch)"

    def __post_init__(self) -> None:
        """Check every value is in range; raise ConfigError naming the first that is not."""
        checks = {
            "timeout": self.timeout > 0,
            "retries": self.retries >= 0,
            "backoff": self.backoff >= 0,
            "max_redirects": self.max_redirects >= 0,
            "max_bytes": self.max_bytes > 0,
            "max_seconds": self.max_seconds > 0,
            "per_host": self.per_host >= 1,
            "min_interval": self.min_interval >= 0,
            "max_retry_after": self.max_retry_after >= 0,
        }
        for name, ok in checks.items():
            if not ok:
                raise ConfigError(f"http setting {name} out of range: {getattr(self, name)!r}")


DEFAULT_SETTINGS = HttpSettings()
