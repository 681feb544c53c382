"""A loopback HTTP server for the benchmark corpus: serves one state at a time from
`<corpus>/state-N/`, sends ETag and Last-Modified, and answers a conditional request for an
unchanged document with 304 Not Modified (If-None-Match first, as RFC 9110 says, else
If-Modified-Since). A document's Last-Modified is the moment the state it last changed in was
switched on."""

from __future__ import annotations

import json
import threading
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class CorpusServer:
    """Serves a corpus on 127.0.0.1 in a background thread; `switch(n)` changes the state."""

    def __init__(self, corpus: Path) -> None:
        self.corpus = corpus
        self.index: dict[str, dict[str, str]] = {}
        self.bodies: dict[str, bytes] = {}
        self.requests = {"200": 0, "304": 0, "404": 0}
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        """Return the server's base URL."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def start(self) -> CorpusServer:
        """Start serving; return self."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the socket."""
        self._httpd.shutdown()
        self._httpd.server_close()

    def switch(self, state: int) -> None:
        """Serve state N from now on; documents whose bytes changed get a new Last-Modified.
        Its files are read into memory first, so that the tool which goes first in a phase does
        not wait for the disk on behalf of those after it."""
        folder = self.corpus / f"state-{state}"
        index = json.loads((folder / "index.json").read_text())
        now = formatdate(usegmt=True)
        bodies = {}
        for path, entry in index.items():
            before = self.index.get(path)
            same = before is not None and before["etag"] == entry["etag"]
            entry["last_modified"] = before["last_modified"] if same and before else now
            bodies[path] = (folder / "files" / entry["file"]).read_bytes()
        with self._lock:
            self.index, self.bodies = index, bodies

    def answer(self, path: str, headers: Any) -> tuple[int, dict[str, str], bytes]:
        """Return the status, headers and body for a GET of `path`."""
        with self._lock:
            entry, body = self.index.get(path), self.bodies.get(path, b"")
        if entry is None:
            return 404, {"Content-Type": "text/plain"}, b"not found"
        validators = {"ETag": entry["etag"], "Last-Modified": entry["last_modified"]}
        if not_modified(entry, headers):
            return 304, validators, b""
        return 200, {**validators, "Content-Type": entry["type"]}, body

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body are two writes: without TCP_NODELAY a kept-alive connection
            # waits ~40 ms for the client's delayed ACK on every response
            disable_nagle_algorithm = True

            def do_GET(self) -> None:
                status, headers, body = server.answer(self.path.split("?")[0], self.headers)
                with server._lock:
                    server.requests[str(status)] += 1
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                if status != 304:
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if status != 304:
                    self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                """Stay quiet: thousands of requests a phase."""

        return Handler


def not_modified(entry: dict[str, str], headers: Any) -> bool:
    """Return True when a request's validators match the document as served now."""
    tags = headers.get("If-None-Match")
    if tags is not None:
        return entry["etag"] in [t.strip() for t in tags.split(",")] or tags.strip() == "*"
    since = headers.get("If-Modified-Since")
    if since is None:
        return False
    try:
        return parsedate_to_datetime(entry["last_modified"]) <= parsedate_to_datetime(since)
    except (TypeError, ValueError):
        return False
