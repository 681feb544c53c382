"""Helper processes of a run (the parse workers, the fetch process): forked when that is safe,
else spawned, and each ends itself once the run's process is gone.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from multiprocessing.context import ForkContext, SpawnContext

PARENT_WATCH_SECONDS = 0.5


def can_fork() -> bool:
    """Return True when this process may fork its helpers: on Linux (Windows cannot fork, and
    macOS's system libraries are not safe to fork), running no thread but the one calling."""
    return sys.platform.startswith("linux") and threading.active_count() == 1


def context() -> ForkContext | SpawnContext:
    """Return how to start a helper process now: forked when that is safe (`can_fork`), so
    that it starts with the pipeline imported (spawning one and importing it cost about 0.4 s
    of CPU), else spawned: a fork copies whatever locks other threads hold at that moment."""
    if can_fork():
        return multiprocessing.get_context("fork")
    return multiprocessing.get_context("spawn")


def exit_with_parent(parent: int) -> None:
    """Start a watch in a helper process that ends it once its parent process is gone: a run
    killed outright (SIGKILL, the OOM killer) must not leave its helpers waiting for work."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_WATCH_SECONDS)
        os._exit(1)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()
