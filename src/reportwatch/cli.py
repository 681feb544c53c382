"""The `reportwatch` command: ingest, history, show, diff, reparse, sources, check, migrate.

`ingest` runs the pipeline; the other commands read the store directly. Exit status: 0 all went
well, 1 some input failed (the others were still ingested), 2 a usage, config or store error.
"""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Callable
from functools import partial, wraps
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from reportwatch import pipeline, render, render_run
from reportwatch.check import as_json as check_json
from reportwatch.check import as_text as check_text
from reportwatch.check import check_store
from reportwatch.diff import diff_reports
from reportwatch.errors import ReportwatchError, StoreError
from reportwatch.notify import Delivery, plan_for
from reportwatch.sources import (
    DEFAULT_FILE,
    SourcesFile,
    choose_items,
    config_path,
    items_from_config,
    load_sources,
    settings_of,
)
from reportwatch.store import Store
from reportwatch.store_format import FORMAT_FILE, current_format
from reportwatch.store_lock import LOCK_TIMEOUT_ENV

F = TypeVar("F", bound=Callable[..., Any])


def store_option(func: F) -> F:
    """Add the --store option (env REPORTWATCH_STORE, default ./snapshots)."""
    return click.option(
        "--store",
        "store_path",
        envvar="REPORTWATCH_STORE",
        default="snapshots",
        show_default=True,
        type=click.Path(file_okay=False, path_type=Path),
        help="Snapshot store folder.",
    )(func)


def config_option(func: F) -> F:
    """Add the --config option (env REPORTWATCH_CONFIG, default ./reportwatch.toml if present)."""
    return click.option(
        "--config",
        "config_file",
        envvar="REPORTWATCH_CONFIG",
        type=click.Path(dir_okay=False, path_type=Path),
        help=f"Sources file (default: ./{DEFAULT_FILE} if present).",
    )(func)


def json_option(func: F) -> F:
    """Add the --json flag."""
    return click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")(func)


