"""`reportwatch serve`: run the scheduled ingest on one machine, no work pool needed.

Serves the deployment `ingest/reportwatch-ingest` (every day at 07:00 Europe/London, one run at a
time, an overlapping run cancelled) until stopped. It needs a Prefect API to register with: start
`prefect server start` and set PREFECT_API_URL (see deploy/README.md).
"""

from __future__ import annotations

from typing import Any

from prefect import serve as prefect_serve
from prefect.client.schemas.objects import ConcurrencyLimitConfig, ConcurrencyLimitStrategy
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron
from prefect.types.entrypoint import EntrypointType

from .ingest import ingest_flow

DEPLOYMENT = "reportwatch-ingest"
CRON = "0 7 * * *"
TIMEZONE = "Europe/London"


def parameters(config: str | None, store: str | None) -> dict[str, Any]:
    """Return the deployment's parameters; one left out falls back, at run time, to
    $REPORTWATCH_CONFIG / ./reportwatch.toml and $REPORTWATCH_STORE / ./snapshots."""
    given = {"config": config, "store": store}
    return {name: value for name, value in given.items() if value is not None}


def deployment(
    config: str | None = None,
    store: str | None = None,
    cron: str = CRON,
    name: str = DEPLOYMENT,
) -> RunnerDeployment:
    """Return the served deployment of `ingest_flow`: its cron schedule in Europe/London, at most
    one run at a time (a run that would overlap is cancelled), loaded by module path so that the
    run's working directory does not matter."""
    built = ingest_flow.to_deployment(
        name=name,
        schedules=[Cron(cron, timezone=TIMEZONE)],
        parameters=parameters(config, store),
        concurrency_limit=ConcurrencyLimitConfig(
            limit=1, collision_strategy=ConcurrencyLimitStrategy.CANCEL_NEW
        ),
        entrypoint_type=EntrypointType.MODULE_PATH,
        description="Ingest every watched report and publish what changed.",
    )
    assert isinstance(built, RunnerDeployment)  # called outside an event loop: not a coroutine
    return built


def serve(
    config: str | None = None,
    store: str | None = None,
    cron: str = CRON,
    name: str = DEPLOYMENT,
) -> None:
    """Serve the scheduled ingest until interrupted; stopping it leaves the schedule active."""
    prefect_serve(deployment(config, store, cron, name), pause_on_shutdown=False, limit=1)


if __name__ == "__main__":
    serve()
