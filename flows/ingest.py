"""The ingest flow: `reportwatch.pipeline.ingest` as a Prefect flow.

The inputs are the ones `reportwatch ingest` would take (`choose_items`); they run in batches,
never a task per section, since each task run costs API calls and CPU on both sides. A batch holds
at least `BATCH_SECONDS` of fetching at the hosts' politeness, in at most `BATCHES` batches
(`batches`), so that a long run stores what it fetched as it goes; a run whose URLs can all be
fetched sooner, or that has no URLs, is one batch. One task fetches a batch's URLs ahead on
`FETCH_WORKERS` threads (retried, see `reportwatch.prefetch`) and starts parsing what they answered
(in worker processes, for a run of 50 URLs or more: `prefetch.ParseAhead`, as `pipeline.ingest`
does; `run_flow` forks them before the flow starts Prefect's threads, a deployment's run spawns
them); the next runs each input through `pipeline.ingest_item`, the pipeline's own code. Tasks run
up to `MAX_WORKERS` at a time; records run one batch after the other, in input order, so versions
are numbered exactly as `pipeline.ingest` numbers them. The store's lock is held for the whole run.
Each run publishes two artifacts: the change summaries (Markdown, key `reportwatch-changes`) and
one row per document touched (table, key `reportwatch-scores`).

URL fetches wait on a Prefect rate limit per host, `reportwatch-host-<host>`, when one exists
(`prefect gcl create reportwatch-host-<host> --limit 1 --slot-decay-per-second 0.5`); local files
never ask the Prefect API anything.
"""

from __future__ import annotations

import contextvars
import logging
import math
import os
from collections import Counter
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar, cast
from urllib.parse import urlsplit

from prefect import State, Task, flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.client.orchestration import get_client
from prefect.client.schemas.objects import TaskRun
from prefect.concurrency.sync import rate_limit
from prefect.exceptions import ObjectNotFound
from prefect.futures import PrefectFuture
from prefect.runtime import task_run
from prefect.task_runners import TaskRunner, ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from reportwatch import pipeline, render, sources
from reportwatch.errors import ConfigError
from reportwatch.fetch import UrlFetcher, is_url
from reportwatch.http_settings import HttpSettings
from reportwatch.notify import Delivery, NotifyPlan, notify, plan_for
from reportwatch.pipeline import Outcome, RunResult
from reportwatch.prefetch import (
    FETCH_WORKERS,
    ParseAhead,
    Prefetched,
    fetch_ahead,
    forked_workers,
    read_ahead,
)
from reportwatch.sources import Item, SourcesFile
from reportwatch.store import Store

BATCHES = 8  # batches a long run is cut into, at most
BATCH_SECONDS = 60.0  # least fetching a batch holds, at the hosts' politeness
MIN_BATCH = 25  # documents a batch has at least (but the last)
MAX_WORKERS = 4
FETCH_RETRIES = 2
RETRY_DELAYS: list[float] = [10.0, 60.0]
CHANGES_KEY = "reportwatch-changes"
SCORES_KEY = "reportwatch-scores"
HOST_LIMIT_PREFIX = "reportwatch-host-"

Limits = frozenset[str]
T = TypeVar("T")
# parse workers `run_flow` forked before Prefect started its threads, for `run_batches` to adopt
FORKED: list[ProcessPoolExecutor] = []
# Bounded: the default pool is unbounded, and costs ~7x more per task on two cores.
TASK_RUNNER: TaskRunner[Any] = ThreadPoolTaskRunner(max_workers=MAX_WORKERS)


# --- what to ingest, where to store it (as the CLI decides) ---


def choose_items(inputs: Sequence[str] | None, config: str | None) -> list[Item]:
    """Return the inputs a run ingests, as `reportwatch ingest` computes them
    (`sources.choose_items`): the named inputs, else every source of the sources file, which is
    the one named, else $REPORTWATCH_CONFIG, else ./reportwatch.toml when it exists. Raises
    ConfigError when there is nothing to ingest."""
    return sources.choose_items(list(inputs or []), sources_file(config))


def sources_file(config: str | None) -> Path | None:
    """Return the sources file a run reads: the one named, else $REPORTWATCH_CONFIG, else
    ./reportwatch.toml when it exists (None: no sources file)."""
    return sources.config_path(config or os.environ.get("REPORTWATCH_CONFIG"))


def store_root(store: str | None) -> Path:
    """Return the store folder: the one named, else $REPORTWATCH_STORE, else ./snapshots."""
    return Path(store or os.environ.get("REPORTWATCH_STORE") or "snapshots")


