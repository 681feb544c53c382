"""The pipeline: sources -> fetch -> extract -> normalize -> store -> diff, as plain Python.

Each stage is a function of its own so that `flows/` can run them as Prefect tasks; `ingest` runs
them in order in-process. One bad input never stops the others: its error is recorded on its
outcome and nothing stored is touched.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from reportwatch.diff import diff_reports, new_report
from reportwatch.errors import IncompleteReport, ReportwatchError, StoreError
from reportwatch.extract import extract
from reportwatch.faults import checkpoint
from reportwatch.fetch import VALIDATOR_KEYS, Fetched, UrlFetcher, fetch, is_url
from reportwatch.http_settings import DEFAULT_SETTINGS, HttpSettings
from reportwatch.ledger import open_ledgers
from reportwatch.model import (
    Change,
    ChangeKind,
    Report,
    SourceInfo,
    SourceState,
    VersionMeta,
)
from reportwatch.normalize import PARSER_VERSION, Defaults, normalize
from reportwatch.notify import Delivery, NotifyPlan, notify
from reportwatch.prefetch import Ahead
from reportwatch.sources import Item
from reportwatch.store import Store
from reportwatch.store_files import report_hash, sha256, to_json
from reportwatch.vocab import slug

if TYPE_CHECKING:
    from reportwatch.http import Fetcher

Status = Literal["new", "changed", "republished", "unchanged", "failed"]
RAW_SUFFIX = {"application/pdf": "pdf", "text/html": "html", "text/markdown": "md"}


@dataclass
class Outcome:
    """What happened to one input in a run."""

    location: str
    status: Status
    document: str | None = None
    version: int | None = None
    report: Report | None = None
    changes: list[Change] = field(default_factory=list)
    error: str | None = None


class RunResult:
    """The outcomes of one run, in input order, and what was delivered to each channel.

    Not a dataclass: Prefect walks a flow's return value through every dataclass and model in
    it, looking for futures, which took seconds over the reports of a large run."""

    def __init__(self, outcomes: list[Outcome], deliveries: list[Delivery] | None = None) -> None:
        """Hold a run's outcomes (and deliveries, none by default)."""
        self.outcomes = outcomes
        self.deliveries: list[Delivery] = deliveries if deliveries is not None else []

    def __repr__(self) -> str:
        """Return the run's tally and how each channel's delivery went, not every outcome: a
        large run's outcomes hold thousands of reports."""
        channels = [f"{d.channel} {'failed' if d.error else 'ok'}" for d in self.deliveries]
        return f"<RunResult {'; '.join([self.tally_line(), *channels])}>"

    def tally_line(self) -> str:
        """Return '5 new, 0 changed, 0 unchanged, 0 failed', with 'N republished' after
        'changed' when some were."""
        counts = self.tally()
        if not counts["republished"]:
            del counts["republished"]  # most runs have none: the line stays as it was
        return ", ".join(f"{n} {status}" for status, n in counts.items())

    def tally(self) -> dict[str, int]:
        """Return how many inputs were new, changed (in substance), republished (new dates and
        nothing else), unchanged and failed."""
        counts = dict.fromkeys(("new", "changed", "republished", "unchanged", "failed"), 0)
        for outcome in self.outcomes:
            counts[outcome.status] += 1
        return counts

    def failed(self) -> list[Outcome]:
        """Return the outcomes of inputs that failed."""
        return [o for o in self.outcomes if o.status == "failed"]

    def changed(self) -> list[Outcome]:
        """Return the outcomes of new documents and of documents changed in substance (not the
        republished ones, which stored a version too)."""
        return [o for o in self.outcomes if o.status in ("new", "changed")]

    def undelivered(self) -> list[Delivery]:
        """Return the channels a delivery failed to (their events wait for the next run)."""
        return [d for d in self.deliveries if d.error is not None]


def document_key(report: Report, location: str) -> str:
    """Return a document's identity, taken from its content: regulator/authority/subject.

    A document that does not name its authority is keyed by where it came from, never by a guess."""
    authority = (
        slug(report.authority) if report.authority else f"unnamed-{slug(Path(location).stem)}"
    )
    subject = {"statement": slug(report.statement or ""), "summary": "summary", "ilacs": "ilacs"}
    return f"{report.regulator.lower()}/{authority}/{subject[report.kind]}"


