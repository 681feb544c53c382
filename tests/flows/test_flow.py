"""The ingest flow in-process (Prefect test harness): outcomes, the store it writes compared with
`pipeline.ingest`'s, the two artifacts, retries and rate limits, and the deployment definitions."""

from __future__ import annotations

import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
import yaml
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    LogFilter,
    LogFilterFlowRunId,
)
from prefect.client.schemas.objects import ConcurrencyLimitStrategy
from prefect.flows import load_flow_from_entrypoint
from prefect.logging.handlers import APILogWorker
from prefect.states import Completed, Failed, State
from pytest_httpserver import HTTPServer
from slow_handler import InFlight
from werkzeug import Request, Response

import reportwatch_flows.ingest as flows_ingest
from benchmarks.corpus import STATE_OF_PHASE, write_corpus
from benchmarks.server import CorpusServer
from reportwatch import pipeline, prefetch, processes, store_format
from reportwatch.errors import ConfigError, FetchError
from reportwatch.http_settings import HttpSettings
from reportwatch.model import ChangeKind
from reportwatch.pipeline import RunResult
from reportwatch.sources import Item, items_from_args, items_from_config, load_sources
from reportwatch.store import Store
from reportwatch_flows import serve as flows_serve
from reportwatch_flows.ingest import choose_items, existing_limits, ingest_flow, run_flow

from .conftest import ROOT, SEEDS, stored
from conftest import LEARNING_EALING, cqc_page

HF = "cqc/hammersmith-and-fulham/learning-improvement-and-innovation"
DOCUMENTS = [
    HF,
    "cqc/hammersmith-and-fulham/governance-management-and-sustainability",
    "ofsted/hammersmith-and-fulham/ilacs",
    "cqc/ealing/learning-improvement-and-innovation",
    "cqc/unnamed-004-be58087aa61b4f94/learning-improvement-and-innovation",
]
EDITED_SEED = "000_c2e9ab2eba705b57.txt"
harness = pytest.mark.usefixtures("prefect_harness")


# --- helpers ---


def run(inputs: list[str] | None, store: str, config: str | None = None) -> tuple[RunResult, UUID]:
    """Run the flow; return its result and its flow run id."""
    state = ingest_flow(inputs=inputs, config=config, store=store, return_state=True)
    result: RunResult = state.result()
    assert state.state_details.flow_run_id is not None
    return result, state.state_details.flow_run_id


def plain(inputs: list[str], store: str) -> RunResult:
    """Ingest inputs the way `reportwatch ingest INPUTS` does, without Prefect."""
    return pipeline.ingest(items_from_args(inputs, None, Path()), Store(store))


def statuses(result: RunResult) -> list[tuple[str, str | None, int | None]]:
    """Return each outcome's status, document and version."""
    return [(o.status, o.document, o.version) for o in result.outcomes]


def record_logs(flow_run_id: UUID) -> list[str]:
    """Return what a flow run's record-batch tasks logged, in order, as the Prefect UI shows it."""
    APILogWorker.drain_all(timeout=5)  # logs are sent in batches, in the background
    with get_client(sync_client=True) as client:
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])))
    lines = [log.message for log in sorted(logs, key=lambda log: log.timestamp)]
    return [line for line in lines if line.startswith(("recorded ", "cqc/", "ofsted/"))]


def artifacts(flow_run_id: UUID) -> dict[str, Any]:
    """Return a flow run's artifacts by key: the Markdown text, the table's rows."""
    flow_runs = FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id]))
    with get_client(sync_client=True) as client:
        found = client.read_artifacts(flow_run_filter=flow_runs)
    by_key = {a.key: a for a in found}
    assert set(by_key) == {"reportwatch-changes", "reportwatch-scores"}
    assert by_key["reportwatch-changes"].type == "markdown"
    assert by_key["reportwatch-scores"].type == "table"
    table = by_key["reportwatch-scores"].data
    return {
        "reportwatch-changes": by_key["reportwatch-changes"].data,
        "reportwatch-scores": json.loads(table) if isinstance(table, str) else table,
    }


def edit_seed(project: Path) -> None:
    """Reword one finding of one seed in the project's copy."""
    path = project / "seeds" / EDITED_SEED
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("improving recruitment", "improving staff recruitment"))


