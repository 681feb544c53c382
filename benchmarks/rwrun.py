"""`reportwatch` as the benchmark runs it: the real command line, with the one setting a loopback
benchmark must change. reportwatch waits `min_interval` (1 s) between requests to one host, to be
polite to the regulators' servers; every benchmark URL is on one host, 127.0.0.1, so with that
wait a 1,683-document run would take 28 minutes of sleeping. urlwatch has no such wait. Here it is
0, as it would be in a sources file's HTTP settings if reportwatch had them; everything else is
`reportwatch` as installed.

    python -m benchmarks.rwrun ingest --config ... --store ...
"""

from __future__ import annotations

from reportwatch import http
from reportwatch.cli import main

NO_WAIT = http.HttpSettings(min_interval=0.0)


def no_politeness_wait() -> None:
    """Make every `Fetcher` made from now on start requests without the per-host wait."""
    http.DEFAULT_SETTINGS = NO_WAIT
    http.Fetcher.__init__.__defaults__ = (NO_WAIT,)


if __name__ == "__main__":
    no_politeness_wait()
    main()
