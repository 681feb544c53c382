"""A slow loopback handler that counts the requests it has in flight at once."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

from werkzeug import Request, Response


@dataclass
class InFlight:
    """Answers each request `body` after `seconds`; `most` is the most requests it had in flight
    at once (serve it from a threaded server)."""

    body: bytes = b"ok"
    seconds: float = 0.15
    content_type: str = "text/plain"
    most: int = 0
    _now: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, request: Request) -> Response:
        with self._lock:
            self._now += 1
            self.most = max(self.most, self._now)
        time.sleep(self.seconds)
        with self._lock:
            self._now -= 1
        return Response(self.body, content_type=self.content_type)