def parse(fetched: Fetched, defaults: Defaults) -> Report:
    """Return the normalized report of fetched bytes (extract, then normalize)."""
    charset = fetched.http.get("charset")
    extracted = extract(fetched.raw, fetched.location, fetched.media_type, charset)
    source = SourceInfo(location=fetched.location, media_type=extracted.media_type)
    return normalize(extracted, source, defaults)


def changes_against(key: str, report: Report, previous: Report | None) -> list[Change]:
    """Return a report's change records against the version before it (`previous`; None for a
    document not stored yet: a new report)."""
    return new_report(report, key) if previous is None else diff_reports(previous, report, key)


@dataclass(frozen=True)
class Prepared:
    """A fetched input made ready to record: its report, its document's key and its change
    records against the document's latest version as the store held it when read (`base`, None
    for a document not stored yet). `changes` is empty when the input is unchanged (then
    `base_report` is the stored report); `stored` is the report as stored and its hash, when
    it changed. Made where the input was parsed, so that a worker process does this work."""

    report: Report
    key: str
    raw_sha256: str
    base: int | None
    changes: list[Change]
    base_report: Report | None = None
    stored: tuple[bytes, str] | None = None


Prepare = Callable[[Fetched, Defaults], Prepared]


def prepare(store: Store, fetched: Fetched, report: Report) -> Prepared:
    """Return fetched bytes and their report made ready to record against the store as it is
    now: identical bytes, or bytes that normalize to the same report, have no changes."""
    key = document_key(report, fetched.location)
    latest = store.head(key)
    raw_sha256 = sha256(fetched.raw)
    base, previous = (latest.meta.version, latest.report) if latest else (None, None)
    same_bytes = latest is not None and latest.meta.raw_sha256 == raw_sha256
    changes = [] if same_bytes else changes_against(key, report, previous)
    if not changes:
        return Prepared(report, key, raw_sha256, base, [], previous)
    report_json = to_json(report)
    return Prepared(
        report, key, raw_sha256, base, changes, stored=(report_json, sha256(report_json))
    )


def prepare_parsed(root: Path, fetched: Fetched, defaults: Defaults) -> Prepared:
    """Return fetched bytes parsed (`parse`) and prepared (`prepare`) against the store at
    `root`, read without its lock: what a parse worker process runs. Only the run holding the
    lock writes, and `record` prepares again an input whose document it wrote after the read."""
    return prepare(store_reader(root), fetched, parse(fetched, defaults))


@functools.cache
def store_reader(root: Path) -> Store:
    """Return a Store for reading at `root` (one a worker process)."""
    return Store(root)


def preparer(store: Store) -> Prepare:
    """Return what parses and prepares fetched bytes against `store` in this process."""
    return lambda fetched, defaults: prepare(store, fetched, parse(fetched, defaults))


def parsers(store: Store) -> tuple[Prepare, Prepare]:
    """Return what parses and prepares fetched bytes against `store`: in this process (the run's
    own Store), and in a parse worker (`prepare_parsed`, reading the same folder)."""
    return preparer(store), functools.partial(prepare_parsed, store.root)


def record(store: Store, fetched: Fetched, prepared: Prepared, now: datetime) -> Outcome:
    """Store a new version when the prepared input has changes; return the outcome. An input
    whose document had a version written in this run after it was prepared is prepared again."""
    if store.wrote(prepared.key):
        prepared = prepare(store, fetched, prepared.report)
    key, report, base = prepared.key, prepared.report, prepared.base
    checkpoint("diff.done")
    if not prepared.changes:
        assert base is not None and prepared.base_report is not None
        return Outcome(fetched.location, "unchanged", key, base, prepared.base_report)
    number = (base or 0) + 1
    assert prepared.stored is not None  # `prepare` renders a report that changed
    report_json, report_sha256 = prepared.stored
    meta = VersionMeta(
        document=key,
        version=number,
        source=fetched.location,
        media_type=report.source.media_type,
        ingested_at=now.isoformat(timespec="seconds"),
        raw_file=f"raw.{RAW_SUFFIX.get(report.source.media_type, 'txt')}",
        raw_sha256=prepared.raw_sha256,
        report_sha256=report_sha256,
        parser_version=PARSER_VERSION,
        authority_from_config=report.authority if report.authority_from == "config" else None,
        http=fetched.http,
    )
    store.add_version(meta, fetched.raw, report, prepared.changes, report_json)
    status = stored_status(number, prepared.changes)
    return Outcome(fetched.location, status, key, number, report, prepared.changes)