def reports_errors(func: F) -> F:
    """Turn the project's errors into one line on stderr and exit status 2."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ReportwatchError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(2)

    return wrapper  # type: ignore[return-value]


@click.group()
@click.version_option(package_name="reportwatch")
def main() -> None:
    """Watch published inspection reports (CQC, Ofsted) and tell people what changed."""


@main.command()
@click.argument("inputs", nargs=-1)
@config_option
@click.option(
    "--prefect/--no-prefect",
    "use_prefect",
    default=None,
    help="Run as a Prefect flow (default: when PREFECT_API_URL is set).",
)
@click.option(
    "--notify/--no-notify",
    "send",
    default=True,
    help="Send the channels what changed (default); --no-notify keeps it owed to them.",
)
@store_option
@click.option(
    "--lock-timeout",
    type=click.FloatRange(min=0),
    envvar=LOCK_TIMEOUT_ENV,
    help="Seconds to wait for another run holding the store (default 600), then exit 2.",
)
@json_option
@reports_errors
def ingest(
    inputs: tuple[str, ...],
    config_file: Path | None,
    use_prefect: bool | None,
    send: bool,
    store_path: Path,
    lock_timeout: float | None,
    as_json: bool,
) -> None:
    """Ingest INPUTS (files, folders, globs, URLs; none: every source in the sources file),
    store a version of each document that changed, print what changed and send it to the
    notification channels of the sources file (none configured: the store's outbox folder)."""
    path = config_path(config_file)
    config = settings_of(path)
    items = choose_items(list(inputs), path, config)
    if use_prefect or (use_prefect is None and os.environ.get("PREFECT_API_URL")):
        from reportwatch_flows.ingest import run_flow  # Prefect is imported only on this path

        if lock_timeout is not None:  # the flow opens the store itself, reading this
            os.environ[LOCK_TIMEOUT_ENV] = f"{lock_timeout:g}"
        run = partial(run_flow, list(inputs), path, store_path, notify=send)
    else:
        store = Store(store_path, lock_timeout)
        plan = plan_for(config, path.parent if path else None, items, store, send=send)
        run = partial(pipeline.ingest, items, store, plan=plan, http=config.http.settings())
    gc.freeze()  # see `exit_without_collecting`
    result = run()
    click.echo(
        render.to_json(render_run.ingest_json(result))
        if as_json
        else render_run.ingest_text(result)
    )
    for outcome in result.failed():
        click.echo(f"error: {outcome.location}: {outcome.error}", err=True)
    report_undelivered(result.deliveries)
    exit_without_collecting(1 if result.failed() or result.undelivered() else 0)


def exit_without_collecting(status: int) -> NoReturn:
    """Exit with `status`, the objects alive now exempt from the garbage collector (`gc.freeze`).

    Python's last collection at exit walks every object still alive, and a run ends holding
    its reports (and, as a flow, Prefect's modules and models): 0.45 s of a 1,683-document
    Prefect run went to it. Frozen at the start of the run, the imported modules are skipped by
    the collections during it too."""
    gc.freeze()
    sys.exit(status)


def report_undelivered(deliveries: list[Delivery]) -> None:
    """Say on stderr, one line a channel, what could not be delivered and that it is kept."""
    for delivery in deliveries:
        if delivery.error is not None:
            click.echo(
                f"error: notify {delivery.channel}: {delivery.error}; "
                f"{render.counted(delivery.owed, 'event')} kept for the next run",
                err=True,
            )


@main.command()
@click.argument("document", required=False)
@store_option
@json_option
@reports_errors
def history(document: str | None, store_path: Path, as_json: bool) -> None:
    """List stored documents, or the versions of one DOCUMENT (a key or part of one)."""
    store = Store(store_path)
    store.check_format()
    if document is None:
        click.echo(render_run.documents_listing(store, as_json))
    else:
        click.echo(render_run.versions_listing(store, store.resolve(document), as_json))


@main.command()
@click.argument("document")
@click.option("--version", "number", type=int, help="Version number (default: the latest).")
@store_option
@json_option
@reports_errors
def show(document: str, number: int | None, store_path: Path, as_json: bool) -> None:
    """Print one version of a DOCUMENT (default: the latest)."""
    store = Store(store_path)
    store.check_format()
    key = store.resolve(document)
    version = store.load(key, number or store.versions(key)[-1])
    if as_json:
        click.echo(render.to_json({"meta": version.meta, "report": version.report}))
    else:
        click.echo(
            f"{key} v{version.meta.version} ({version.meta.ingested_at}, "
            f"{version.meta.source})\n\n{render.report_text(version.report)}"
        )


@main.command()
@click.argument("document")
@click.argument("old", type=int, required=False)
@click.argument("new", type=int, required=False)
@store_option
@json_option
@reports_errors
def diff(document: str, old: int | None, new: int | None, store_path: Path, as_json: bool) -> None:
    """Print the changes between two versions of a DOCUMENT (default: the last two)."""
    store = Store(store_path)
    store.check_format()
    key = store.resolve(document)
    numbers = store.versions(key)
    new = new or numbers[-1]
    old = old or (numbers[numbers.index(new) - 1] if numbers.index(new) > 0 else new)
    before, after = store.load(key, old), store.load(key, new)
    changes = diff_reports(before.report, after.report, key)
    if as_json:
        click.echo(render.to_json({"document": key, "from": old, "to": new, "changes": changes}))
    elif not changes:
        click.echo(f"{key}: v{old} → v{new}: no changes")
    else:
        title = render.document_title(after.report, key)
        click.echo(render.text_summary(title, changes, f" (v{old} → v{new})"))


@main.command()
@store_option
@json_option
@reports_errors
def reparse(store_path: Path, as_json: bool) -> None:
    """Re-derive every stored version from its raw bytes with the current parser. What changes
    is the parser's doing, so nothing is notified."""
    results = pipeline.reparse(Store(store_path))
    if as_json:
        click.echo(render.to_json([r.__dict__ for r in results]))
        return
    for r in results:
        done = ", ".join(f"v{n}" for n in r.rewritten) or "nothing"
        click.echo(f"{r.document}: {render.counted(r.versions, 'version')}, re-derived {done}")
        for error in r.errors:
            click.echo(f"  error: {error}", err=True)
    documents = render.counted(len(results), "document")
    rewritten = render.counted(sum(len(r.rewritten) for r in results), "version")
    click.echo(f"reparsed {documents}; {rewritten} re-derived; no alerts")


@main.command()
@config_option
@json_option
@reports_errors
def sources(config_file: Path | None, as_json: bool) -> None:
    """List and check the sources file: each source and the inputs it names now."""
    path = config_path(config_file)
    if path is None:
        raise click.UsageError(f"no sources file: write {DEFAULT_FILE} or pass --config")
    config = load_sources(path)
    rows = []
    for source in config.source:
        count = len(items_from_config(SourcesFile(source=[source]), path.parent))
        location = source.url or source.urls or source.path or ""
        tags = ",".join(source.tags)
        rows.append([location, source.authority or "", source.regulator or "", tags, str(count)])
    if as_json:
        fields = ("source", "authority", "regulator", "tags", "inputs")
        click.echo(render.to_json([dict(zip(fields, row, strict=True)) for row in rows]))
        return
    click.echo(render.table(["SOURCE", "AUTHORITY", "REGULATOR", "TAGS", "INPUTS"], rows))
    click.echo(f"{path}: {render.counted(len(rows), 'source')}, ok")


@main.command(name="notify")
@config_option
@store_option
@json_option
@reports_errors
def notify_command(config_file: Path | None, store_path: Path, as_json: bool) -> None:
    """Send each channel what it is owed (changes a failed delivery kept), without ingesting."""
    path = config_path(config_file)
    config = settings_of(path)
    items = items_from_config(config, path.parent) if path is not None else []
    store = Store(store_path)
    base = path.parent if path is not None else None
    deliveries = pipeline.deliver_owed(store, plan_for(config, base, items, store))
    if as_json:
        click.echo(render.to_json([d.__dict__ for d in deliveries]))
    else:
        click.echo(render_run.deliveries_text(deliveries) or "nothing owed")
    report_undelivered(deliveries)
    sys.exit(1 if any(d.error for d in deliveries) else 0)


@main.command()
@store_option
@json_option
@reports_errors
def check(store_path: Path, as_json: bool) -> None:
    """Verify every stored version against its hashes and schemas; report each problem as one
    line naming the file and the reason. Repairs nothing. Exit 1 when problems are found."""
    result = check_store(Store(store_path))
    click.echo(render.to_json(check_json(result)) if as_json else check_text(result))
    sys.exit(1 if result.problems else 0)


@main.command()
@store_option
@reports_errors
def migrate(store_path: Path) -> None:
    """Bring the store up to this reportwatch's format now (ingest does it on its first run)."""
    store = Store(store_path)
    if not (store.root / FORMAT_FILE).exists():
        raise StoreError(f"{store.root}: no store here")
    with store.locked():
        pass  # taking the lock migrates; each step says so on stderr
    click.echo(f"{store.root}: store format {current_format()}, up to date")


@main.command()
@config_option
@store_option
@click.option(
    "--cron", default="0 7 * * *", show_default=True, help="When to run, Europe/London time."
)
def serve(config_file: Path | None, store_path: Path, cron: str) -> None:
    """Serve the scheduled ingest deployment on this machine until interrupted (needs a Prefect
    API: PREFECT_API_URL, or Prefect's own default)."""
    from reportwatch_flows.serve import serve as serve_deployment

    path = config_path(config_file)
    serve_deployment(config=str(path) if path else None, store=str(store_path), cron=cron)
