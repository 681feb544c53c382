"""Notifications as readers get them: delivered through Apprise to a JSON webhook and an SMTP
server on loopback, to the outbox folder and the Atom feed; each change once, none lost."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from pytest_httpserver import HTTPServer

from reportwatch.cli import main
from reportwatch.messages import notification_schema

from conftest import LEARNING_EALING, LEARNING_HF, dated, seed_text
from notify_receivers import Mailbox, Webhook

ROOT = Path(__file__).resolve().parent.parent
HF_LEARNING = "cqc/hammersmith-and-fulham/learning-improvement-and-innovation"
FIRST_LINE = (
    "Hammersmith and Fulham · Learning, improvement and innovation: "
    "score 2 → 3 (some shortfalls → good standard)"
)


def ingest(*args: str) -> Result:
    """Return the result of `reportwatch ingest ARGS` in the working directory."""
    return CliRunner().invoke(main, ["ingest", *args])


def configure(*channels: str, notify: str = "") -> None:
    """Write reportwatch.toml watching seeds/ with the given [[channel]] bodies."""
    tables = "".join(f"\n[[channel]]\n{body}\n" for body in channels)
    extra = f"\n[notify]\n{notify}\n" if notify else ""
    Path("reportwatch.toml").write_text(f'[[source]]\npath = "seeds"\n{extra}{tables}')


def reassess(seeds: Path) -> None:
    """Edit seed 000 in place: score 2 -> 3 and one finding reworded."""
    path = seeds / LEARNING_HF
    text = path.read_text().replace(
        "Score: 2\n2 - Evidence shows some shortfalls",
        "Score: 3\n3 - Evidence shows a good standard",
    )
    path.write_text(text.replace("had identified the dual", "had recognised the dual"))


def reword_ealing(seeds: Path) -> None:
    """Edit seed 003 (Ealing) in place: one finding reworded, no score change."""
    path = seeds / LEARNING_EALING
    text = path.read_text()
    path.write_text(
        text.replace("Staff had access to reflective", "Staff had regular access to reflective")
    )


def outbox(folder: str) -> list[dict[str, Any]]:
    """Return the JSON of every message a folder channel holds, in the order written."""
    files = sorted(Path(folder).glob("*.json"), key=lambda p: p.stat().st_mtime_ns)
    return [json.loads(p.read_text()) for p in files]


def test_a_score_change_reaches_the_webhook_and_the_inbox_once(
    seeds_copy: Path, webhook: Webhook, mailbox: Mailbox
) -> None:
    configure(f'name = "hook"\nurl = "{webhook.url}"', f'name = "mail"\nurl = "{mailbox.url}"')
    assert ingest().exit_code == 0
    first = webhook.notifications()
    assert [len(n["events"]) for n in first] == [5]
    assert first[0]["events"][0]["headline"] == (
        "Ealing · Learning, improvement and innovation: new report: "
        "3 - Evidence shows a good standard"
    )
    assert len(mailbox.messages) == 1

    reassess(seeds_copy)
    result = ingest()
    assert result.exit_code == 0, result.stderr
    assert "notified hook: 1 message, 1 event → json://127.0.0.1/…" in result.stdout

    envelope, message = webhook.received[-1], webhook.notifications()[-1]
    assert envelope["title"] == FIRST_LINE
    assert (message["schema"], message["schema_version"], message["title"]) == (
        "reportwatch.notification",
        1,
        FIRST_LINE,
    )
    [event] = message["events"]
    assert (event["id"], event["document"], event["version"], event["source"]) == (
        f"{HF_LEARNING}@v2",
        HF_LEARNING,
        2,
        f"seeds/{LEARNING_HF}",
    )
    assert (
        event["versions_link"]
        == (seeds_copy.parent / "snapshots/documents" / HF_LEARNING / "v0002.json").as_uri()
    )
    score, reworded = event["changes"]
    assert (score["kind"], score["old"], score["new"]) == ("score_changed", 2, 3)
    assert reworded["kind"] == "finding_reworded"
    assert [w for w in reworded["words"] if w["op"] != "="] == [
        {"op": "-", "text": "identified"},
        {"op": "+", "text": "recognised"},
    ]

    mail = mailbox.messages[-1]
    assert mail["Subject"] == FIRST_LINE
    html = mail.get_body(("html",))
    assert html is not None
    body = html.get_content()
    assert "<li>finding reworded in Key findings<br><q>The local authority had " in body
    assert "<del>identified</del> <ins>recognised</ins> the dual pressures" in body
    assert f"<p>Source: seeds/{LEARNING_HF}" in body
    assert f'<br>Versions: v1 → v2: <a href="{event["versions_link"]}">{HF_LEARNING}</a>' in body

    again = ingest()
    assert (again.exit_code, len(webhook.received), len(mailbox.messages)) == (0, 2, 2)


def test_a_failed_delivery_is_kept_and_sent_once_on_the_next_run(
    seeds_copy: Path, webhook: Webhook
) -> None:
    configure(f'name = "hook"\nurl = "{webhook.url}"')
    ingest()
    reassess(seeds_copy)
    webhook.status = 500
    down = ingest()
    assert down.exit_code == 1
    assert down.stderr == (
        "error: notify hook: json://127.0.0.1/…: Failed to send JSON POST notification: "
        "Internal server error., error=500.; 1 event kept for the next run\n"
    )
    down_again = ingest()
    assert (down_again.exit_code, len(webhook.received)) == (1, 1)

    webhook.status = 200
    back = ingest()
    assert back.exit_code == 0
    assert [n["title"] for n in webhook.notifications()[1:]] == [FIRST_LINE]
    assert ingest().exit_code == 0
    assert len(webhook.received) == 2


def test_notify_command_sends_what_ingest_kept(seeds_copy: Path, webhook: Webhook) -> None:
    configure(f'name = "hook"\nurl = "{webhook.url}"')
    assert ingest("--no-notify").exit_code == 0
    assert webhook.received == []
    sent = CliRunner().invoke(main, ["notify"])
    assert (sent.exit_code, sent.stdout) == (
        0,
        "notified hook: 1 message, 5 events → json://127.0.0.1/…\n"
        "notified feed: 1 message, 5 events → snapshots/feed.atom\n",
    )
    again = CliRunner().invoke(main, ["notify"])
    assert (again.exit_code, again.stdout, len(webhook.received)) == (0, "nothing owed\n", 1)


CHANNEL_RULES = [
    # (channel settings, event ids the channel is sent after the second run)
    ("", ["cqc/ealing/learning-improvement-and-innovation@v2", f"{HF_LEARNING}@v2"]),
    ('min_importance = "score"', [f"{HF_LEARNING}@v2"]),
    ('authorities = ["Ealing"]', ["cqc/ealing/learning-improvement-and-innovation@v2"]),
    ('regulators = ["Ofsted"]', []),
    ('tags = ["hf"]', [f"{HF_LEARNING}@v2"]),
    ('tags = ["nowhere"]', []),
]


@pytest.mark.parametrize(
    ("rules", "expected"), CHANNEL_RULES, ids=[r[0] or "all" for r in CHANNEL_RULES]
)
def test_channel_rules_choose_what_a_channel_is_sent(
    seeds_copy: Path, rules: str, expected: list[str]
) -> None:
    configure(f'name = "team"\nfolder = "team"\n{rules}')
    toml = Path("reportwatch.toml")
    toml.write_text(
        toml.read_text() + f'\n[[source]]\npath = "seeds/{LEARNING_HF}"\ntags = ["hf"]\n'
    )
    ingest()
    sent_first = outbox("team")
    reassess(seeds_copy)
    reword_ealing(seeds_copy)
    assert ingest().exit_code == 0
    later = outbox("team")[len(sent_first) :]
    assert [e["id"] for n in later for e in n["events"]] == expected


def test_document_mode_sends_one_message_a_document(seeds_copy: Path) -> None:
    configure('name = "team"\nfolder = "team"\nmode = "document"')
    ingest()
    assert len(outbox("team")) == 5
    reassess(seeds_copy)
    reword_ealing(seeds_copy)
    ingest()
    titles = [n["title"] for n in outbox("team")[5:]]
    assert sorted(titles) == sorted(
        [
            FIRST_LINE,
            "Ealing · Learning, improvement and innovation: finding reworded in Key findings",
        ]
    )


def test_a_republish_with_nothing_changed_is_not_sent_by_default(seeds_copy: Path) -> None:
    configure(
        'name = "team"\nfolder = "team"',
        'name = "all"\nfolder = "all"\nmin_importance = "republished"',
    )
    path = seeds_copy / LEARNING_EALING
    text = path.read_text()
    path.write_text(dated(text, "3 April 2025"))
    ingest()
    path.write_text(dated(text, "9 May 2025"))
    assert ingest().exit_code == 0
    assert len(outbox("team")) == 1
    titles = [n["title"] for n in outbox("all")[1:]]
    assert len(titles) == 1
    assert titles[0].startswith(
        "Ealing · Learning, improvement and innovation: republished with no change of substance "
        "(last_updated: "
    )


def test_the_outbox_is_the_default_channel(seeds_copy: Path) -> None:
    assert ingest("seeds").exit_code == 0
    reassess(seeds_copy)
    result = ingest("seeds")
    assert "notified outbox: 1 message, 1 event → snapshots/outbox/" in result.stdout
    [markdown] = sorted(Path("snapshots/outbox").glob("*.md"), key=lambda p: p.stat().st_mtime_ns)[
        1:
    ]
    assert markdown.read_text().splitlines()[:6] == [
        FIRST_LINE,
        "",
        "- score 2 → 3 (some shortfalls → good standard)",
        "- finding reworded in Key findings",
        "  > The local authority had ~~identified~~ **recognised** the dual pressures of being a …",
        "",
    ]


def test_the_atom_feed_has_one_entry_a_change(seeds_copy: Path) -> None:
    ingest("seeds")
    reassess(seeds_copy)
    ingest("seeds")
    ingest("seeds")
    ns = {"a": "http://www.w3.org/2005/Atom"}
    feed = ET.parse("snapshots/feed.atom").getroot()
    entries = feed.findall("a:entry", ns)
    assert len(entries) == 6
    newest = entries[0]
    assert newest.findtext("a:id", namespaces=ns) == f"tag:reportwatch,2025:{HF_LEARNING}@v2"
    assert newest.findtext("a:title", namespaces=ns) == FIRST_LINE
    content = newest.findtext("a:content", namespaces=ns) or ""
    assert "<del>identified</del> <ins>recognised</ins>" in content


def test_a_failing_source_alerts_once_and_once_more_when_it_recovers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, httpserver: HTTPServer
) -> None:
    monkeypatch.chdir(tmp_path)
    url = httpserver.url_for("/la/learning")
    Path("reportwatch.toml").write_text(
        f'[[source]]\nurl = "{url}"\nauthority = "Hammersmith and Fulham"\n'
        '[notify]\nfailure_alert_after = 2\n[[channel]]\nname = "ops"\nfolder = "ops"\n'
    )
    httpserver.expect_request("/la/learning").respond_with_data(seed_text(LEARNING_HF))
    ingest()
    httpserver.clear()
    httpserver.expect_request("/la/learning").respond_with_data("gone", status=404)
    for _ in range(4):
        assert ingest().exit_code == 1
    httpserver.clear()
    httpserver.expect_request("/la/learning").respond_with_data(seed_text(LEARNING_HF))
    ingest()
    ingest()
    titles = [n["title"] for n in outbox("ops")]
    assert titles == [
        "Hammersmith and Fulham · Learning, improvement and innovation: new report: "
        "2 - Evidence shows some shortfalls",
        f"{url}: fetching failed 2 runs in a row: HTTP 404 Not Found",
        f"{url}: fetching works again",
    ]


def test_a_channel_added_later_hears_only_what_comes_after(seeds_copy: Path) -> None:
    ingest("seeds")
    configure('name = "late"\nfolder = "late"')
    assert ingest().exit_code == 0
    assert outbox("late") == []
    reassess(seeds_copy)
    ingest()
    assert [n["title"] for n in outbox("late")] == [FIRST_LINE]


BAD_CHANNELS: list[tuple[str, str]] = [
    (
        'name = "x"',
        "channel.0: Value error, give exactly one of `url`, `url_env`, `url_secret` or `folder`",
    ),
    (
        'name = "x"\nurl = "a"\nfolder = "b"',
        "channel.0: Value error, give exactly one of `url`, `url_env`, `url_secret` or `folder`",
    ),
    (
        'name = "x"\nfolder = "b"\nmin_importance = "loud"',
        "channel.0.min_importance: Input should be 'score', 'findings' or 'republished'",
    ),
]


@pytest.mark.parametrize(("body", "message"), BAD_CHANNELS)
def test_a_bad_channel_is_a_config_error(seeds_copy: Path, body: str, message: str) -> None:
    configure(body)
    result = ingest()
    assert result.exit_code == 2
    assert result.stderr.startswith("error: reportwatch.toml:")
    assert result.stderr.rstrip().endswith(message)


def test_a_missing_url_variable_keeps_the_changes(
    seeds_copy: Path, webhook: Webhook, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure('name = "hook"\nurl_env = "HOOK_URL"')
    monkeypatch.delenv("HOOK_URL", raising=False)
    first = ingest()
    assert first.exit_code == 1
    assert (
        first.stderr
        == "error: notify hook: channel 'hook': $HOOK_URL is not set; 5 events kept for the next run\n"
    )
    monkeypatch.setenv("HOOK_URL", webhook.url)
    assert ingest().exit_code == 0
    assert [len(n["events"]) for n in webhook.notifications()] == [5]


def test_the_documented_json_schema_is_current() -> None:
    assert (ROOT / "docs/notification.schema.json").read_text() == notification_schema()


def test_a_run_naming_other_inputs_still_sends_what_the_sources_file_tags(
    seeds_copy: Path,
) -> None:
    Path("reportwatch.toml").write_text(
        '[[source]]\npath = "seeds"\ntags = ["london"]\n'
        '[[channel]]\nname = "london team"\nfolder = "team"\ntags = ["london"]\n'
    )
    assert ingest("--no-notify").exit_code == 0
    Path("other").mkdir()
    (Path("other") / LEARNING_HF).write_text(seed_text(LEARNING_HF))
    assert ingest(f"other/{LEARNING_HF}").exit_code == 0
    assert [len(n["events"]) for n in outbox("team")] == [5]


def test_a_folder_that_cannot_be_written_is_one_line_and_the_rest_goes_on(
    seeds_copy: Path,
) -> None:
    configure('name = "team"\nfolder = "reportwatch.toml/team"')
    result = ingest()
    assert result.exit_code == 1
    assert result.stderr == (
        "error: notify team: reportwatch.toml/team: Not a directory; 5 events kept for the next run\n"
    )
    assert "notified feed: 1 message, 5 events" in result.stdout
    ledger = json.loads(Path("snapshots/notify/team.json").read_text())
    assert (ledger["handled"], ledger["sending"]) == ({}, [])


def test_a_message_of_several_events_is_titled_by_its_first_and_counts_the_rest(
    seeds_copy: Path,
) -> None:
    configure('name = "team"\nfolder = "team"')
    ingest()
    reassess(seeds_copy)
    reword_ealing(seeds_copy)
    ingest()
    sent = [(n["title"], len(n["events"])) for n in outbox("team")]
    assert sent == [
        (
            "Ealing · Learning, improvement and innovation: new report: 3 - Evidence shows a good "
            "standard (+4 more)",
            5,
        ),
        (
            "Ealing · Learning, improvement and innovation: finding reworded in Key findings "
            "(+1 more)",
            2,
        ),
    ]