# --- runs over the seeds ---


@harness
def test_runs_store_what_pipeline_ingest_stores(project: Path) -> None:
    first, _ = run(["seeds"], "flow-store")
    assert statuses(first) == [("new", key, 1) for key in DOCUMENTS]
    assert statuses(first) == statuses(plain(["seeds"], "plain-store"))

    second, _ = run(["seeds"], "flow-store")
    assert statuses(second) == [("unchanged", key, 1) for key in DOCUMENTS]
    assert statuses(second) == statuses(plain(["seeds"], "plain-store"))

    edit_seed(project)
    third, _ = run(["seeds"], "flow-store")
    assert statuses(third) == [("changed", HF, 2)] + [("unchanged", k, 1) for k in DOCUMENTS[1:]]
    assert statuses(third) == statuses(plain(["seeds"], "plain-store"))

    assert len(stored(project / "flow-store")) == 6  # versions
    assert stored(project / "flow-store") == stored(project / "plain-store")
    sent = [(d.channel, d.messages, d.events, d.error) for d in third.deliveries]
    assert sent == [("outbox", 1, 1, None), ("feed", 1, 1, None)]
    assert len(list((project / "flow-store/outbox").glob("*.md"))) == 2


@harness
def test_a_channel_url_from_a_prefect_secret_is_delivered_to(
    project: Path, httpserver: HTTPServer
) -> None:
    from prefect.blocks.system import Secret

    received: list[str] = []

    def receive(request: Request) -> Response:
        received.append(json.loads(request.get_data())["title"])
        return Response("ok")

    httpserver.expect_request("/hook", method="POST").respond_with_handler(receive)
    Secret(value=f"json://127.0.0.1:{httpserver.port}/hook").save("team-hook", overwrite=True)
    Path("reportwatch.toml").write_text(
        '[[source]]\npath = "seeds"\n[[channel]]\nname = "team"\nurl_secret = "team-hook"\n'
    )
    run(None, "store")
    edit_seed(project)
    result, _ = run(None, "store")
    sent = [(d.channel, d.messages, d.error) for d in result.deliveries]
    assert sent == [("team", 1, None), ("feed", 1, None)]
    assert received[1] == (
        "Hammersmith and Fulham · Learning, improvement and innovation: finding reworded in "
        "Key findings"
    )


@harness
def test_a_missing_prefect_secret_is_one_line_and_keeps_the_changes(project: Path) -> None:
    Path("reportwatch.toml").write_text(
        '[[source]]\npath = "seeds"\n[[channel]]\nname = "team"\nurl_secret = "no-such-secret"\n'
    )
    result, _ = run(None, "store")
    [team, feed] = result.deliveries
    assert (team.channel, team.messages, team.owed) == ("team", 0, 5)
    assert team.error is not None
    assert team.error.startswith("Prefect Secret 'no-such-secret': ")
    assert (feed.channel, feed.messages, feed.error) == ("feed", 1, None)


@harness
def test_artifacts_say_what_changed_and_list_every_document(project: Path) -> None:
    _, first = run(["seeds"], "store")
    published = artifacts(first)
    markdown = published["reportwatch-changes"]
    assert markdown.startswith(
        "**Hammersmith and Fulham · Learning, improvement and innovation** (v1)\n\n"
        "- new report: 2 - Evidence shows some shortfalls\n\n"
    )
    assert "**Ealing · Learning, improvement and innovation** (v1)" in markdown
    assert markdown.endswith("\n\n5 new, 0 changed, 0 unchanged, 0 failed")
    rows = published["reportwatch-scores"]
    assert [row["document"] for row in rows] == DOCUMENTS
    assert rows[2] == {
        "document": "ofsted/hammersmith-and-fulham/ilacs",
        "authority": "Hammersmith and Fulham",
        "regulator": "Ofsted",
        "statement/judgement": "Overall effectiveness",
        "score/grade": "Good",
        "status": "new",
        "version": 1,
    }
    assert rows[4]["authority"] == "(not named)"

    _, second = run(["seeds"], "store")
    assert artifacts(second)["reportwatch-changes"] == (
        "no changes\n\n0 new, 0 changed, 5 unchanged, 0 failed"
    )

    edit_seed(project)
    _, third = run(["seeds"], "store")
    published = artifacts(third)
    assert published["reportwatch-changes"] == (
        "**Hammersmith and Fulham · Learning, improvement and innovation** (v2)\n\n"
        "- finding reworded in Key findings\n"
        "  > … an implementation plan, which included improving **staff** recruitment and"
        " retention, and learning and …\n\n"
        "0 new, 1 changed, 4 unchanged, 0 failed"
    )
    assert [(r["status"], r["version"]) for r in published["reportwatch-scores"]] == [
        ("changed", 2),
        *[("unchanged", 1)] * 4,
    ]
    # the UI's log: a batch's tally and the document that changed, not the unchanged ones
    assert record_logs(third) == [
        "cqc/hammersmith-and-fulham/learning-improvement-and-innovation: changed (v2)",
        "recorded 5 inputs: 0 new, 1 changed, 4 unchanged, 0 failed",
    ]
    assert record_logs(first) == ["recorded 5 inputs: 5 new, 0 changed, 0 unchanged, 0 failed"]


