"""Real receivers on loopback for notification tests: a JSON webhook and an SMTP server."""

from __future__ import annotations

import email
import email.policy
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response


@dataclass
class Webhook:
    """A JSON webhook: keeps what Apprise posts; answers `status` (set 500 to be down)."""

    url: str
    status: int = 200
    received: list[dict[str, Any]] = field(default_factory=list)

    def __call__(self, request: Request) -> Response:
        if self.status != 200:
            return Response("down for maintenance", status=self.status)
        self.received.append(json.loads(request.get_data()))
        return Response("ok")

    def notifications(self) -> list[dict[str, Any]]:
        """Return each received message's reportwatch JSON (Apprise's `message` field)."""
        return [json.loads(envelope["message"]) for envelope in self.received]


@dataclass
class Mailbox:
    """An SMTP server's inbox: every message it accepted, parsed."""

    url: str
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        return "250 OK"


@pytest.fixture
def webhook(httpserver: HTTPServer) -> Webhook:
    """Return a JSON webhook receiver on loopback."""
    hook = Webhook(url=f"json://127.0.0.1:{httpserver.port}/hook")
    httpserver.expect_request("/hook", method="POST").respond_with_handler(hook)
    return hook


def free_port() -> int:
    """Return a loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    """Return an SMTP server (aiosmtpd) on loopback and the Apprise URL that mails to it."""
    port = free_port()
    box = Mailbox(
        url=f"mailto://127.0.0.1:{port}?from=reportwatch@example.org&to=reader@example.org"
    )
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    yield box
    controller.stop()
