"""The Prefect layer: turns reportwatch's pipeline stages into tasks and flows.

The only code in the project that imports Prefect. Installed as `reportwatch_flows`.

Importing this package switches Prefect's telemetry off before Prefect itself is imported (it
reads these at import time): the server's analytics, the SDK's usage events (`DO_NOT_TRACK`) and
Prefect Cloud's orchestration telemetry (reportwatch never talks to Prefect Cloud).
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

TELEMETRY_OFF = {
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    "PREFECT_CLOUD_ENABLE_ORCHESTRATION_TELEMETRY": "false",
}


def telemetry_off(env: MutableMapping[str, str] | None = None) -> MutableMapping[str, str]:
    """Set the variables that switch Prefect's telemetry off in `env` (default: this process's
    environment) and return the mapping they were set in."""
    target = os.environ if env is None else env
    target.update(TELEMETRY_OFF)
    return target


telemetry_off()