@harness
def test_a_republish_is_only_counted_in_the_log_and_the_changes(project: Path) -> None:
    page = project / "page.html"
    page.write_bytes(cqc_page(LEARNING_EALING))
    run(["page.html"], "store")
    page.write_bytes(cqc_page(LEARNING_EALING, updated="9 May 2025"))  # a new date, nothing else
    result, flow_run_id = run(["page.html"], "store")
    assert [(o.status, [c.kind for c in o.changes]) for o in result.outcomes] == [
        ("republished", [ChangeKind.REPUBLISHED])
    ]
    tally = "0 new, 0 changed, 1 republished, 0 unchanged, 0 failed"
    assert record_logs(flow_run_id) == [f"recorded 1 inputs: {tally}"]
    published = artifacts(flow_run_id)
    assert published["reportwatch-changes"] == f"no changes\n\n{tally}"
    assert [row["status"] for row in published["reportwatch-scores"]] == ["republished"]


@harness
def test_a_bad_input_fails_alone_and_is_listed(project: Path) -> None:
    result, flow_run_id = run(["seeds", "missing.txt"], "store")
    expected = plain(["seeds", "missing.txt"], "plain-store")
    assert statuses(result) == statuses(expected)
    assert [(o.status, o.error) for o in result.failed()] == [("failed", "no such file")]
    assert result.failed()[0].error == expected.failed()[0].error
    published = artifacts(flow_run_id)
    assert published["reportwatch-changes"].endswith(
        "**Failed**\n\n- missing.txt: no such file\n\n5 new, 0 changed, 0 unchanged, 1 failed"
    )
    assert published["reportwatch-scores"][-1] == {
        "document": "missing.txt",
        "authority": "",
        "regulator": "",
        "statement/judgement": "",
        "score/grade": "",
        "status": "failed",
        "version": None,
    }


@harness
def test_sources_file_run_matches_pipeline_and_run_flow_returns_the_result(project: Path) -> None:
    config = project / "reportwatch.toml"
    config.write_text('[[source]]\npath = "seeds"\nauthority = "Barnet"\nregulator = "CQC"\n')
    result = run_flow(None, config, project / "flow-store")
    assert isinstance(result, RunResult)
    items = items_from_config(load_sources(config), project)
    expected = pipeline.ingest(items, Store(project / "plain-store"))
    assert statuses(result) == statuses(expected)
    assert "cqc/barnet/learning-improvement-and-innovation" in [o.document for o in result.outcomes]
    assert stored(project / "flow-store") == stored(project / "plain-store")