def batches(items: Sequence[Item], http: HttpSettings) -> list[list[Item]]:
    """Return items in consecutive batches: one batch per BATCH_SECONDS of the least time their
    URLs take to fetch at `http`'s politeness (`polite_seconds`), one at least and BATCHES at
    most, of at least MIN_BATCH items each (but the last)."""
    count = min(BATCHES, max(1, math.ceil(polite_seconds(items, http) / BATCH_SECONDS)))
    size = max(MIN_BATCH, -(-len(items) // count))
    return [list(items[start : start + size]) for start in range(0, len(items), size)]


def polite_seconds(items: Sequence[Item], http: HttpSettings) -> float:
    """Return the least time, in seconds, fetching the items' URLs takes when requests to one
    host start `http.min_interval` apart: that of the host with the most URLs (0 when there are
    no URLs)."""
    hosts = Counter(urlsplit(item.location).hostname for item in items if is_url(item.location))
    return max((count - 1) * http.min_interval for count in hosts.values()) if hosts else 0.0


# --- politeness per host ---


def host_limit(location: str) -> str:
    """Return the name of the Prefect rate limit for a URL's host."""
    return HOST_LIMIT_PREFIX + (urlsplit(location).hostname or "unknown").lower()


def existing_limits(items: Sequence[Item]) -> frozenset[str]:
    """Return the per-host rate limits (limits with a slot decay) that exist for the URL inputs;
    no API call when there are no URLs."""
    names = sorted({host_limit(item.location) for item in items if is_url(item.location)})
    found = set()
    if names:
        with get_client(sync_client=True) as client:
            for name in names:
                try:
                    limit = client.read_global_concurrency_limit_by_name(name)
                except ObjectNotFound:
                    continue
                if limit.slot_decay_per_second:
                    found.add(name)
    return frozenset(found)


# --- tasks ---


class FetchFailed(Exception):
    """Some URLs of a batch failed for a reason that may pass (`FetchError.transient`): raised
    so that the fetch task is retried."""


def transient_failure(task: Task[..., Any], run: TaskRun, state: State[Any]) -> bool:
    """Prefect retry condition of the fetch task: retry only a FetchFailed (some URL failed for
    a transient reason); a failure of the task itself is not retried."""
    try:
        state.result()
    except FetchFailed:
        return True
    except Exception:
        return False
    return False


@task(
    name="fetch-batch",
    retries=FETCH_RETRIES,
    retry_delay_seconds=RETRY_DELAYS,
    retry_condition_fn=transient_failure,
    cache_policy=NO_CACHE,
)
def fetch_batch(
    batch: list[Item],
    store: Store,
    fetcher: UrlFetcher | None,
    ahead: Prefetched,
    limits: Limits,
    parsing: ParseAhead[pipeline.Prepared],
) -> int:
    """Fetch a batch's URLs ahead (local files are read when recorded) into `ahead`, after
    reading what the store holds of them (`prefetch.read_ahead`), and start parsing what they
    answered (`parsing`, in worker processes for a large run: `prefetch.fetch_ahead`); return
    how many failed.
    The task is retried while some URL failed for a transient reason (a connection error, a
    timeout, 429, 5xx), and a retry fetches only those URLs; a 404 is asked once. After the
    last try the errors stay in `ahead` and become those inputs' failed outcomes."""
    urls = [item for item in batch if fetcher is not None and is_url(item.location)]
    pending = [item for item in urls if ahead.needs(item.location)]
    read_ahead(store, pending)
    if fetcher is not None:
        fetch_each(pending, partial(fetch_one, store, fetcher, ahead, limits, parsing))
    failed = [item.location for item in pending if ahead.error(item.location) is not None]
    logger = get_run_logger()
    logger.info("fetched %d URLs of %d inputs, %d failed", len(pending), len(batch), len(failed))
    again = [url for url in failed if ahead.needs(url)]
    if again and task_run.get_run_count() <= FETCH_RETRIES:
        raise FetchFailed(f"{again[0]}: {ahead.error(again[0])} (+{len(again) - 1} more)")
    return len(failed)


@task(name="record-batch", cache_policy=NO_CACHE)
def record_batch(
    batch: list[Item],
    store: Store,
    ahead: Prefetched,
    parsing: ParseAhead[pipeline.Prepared],
    now: datetime,
) -> list[Outcome]:
    """Run each input of a batch through `pipeline.ingest_item` (URLs replayed from `ahead`,
    their reports from `parsing` when parsed ahead). Logs the batch's tally, a line for each
    document that changed in substance and each failure; new, unchanged and republished
    documents (new dates, nothing else) only at DEBUG, since a log line costs the run as much as
    recording a document and the artifacts list them."""
    outcomes = [pipeline.ingest_item(store, item, now, ahead, parsing.parse) for item in batch]
    logger = get_run_logger()
    for outcome in outcomes:
        if outcome.status == "failed":
            logger.warning("%s: %s", outcome.location, outcome.error)
        elif (news := outcome.status == "changed") or logger.isEnabledFor(logging.DEBUG):
            level = logging.INFO if news else logging.DEBUG
            logger.log(level, "%s: %s (v%s)", outcome.document, outcome.status, outcome.version)
    logger.info("recorded %d inputs: %s", len(batch), RunResult(outcomes).tally_line())
    return outcomes


def fetch_one(
    store: Store,
    fetcher: UrlFetcher,
    ahead: Prefetched,
    limits: Limits,
    parsing: ParseAhead[pipeline.Prepared],
    item: Item,
) -> None:
    """Fetch an input's URL into `ahead` once its host's rate limit allows (when it has one),
    and start parsing what it answered (`prefetch.fetch_ahead`)."""
    if host_limit(item.location) in limits:
        rate_limit(host_limit(item.location), strict=False)
    fetch_ahead(store, fetcher, ahead, parsing, item)


def fetch_each(items: Sequence[Item], fetch: Callable[[Item], None]) -> None:
    """Run `fetch` on every item, on FETCH_WORKERS threads (as `pipeline.ingest`'s fetch process
    does, so that one batch keeps the fetcher's requests a host may have in flight), each in
    a copy of the calling task's context: Prefect's rate limit finds its API there."""
    context = contextvars.copy_context()
    with ThreadPoolExecutor(FETCH_WORKERS, thread_name_prefix="fetch-batch") as threads:
        # raises what a fetch raised; a URL's failure is its answer, kept in `ahead`
        list(threads.map(lambda item: context.copy().run(fetch, item), items))


def run_batches(
    items: Sequence[Item], store: Store, fetcher: UrlFetcher | None, http: HttpSettings
) -> list[Outcome]:
    """Submit every batch and return the outcomes in input order. Fetches overlap; each record
    waits for its fetch and for the record before it, so the store is written one batch at a time
    in input order, as `pipeline.ingest` writes it."""
    now = datetime.now(UTC)
    ahead, limits = Prefetched(), existing_limits(items)
    urls = url_total(items)
    recorded: list[PrefectFuture[list[Outcome]]] = []
    workers = FORKED.pop() if FORKED else None
    with ParseAhead(*pipeline.parsers(store), urls, workers) as parsing:
        for batch in batches(items, http):
            inputs = as_is(batch)
            fetched = fetch_batch.submit(inputs, store, fetcher, ahead, limits, parsing)
            after: list[PrefectFuture[Any]] = [fetched, *recorded[-1:]]
            future = record_batch.submit(
                inputs, store, ahead, parsing, now, wait_for=after, return_state=False
            )
            recorded.append(future)
        return [outcome for future in recorded for outcome in future.result()]


def as_is(value: T) -> T:
    """Return a task argument wrapped so that Prefect hands it to the task as it is (`quote`),
    without walking it, through every dataclass, model and collection inside, for futures: a
    batch's inputs, a notify plan holding the whole sources file. The task gets `value`."""
    return cast(T, quote(value))


@task(name="notify", cache_policy=NO_CACHE)
def notify_channels(store: Store, plan: NotifyPlan) -> list[Delivery]:
    """Send each channel what it is owed (`notify.notify`); log what could not be sent."""
    deliveries = notify(store, plan)
    logger = get_run_logger()
    for delivery in deliveries:
        if delivery.error:
            logger.warning(
                "notify %s: %s (kept for the next run)", delivery.channel, delivery.error
            )
        elif delivery.messages:
            logger.info("notified %s: %d messages", delivery.channel, delivery.messages)
    return deliveries


def send_notifications(store: Store, plan: NotifyPlan) -> list[Delivery]:
    """Run the notify task (`notify_channels`) on the store and plan as they are (`as_is`)."""
    return notify_channels(store, as_is(plan))


def read_secret(name: str) -> str:
    """Return the value of a Prefect Secret block (a channel's `url_secret`)."""
    from prefect.blocks.system import Secret

    try:
        block: Any = Secret.load(name)  # typed as maybe-async; in a sync flow it is the block
        return str(block.get())
    except Exception as exc:  # Prefect's own errors: a missing block, a server that is down
        raise ConfigError(f"Prefect Secret {name!r}: {exc}") from exc


def notify_plan(
    settings: SourcesFile, base: Path | None, items: Sequence[Item], store: Store, send: bool
) -> NotifyPlan:
    """Return the run's notify plan, as `reportwatch ingest` makes it, with Prefect Secrets."""
    return plan_for(settings, base, items, store, secret=read_secret, send=send)


# --- artifacts ---


def changes_markdown(result: RunResult) -> str:
    """Return the run's change summaries as Markdown, one per new or changed document, or
    'no changes'; inputs that failed are listed after them."""
    parts = [
        render.markdown_summary(
            render.document_title(o.report, o.document or o.location), o.changes, f" (v{o.version})"
        )
        for o in result.changed()
    ] or ["no changes"]
    if result.failed():
        parts.append(
            "\n".join(["**Failed**", ""] + [f"- {o.location}: {o.error}" for o in result.failed()])
        )
    parts.append(result.tally_line())
    return "\n\n".join(parts)


def score_rows(result: RunResult) -> list[dict[str, Any]]:
    """Return one table row per input: its document, who and what it is about, its headline
    score or grade, its status and version (failed inputs: the location and 'failed')."""
    rows = []
    for outcome in result.outcomes:
        report = outcome.report
        headline = render.report_rows(report)[:1] if report is not None else []
        subject, verdict = headline[0] if headline else ("", "")
        rows.append(
            {
                "document": outcome.document or outcome.location,
                "authority": (report.authority or "(not named)") if report else "",
                "regulator": report.regulator if report else "",
                "statement/judgement": subject,
                "score/grade": verdict,
                "status": outcome.status,
                "version": outcome.version,
            }
        )
    return rows


def publish(result: RunResult) -> None:
    """Create the run's two artifacts: the change summaries and the table of documents."""
    create_markdown_artifact(
        changes_markdown(result), key=CHANGES_KEY, description="What changed in this run"
    )
    create_table_artifact(
        score_rows(result), key=SCORES_KEY, description="Every document this run touched"
    )


# --- the flow ---


@flow(name="ingest", task_runner=TASK_RUNNER)
def ingest_flow(
    inputs: list[str] | None = None,
    config: str | None = None,
    store: str | None = None,
    send: bool = True,
) -> RunResult:
    """Ingest inputs (default: every source in the sources file) into the snapshot store, send
    the notification channels what changed (unless `send` is off), publish it as artifacts, and
    return every input's outcome and delivery."""
    logger = get_run_logger()
    named = sources_file(config)
    settings = sources.settings_of(named)
    items = sources.choose_items(list(inputs or []), named, settings)
    target = Store(store_root(store))
    plan = notify_plan(settings, named.parent if named else None, items, target, send)
    logger.info("ingesting %d inputs into %s", len(items), target.root)
    http = settings.http.settings()
    fetcher = pipeline.url_fetcher(items, http)
    try:
        batched = partial(run_batches, items, target, fetcher, http)
        result = pipeline.locked_run(target, plan, batched, send=send_notifications)
    finally:
        if fetcher is not None:
            fetcher.close()
    publish(result)
    logger.info(result.tally_line())
    return result


def run_flow(
    inputs: Sequence[str] | None = None,
    config: str | Path | None = None,
    store: str | Path | None = None,
    notify: bool = True,
) -> RunResult:
    """Run `ingest_flow` in this process (the CLI's entry when a Prefect API is configured) and
    return its RunResult. Errors (ConfigError, StoreError) are raised as `pipeline.ingest` raises
    them. A run large enough to parse in worker processes forks them first, while this process
    has no other thread (`prefetch.forked_workers`); the flow spawns them otherwise."""
    named = str(config) if config is not None else None
    FORKED[:] = [workers] if (workers := forked_workers(url_count(inputs, named))) else []
    try:
        return ingest_flow(
            inputs=list(inputs) if inputs else None,
            config=named,
            store=str(store) if store is not None else None,
            send=notify,
        )
    finally:
        for unused in FORKED:  # the flow failed before its run started
            unused.shutdown(cancel_futures=True)
        FORKED.clear()


def url_count(inputs: Sequence[str] | None, config: str | None) -> int:
    """Return how many URLs a run of these inputs fetches (0 when there is nothing to ingest:
    the flow raises that error itself)."""
    try:
        return url_total(choose_items(inputs, config))
    except ConfigError:
        return 0


def url_total(items: Sequence[Item]) -> int:
    """Return how many of the items are URLs."""
    return sum(1 for item in items if is_url(item.location))