def stored_status(number: int, changes: list[Change]) -> Status:
    """Return the status of an input that stored version `number` with `changes`: new, changed
    (in substance), or republished (new dates, nothing else: `substantive`)."""
    if number == 1:
        return "new"
    return "changed" if substantive(changes) else "republished"


def run_stages(
    store: Store,
    item: Item,
    now: datetime,
    state: SourceState,
    fetcher: UrlFetcher | None,
    preparing: Prepare | None = None,
) -> tuple[Outcome, Fetched]:
    """Run one input through fetch -> extract -> normalize -> diff (`preparing`, by default in
    this process) -> store; a 304 answer is "unchanged" without parsing anything."""
    fetched = fetch(item.location, fetcher, state.validators or None)
    checkpoint("fetch.done")
    if fetched.not_modified and state.document and (latest := store.latest_report(state.document)):
        number, report = latest
        return Outcome(item.location, "unchanged", state.document, number, report), fetched
    try:
        prepared = (preparing or preparer(store))(fetched, item.defaults)
    except IncompleteReport as exc:
        folder = store.quarantine(
            item.location, fetched.raw, str(exc), now.isoformat("T", "seconds")
        )
        raise IncompleteReport(f"{exc}; quarantined in {folder}") from exc
    return record(store, fetched, prepared, now), fetched


def ingest_item(
    store: Store,
    item: Item,
    now: datetime,
    fetcher: UrlFetcher | None = None,
    preparing: Prepare | None = None,
) -> Outcome:
    """Run one input through every stage (`preparing`: by default in this process, or what
    hands over inputs prepared ahead) and remember how it went (validators, consecutive
    failures); a failure becomes the outcome's one-line error and touches nothing stored."""
    state = store.source_state(item.location)
    when = now.isoformat(timespec="seconds")
    try:
        outcome, fetched = run_stages(store, item, now, state, fetcher, preparing)
    except StoreError:
        raise
    except ReportwatchError as exc:
        outcome = Outcome(item.location, "failed", error=str(exc))
    except Exception as exc:  # a bug met on one input must not stop the others
        outcome = Outcome(item.location, "failed", error=f"internal error: {exc!r}")
    new_state = next_state(state, outcome, fetched if outcome.status != "failed" else None, when)
    if is_url(item.location) or new_state.consecutive_failures or state.consecutive_failures:
        store.save_source_state(new_state)
    return outcome


def next_state(
    state: SourceState, outcome: Outcome, fetched: Fetched | None, when: str
) -> SourceState:
    """Return an input's state after a run: a failure adds to its run of failures; a success
    resets it and keeps the validators for the next conditional request."""
    if fetched is None:
        return state.model_copy(
            update={
                "consecutive_failures": state.consecutive_failures + 1,
                "failure_runs": state.failure_runs + (state.consecutive_failures == 0),
                "last_error": outcome.error,
                "last_failure_at": when,
            }
        )
    validators = state.validators if fetched.not_modified else fetched.http
    succeeding = state.consecutive_failures == 0 and state.succeeding_since is not None
    return state.model_copy(
        update={
            "document": outcome.document,
            "validators": {k: v for k, v in validators.items() if k in VALIDATOR_KEYS},
            "consecutive_failures": 0,
            "last_error": None,
            "succeeding_since": state.succeeding_since if succeeding else when,
        }
    )


def ingest(
    items: list[Item],
    store: Store,
    now: datetime | None = None,
    plan: NotifyPlan | None = None,
    http: HttpSettings = DEFAULT_SETTINGS,
) -> RunResult:
    """Ingest inputs into the store under its lock, then (with a plan) send each channel what it
    is owed; return every input's outcome and every channel's delivery. URLs share one fetcher
    (its connection pools) for the run, fetching as `http` (the sources file's [http]) says;
    they are fetched and parsed ahead (`prefetch.Ahead`) while inputs are recorded one at a
    time, in input order."""
    moment = now or datetime.now(UTC)
    fetcher = url_fetcher(items, http)
    try:
        return locked_run(store, plan, lambda: ingest_all(items, store, moment, fetcher))
    finally:
        if fetcher is not None:
            fetcher.close()