@harness
@pytest.mark.parametrize("fork", [True, False], ids=["forked-workers", "spawned-workers"])
def test_a_url_run_parsed_in_worker_processes_stores_what_pipeline_ingest_stores(
    project: Path, monkeypatch: pytest.MonkeyPatch, fork: bool
) -> None:
    monkeypatch.setattr(prefetch, "POOL_MIN_URLS", 1)  # 11 URLs: parse them in worker processes
    # run_flow forks the workers before the flow starts when the process has no other thread
    # (the harness's threads run here, so the choice is made for it), and the flow adopts them
    monkeypatch.setattr(processes, "can_fork", lambda: fork)
    methods: list[str] = []
    context = processes.multiprocessing.get_context
    monkeypatch.setattr(
        processes.multiprocessing, "get_context", lambda m: methods.append(m) or context(m)
    )
    write_corpus(project / "corpus", 1)
    paths = json.loads((project / "corpus/truth.json").read_text())["paths"]
    server = CorpusServer(project / "corpus").start()
    try:
        config = project / "reportwatch.toml"
        sources = "".join(f'[[source]]\nurl = "{server.base}{path}"\n\n' for path in paths)
        config.write_text("[http]\nmin_interval = 0.0\n\n" + sources)
        settings = load_sources(config)
        for phase in ("cold", "changed"):
            server.switch(STATE_OF_PHASE[phase])
            result = run_flow(None, config, project / "flow-store")
            items = items_from_config(settings, project)
            http = settings.http.settings()
            expected = pipeline.ingest(items, Store(project / "plain-store"), http=http)
            assert statuses(result) == statuses(expected), phase
            assert [o.changes for o in result.outcomes] == [o.changes for o in expected.outcomes]
    finally:
        server.stop()
    assert stored(project / "flow-store") == stored(project / "plain-store")
    assert {status for status, _, _ in statuses(result)} == {"changed", "republished", "unchanged"}
    # a run of each: the flow's one pool (forked ahead, then adopted); pipeline.ingest's fetch
    # process, then its pool
    assert methods == ["fork" if fork else "spawn"] * 6


