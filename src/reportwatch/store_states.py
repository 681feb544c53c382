"""The per-input states a snapshot store keeps (validators, failures, the document an input
gave), as part of `reportwatch.store.Store`: read once a run, saved in memory, written at
the group commit after the versions staged before them.
"""

from __future__ import annotations

import os
from pathlib import Path

from reportwatch.errors import StoreError
from reportwatch.faults import checkpoint
from reportwatch.model import SourceState
from reportwatch.store_files import read_model, sha256, to_json, write_atomic


class SourceStates:
    """The per-input state half of `Store` (which sets these attributes and commits)."""

    root: Path
    _unsaved: dict[str, SourceState]  # saved states, written at the next commit
    _committing_states: dict[str, SourceState]  # ... being written by a commit under way
    _saved: dict[str, SourceState | None]  # states as read or written
    _saved_in_run: set[str]  # inputs whose state this run saved

    def _commit_when_due(self) -> None:
        """Commit when enough is waiting (see `Store._commit_when_due`)."""
        raise NotImplementedError

    def source_path(self, location: str) -> Path:
        """Return the state file of an input location."""
        return self.sources_dir / source_file(location)

    @property
    def sources_dir(self) -> Path:
        """Return the folder of the input state files."""
        return self.root / "sources"

    def source_state(self, location: str) -> SourceState:
        """Return what the store remembers about an input (a fresh state for a new one)."""
        if (
            unsaved := self._unsaved.get(location) or self._committing_states.get(location)
        ) is not None:
            return unsaved
        if location in self._saved and location not in self._saved_in_run:
            known = self._saved[location]  # as read before (by a fetch thread, ahead)
            return known or SourceState(location=location)
        found = self.cached_state(self.source_path(location))
        if location not in self._saved_in_run:  # a read racing this run's write keeps the write
            self._saved[location] = found
        return found or SourceState(location=location)

    def cached_state(self, path: Path) -> SourceState | None:
        """Return an input's state file, or None when there is none or it is unreadable: the
        state is a cache (written without fsync), and losing it costs one unconditional fetch,
        never a version."""
        try:
            return read_model(path, SourceState)
        except StoreError:
            return None

    def source_states(self) -> list[SourceState]:
        """Return the remembered state of every input that has one, sorted by location."""
        folder = self.sources_dir
        try:  # file names, unsorted: the states are sorted by location below
            names = [n for n in os.listdir(folder) if n.endswith(".json") and n[0] != "."]
        except (FileNotFoundError, NotADirectoryError):
            names = []
        # the states this Store read or wrote are what their files hold: only the lock's holder
        # writes them
        known = {source_file(place): state for place, state in self._saved.items() if state}
        found = (known.get(name) or self.cached_state(folder / name) for name in names)
        return sorted((state for state in found if state), key=lambda state: state.location)

    def save_source_state(self, state: SourceState) -> None:
        """Save an input's state (only when it differs from what is stored); it is written at
        the next `commit`, after the versions staged before it."""
        location = state.location
        if location not in self._unsaved and self._saved.get(location, False) == state:
            return
        self._unsaved[location] = state
        self._saved_in_run.add(location)
        self._commit_when_due()

    def _write_state(self, state: SourceState) -> None:
        """Write an input's state file atomically."""
        path = self.source_path(state.location)
        checkpoint("state.before-write")
        # Atomic but not flushed: it is a cache of validators and counters, and losing the
        # newest copy to a power cut costs one unconditional fetch, never a version.
        write_atomic(path, to_json(state), durable=False)
        self._saved[state.location] = state
        checkpoint("state.written")


def source_file(location: str) -> str:
    """Return the name of an input location's state file."""
    return f"{sha256(location.encode())[:20]}.json"
