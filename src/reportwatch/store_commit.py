"""The group commits of a snapshot store, as part of `reportwatch.store.Store`: the versions
staged since the last commit are flushed to disk together, renamed into place, and then the
input states saved since are written (`store_states`). A commit falls due on the committer
thread while the run records the next versions, one commit at a time, in order.
"""

from __future__ import annotations

import os
import time
from concurrent.futures import Future

from reportwatch.errors import StoreError
from reportwatch.faults import checkpoint
from reportwatch.model import SourceState, Version
from reportwatch.store_files import Staged, committer, discard, flush_together, flusher
from reportwatch.store_states import SourceStates

COMMIT_EVERY = 200  # versions staged before a group commit
COMMIT_SECONDS = 2.0  # ... or this long after the first write waiting for one


class GroupCommits(SourceStates):
    """The commit half of `Store` (which sets these attributes and stages the versions)."""

    _staged: list[Staged]  # versions written under temporary names since the last commit
    _staged_documents: set[str]  # ... their documents
    _committing: Future[None] | None  # the group commit under way on the committer thread
    _committing_documents: set[str]  # ... its documents
    _oldest_unsaved: float | None  # when the oldest write waiting for a commit was staged
    _added: dict[tuple[str, int], Version]  # versions this Store committed

    def commit(self) -> None:
        """Make the versions staged since the last commit durable, then visible, then write the
        input states saved since: a group commit (`_commit_batch`), after the one under way in
        the background, if any. Raises StoreError when a version could not be written or
        flushed, by this commit or the one in the background; then no version of that commit
        is in place and the states saved since the last commit are dropped."""
        self._wait_for_commit()
        self._commit_batch(*self._take_batch())

    def _take_batch(self) -> tuple[list[Staged], dict[str, SourceState]]:
        """Return the versions staged and the input states saved since the last commit, and
        start the next batch empty."""
        staged, self._staged = self._staged, []
        states, self._unsaved = self._unsaved, {}
        self._staged_documents.clear()
        self._oldest_unsaved = None
        return staged, states

    def _commit_batch(self, staged: list[Staged], states: dict[str, SourceState]) -> None:
        """Commit versions, then input states: the versions' files are flushed to disk together
        (one journal commit shares many flushes), each is renamed into place, the renames
        flushed. A state (its validators) is written only once its version is in place, so a
        run killed before this point fetches those inputs afresh and loses nothing. Raises
        StoreError when a version could not be written or flushed; then no version of the batch
        is in place and none of its states is written."""
        try:
            if staged:
                flush_together([path for s in staged for path in s.written.result()])
                for version in staged:
                    (raw, raw_final), (stored, stored_final) = version.moves
                    os.replace(raw, raw_final)
                    checkpoint("version.raw-renamed")
                    os.replace(stored, stored_final)
                    self._added[(version.document, version.number)] = version.version
                    checkpoint("version.renamed")
                flush_together(sorted({version.target.parent for version in staged}))
        except BaseException as exc:
            discard(staged)
            if not isinstance(exc, Exception):
                raise
            raise StoreError(f"{self.root}: could not store versions: {exc}") from exc
        if states:
            self.sources_dir.mkdir(parents=True, exist_ok=True)
        list(flusher().map(self._write_state, states.values()))

    def _commit_in_background(self) -> None:
        """Start a group commit of what is staged and saved on the committer thread, after the
        one under way: the run goes on recording while the files are flushed, which waits on
        the disk (0.05-0.15 s a commit of 200 versions, the run's thread idle till then)."""
        self._wait_for_commit()
        staged, states = self._take_batch()
        self._committing_documents = {s.document for s in staged}
        self._committing_states = states
        self._committing = committer().submit(self._commit_batch, staged, states)

    def _wait_for_commit(self) -> None:
        """Wait for the group commit under way in the background, if any; raise its StoreError,
        after dropping what was staged and saved since (`_forget_uncommitted`): it may build on
        the versions that failed, so it is never committed after them."""
        if (pending := self._committing) is None:
            return
        self._committing = None
        try:
            pending.result()
        except StoreError:
            self._forget_uncommitted()
            raise
        finally:
            self._committing_documents = set()
            self._committing_states = {}

    def _forget_uncommitted(self) -> None:
        """Drop the versions staged and input states saved since the last commit: the versions'
        files are removed (once their writer threads are done), and the states, which may
        describe versions not in place, are not written, so those inputs are fetched afresh and
        nothing is lost."""
        staged, _ = self._take_batch()
        discard(staged)

    def _commit_staged(self, key: str | None = None) -> None:
        """Commit first when a version (of document `key`, or any) is staged or being committed,
        so that what is read includes it."""
        if key is None or key in self._committing_documents:
            self._wait_for_commit()
        if self._staged if key is None else key in self._staged_documents:
            self.commit()

    def _commit_when_due(self) -> None:
        """Commit once COMMIT_EVERY versions are staged or the oldest waiting write is
        COMMIT_SECONDS old, so a long, slow run keeps what it has done."""
        now = time.monotonic()
        if self._oldest_unsaved is None:
            self._oldest_unsaved = now
        if len(self._staged) >= COMMIT_EVERY or now - self._oldest_unsaved >= COMMIT_SECONDS:
            self._commit_in_background()