@harness
def test_a_run_waits_for_the_store_lock(project: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # another writer holds the lock until the run says it is waiting, then stores one of the
    # seeds: a run that waited finds that version; one that did not would store all five
    holding, waiting = threading.Event(), threading.Event()
    monkeypatch.setattr(store_format, "say", lambda line: waiting.set())
    seed = Item(str(sorted((project / "seeds").iterdir())[0]))

    def hold() -> None:
        store = Store(project / "store")
        with store.locked():
            holding.set()
            waiting.wait(30)
            pipeline.ingest_item(store, seed, datetime.now(UTC))

    holder = threading.Thread(target=hold)
    holder.start()
    holding.wait(10)
    result, _ = run(["seeds"], "store")
    holder.join()
    assert waiting.is_set()
    assert sorted(o.status for o in result.outcomes) == ["new"] * 4 + ["unchanged"]


@harness
def test_nothing_to_ingest_raises_the_cli_error(project: Path) -> None:
    with pytest.raises(ConfigError, match="nothing to ingest"):
        run_flow(None, None, project / "store")


# --- URLs: fetch retries, per-host rate limits ---


@pytest.fixture
def quick_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Retry the fetch task without waiting."""
    quick = flows_ingest.fetch_batch.with_options(retry_delay_seconds=0)
    monkeypatch.setattr(flows_ingest, "fetch_batch", quick)


@harness
@pytest.mark.usefixtures("quick_retries")
def test_fetch_task_retries_transient_failures_only(project: Path, httpserver: HTTPServer) -> None:
    text = (SEEDS / "003_3dab753b02dd6640.txt").read_bytes()
    httpserver.expect_oneshot_request("/ealing").respond_with_data("busy", status=503)
    httpserver.expect_request("/ealing").respond_with_data(text, content_type="text/plain")
    httpserver.expect_request("/gone").respond_with_data("", status=404)
    flaky, gone = httpserver.url_for("/ealing"), httpserver.url_for("/gone")
    with get_client(sync_client=True) as client:  # exists: every URL fetch waits on it
        client.create_global_concurrency_limit(_limit(flows_ingest.host_limit(flaky), 0.0001))
    config = project / "reportwatch.toml"  # no retries inside the fetcher: only the task's
    config.write_text('[http]\nretries = 0\nmin_interval = 0\nuser_agent = "rw-flow-test"\n')

    result, _ = run([gone, flaky, "seeds/001_ac718487f3257af1.txt"], "store", str(config))

    assert [(o.status, o.error) for o in result.outcomes] == [
        ("failed", "HTTP 404 Not Found"),
        ("new", None),
        ("new", None),
    ]
    assert result.outcomes[1].document == "cqc/ealing/learning-improvement-and-innovation"
    paths = [request.path for request, _ in httpserver.log]
    assert (paths.count("/gone"), paths.count("/ealing")) == (1, 2)  # 404 once; 503, then 200
    assert {request.headers["User-Agent"] for request, _ in httpserver.log} == {"rw-flow-test"}
    with get_client(sync_client=True) as client:  # a slot taken for each request (barely decayed)
        limit = client.read_global_concurrency_limit_by_name(flows_ingest.host_limit(flaky))
    assert limit.active_slots == 3


@harness
def test_a_batch_keeps_two_requests_in_flight_to_a_host(project: Path) -> None:
    """One batch (no politeness wait) fetches as `pipeline.ingest` does: as many requests in
    flight to a host as `per_host` allows, not one at a time."""
    slow = InFlight((SEEDS / "003_3dab753b02dd6640.txt").read_bytes(), seconds=0.2)
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.expect_request("/ealing").respond_with_handler(slow)
    server.start()
    try:
        config = project / "reportwatch.toml"
        config.write_text("[http]\nmin_interval = 0\nper_host = 2\n")
        inputs = [server.url_for(f"/ealing?copy={n}") for n in range(6)]
        result, _ = run(inputs, "store", str(config))
    finally:
        server.stop()
    assert [o.status for o in result.outcomes] == ["new"] + ["unchanged"] * 5
    assert len(server.log) == 6
    assert slow.most == 2


@pytest.mark.parametrize(
    ("state", "retried"),
    [
        (
            Failed(
                data=flows_ingest.FetchFailed("http://a.example/: HTTP 503 Service Unavailable")
            ),
            True,
        ),
        (Failed(data=ValueError("a bug in the task")), False),
        (Failed(data=FetchError("HTTP 404 Not Found")), False),
        (Completed(data=0), False),
    ],
    ids=["transient-fetch-failure", "task-error", "permanent-error", "completed"],
)
def test_fetch_task_retry_condition(state: State[Any], retried: bool) -> None:
    """The fetch task is retried only for a FetchFailed (raised when a URL failed transiently)."""
    assert flows_ingest.transient_failure(flows_ingest.fetch_batch, None, state) is retried


@harness
@pytest.mark.usefixtures("quick_retries")
def test_a_url_that_keeps_failing_fails_as_pipeline_ingest_says(
    project: Path, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/gone").respond_with_data("", status=404)
    url = httpserver.url_for("/gone")
    result, _ = run([url, "seeds/001_ac718487f3257af1.txt"], "store")
    expected = plain([url, "seeds/001_ac718487f3257af1.txt"], "plain-store")
    assert statuses(result) == statuses(expected)
    assert [o.status for o in result.outcomes] == ["failed", "new"]
    assert result.outcomes[0].error == expected.outcomes[0].error
    assert len(httpserver.log) == 1 + 1  # a 404 is permanent: once by the flow, once by pipeline


def _limit(name: str, decay: float) -> Any:
    """Return the request that creates a global concurrency limit."""
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate

    return GlobalConcurrencyLimitCreate(name=name, limit=100, slot_decay_per_second=decay)


@harness
def test_only_existing_rate_limits_are_used(monkeypatch: pytest.MonkeyPatch) -> None:
    items = [Item("https://a.example/x"), Item("https://B.example/y"), Item("https://c.example/")]
    with get_client(sync_client=True) as client:
        client.create_global_concurrency_limit(_limit("reportwatch-host-a.example", 1.0))
        client.create_global_concurrency_limit(_limit("reportwatch-host-b.example", 0.0))
    assert existing_limits(items) == {"reportwatch-host-a.example"}

    def no_api(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("local files must not ask the Prefect API")

    monkeypatch.setattr(flows_ingest, "get_client", no_api)
    assert existing_limits([Item("seeds/x.txt")]) == frozenset()


# --- batches: about a minute of polite fetching each, one for a quick run ---


def urls(count: int, host: str = "a.example") -> list[Item]:
    """Return `count` URL inputs on one host."""
    return [Item(f"https://{host}/{n}") for n in range(count)]


@pytest.mark.parametrize(
    ("items", "min_interval", "sizes"),
    [
        ([Item(f"seeds/{n}.txt") for n in range(300)], 1.0, [300]),
        (urls(1683), 0.0, [1683]),
        (urls(61), 1.0, [61]),
        (urls(62), 1.0, [31, 31]),
        (urls(1683), 1.0, [211] * 7 + [206]),
        (urls(100) + urls(100, "b.example"), 1.0, [100, 100]),
        (urls(80), 5.0, [25, 25, 25, 5]),
        ([], 1.0, []),
    ],
    ids=[
        "local-files-one-batch",
        "no-politeness-one-batch",
        "a-minute-one-batch",
        "over-a-minute-two",
        "28-minutes-at-most-8",
        "hosts-fetched-side-by-side",
        "at-least-25-a-batch",
        "nothing",
    ],
)
def test_batches_hold_a_minute_of_polite_fetching(
    items: list[Item], min_interval: float, sizes: list[int]
) -> None:
    http = HttpSettings(min_interval=min_interval)
    cut = flows_ingest.batches(items, http)
    assert [len(batch) for batch in cut] == sizes
    assert [item for batch in cut for item in batch] == items


# --- choosing inputs as the CLI does (no Prefect run needed) ---


def test_inputs_are_chosen_as_the_cli_chooses_them(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError, match="nothing to ingest"):
        choose_items(None, None)
    assert choose_items(["seeds"], None) == items_from_args(["seeds"], None, Path())

    (project / "reportwatch.toml").write_text('[[source]]\npath = "seeds"\nauthority = "Barnet"\n')
    sources = load_sources(project / "reportwatch.toml")
    assert choose_items(None, None) == items_from_config(sources, Path("."))  # as the CLI
    assert choose_items(["seeds/001_ac718487f3257af1.txt"], None) == items_from_args(
        ["seeds/001_ac718487f3257af1.txt"], sources, Path()
    )
    assert choose_items(["seeds"], None)[0].defaults.authority == "Barnet"

    other = project / "other.toml"
    other.write_text('[[source]]\npath = "seeds/00[01]*"\n')
    monkeypatch.setenv("REPORTWATCH_CONFIG", str(other))
    assert len(choose_items(None, None)) == 2
    assert len(choose_items(None, str(project / "reportwatch.toml"))) == 5


# --- the deployment definitions ---


def test_served_deployment_is_scheduled_in_london_one_run_at_a_time() -> None:
    deployment = flows_serve.deployment(config="reportwatch.toml", store="/srv/snapshots")
    assert deployment.name == "reportwatch-ingest"
    assert deployment.parameters == {"config": "reportwatch.toml", "store": "/srv/snapshots"}
    assert deployment.entrypoint == "reportwatch_flows.ingest.ingest_flow"
    [schedule] = deployment.schedules or []
    assert schedule.schedule.cron == "0 7 * * *"  # type: ignore[union-attr]
    assert schedule.schedule.timezone == "Europe/London"  # type: ignore[union-attr]
    assert deployment.concurrency_limit == 1
    options = deployment.concurrency_options
    assert options is not None
    assert options.collision_strategy == ConcurrencyLimitStrategy.CANCEL_NEW
    assert flows_serve.deployment().parameters == {}


def test_prefect_yaml_defines_the_scheduled_deployment() -> None:
    spec = yaml.safe_load((ROOT / "deploy" / "prefect.yaml").read_text())
    assert spec["pull"] == [
        {"prefect.deployments.steps.set_working_directory": {"directory": "{{ $PWD }}"}}
    ]
    [deployment] = spec["deployments"]
    assert deployment["name"] == "reportwatch-ingest"
    assert deployment["schedules"] == [
        {"cron": "0 7 * * *", "timezone": "Europe/London", "active": True}
    ]
    assert deployment["concurrency_limit"] == {"limit": 1, "collision_strategy": "CANCEL_NEW"}
    assert set(deployment["parameters"]) == {"config", "store"}
    assert load_flow_from_entrypoint(deployment["entrypoint"]) is ingest_flow


def test_telemetry_is_off() -> None:
    assert os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"
    assert os.environ["DO_NOT_TRACK"] == "1"
    assert "prefect.cloud" not in os.environ.get("PREFECT_API_URL", "")