def url_fetcher(items: Sequence[Item], http: HttpSettings) -> Fetcher | None:
    """Return the run's HTTP fetcher (one a run, with the sources file's [http] settings; a
    redirect may reach the private addresses of the URLs the run names), or None when no input
    is a URL (then urllib3 is never imported)."""
    urls = [item.location for item in items if is_url(item.location)]
    if not urls:
        return None
    from reportwatch.http import Fetcher

    return Fetcher(http, named=urls)


def locked_run(
    store: Store,
    plan: NotifyPlan | None,
    outcomes: Callable[[], list[Outcome]],
    send: Callable[[Store, NotifyPlan], list[Delivery]] = notify,
) -> RunResult:
    """Return a run done under the store's lock: the channels' ledgers opened first (so the
    run's own changes are owed to them), then `outcomes` run and the store committed (so its
    versions and input states are in place), then (with a plan that sends) each channel sent
    what it is owed by `send`. `pipeline.ingest` and the Prefect flow both
    run this way."""
    with store.locked():
        if plan is not None:
            open_ledgers(store, plan.channels)
        result = RunResult(outcomes())
        store.commit()
        if plan is not None and plan.send:
            result.deliveries = send(store, plan)
        checkpoint("run.end")
        return result


def ingest_all(
    items: list[Item], store: Store, now: datetime, fetcher: UrlFetcher | None
) -> list[Outcome]:
    """Return the outcome of each input, run through `ingest_item` in input order, its URL
    fetched and parsed ahead when there is a fetcher."""
    if fetcher is None:
        return [ingest_item(store, item, now) for item in items]
    with Ahead(store, fetcher, items, parsers(store)) as ahead:
        return [ingest_item(store, item, now, ahead, ahead.parse) for item in items]


def deliver_owed(store: Store, plan: NotifyPlan) -> list[Delivery]:
    """Send each channel what it is owed, without ingesting anything; return the deliveries."""
    with store.locked():
        open_ledgers(store, plan.channels)
        return notify(store, plan)


def substantive(changes: list[Change]) -> list[Change]:
    """Return the changes that are news (everything but a republish with nothing else)."""
    return [c for c in changes if c.kind is not ChangeKind.REPUBLISHED]


@dataclass
class Reparsed:
    """What `reparse` did to one document's history."""

    document: str
    versions: int
    rewritten: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def reparse_document(store: Store, key: str) -> Reparsed:
    """Re-derive every version of a document from its stored raw bytes with the current parser,
    rewriting the normalized report and change records where they differ. Raw bytes are never
    touched, and nothing is notified: these changes are the parser's, not the report's."""
    numbers = store.versions(key)
    result = Reparsed(key, len(numbers))
    previous: Report | None = None
    for number in numbers:
        version = store.load(key, number)
        fetched = Fetched(version.meta.source, store.raw(key, number), version.meta.media_type)
        try:
            report = parse(fetched, Defaults(authority=version.meta.authority_from_config))
        except ReportwatchError as exc:
            result.errors.append(f"v{number}: {exc} (left as it was)")
            previous = version.report
            continue
        if document_key(report, fetched.location) != key:
            result.errors.append(f"v{number}: now reads as {document_key(report, key)}; left here")
        changes = changes_against(key, report, previous)
        if report != version.report or tuple(changes) != version.changes:
            meta = version.meta.model_copy(
                update={"parser_version": PARSER_VERSION, "report_sha256": report_hash(report)}
            )
            store.rewrite_derived(
                version.model_copy(
                    update={"meta": meta, "report": report, "changes": tuple(changes)}
                )
            )
            result.rewritten.append(number)
        previous = report
    return result


def reparse(store: Store) -> list[Reparsed]:
    """Re-derive the whole store's history under its lock; return what changed per document."""
    with store.locked():
        return [reparse_document(store, key) for key in store.documents()]
