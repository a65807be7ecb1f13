"""Every error trackbook raises, under one root.

::

    TrackbookError
    ├── StoreError
    │   ├── StoreNotFoundError        no store at the given location
    │   ├── SchemaMismatchError       store schema older/newer than this trackbook
    │   ├── StoreUnavailableError     cannot reach or lock the store (run is spooled)
    │   ├── RunNotFoundError          no run with that id (or prefix)
    │   ├── AmbiguousRunError         a prefix or name matches several runs
    │   └── IntegrityError            a blob or record fails verification
    ├── CaptureError                  one facet could not be captured (becomes a warning)
    ├── UsageError                    the caller asked for something invalid
    └── OptionalDependencyError       an extra is needed: carries the pip hint

Surfaces translate these once: the magic into IPython ``UsageError``, the
CLI into exit codes, the server into HTTP statuses.
"""

from __future__ import annotations


class TrackbookError(Exception):
    """Root of every trackbook error."""


class StoreError(TrackbookError):
    """The store could not do what was asked."""


class StoreNotFoundError(StoreError):
    """No store exists where one was expected."""


class SchemaMismatchError(StoreError):
    """The store's schema revision differs from this trackbook's."""

    def __init__(self, message: str, *, current: str | None, expected: str) -> None:
        super().__init__(message)
        self.current = current
        self.expected = expected


class StoreUnavailableError(StoreError):
    """The store cannot be reached or locked right now."""


class RunNotFoundError(StoreError, LookupError):
    """No run matches the given id, prefix or name."""

    def __init__(self, ref: str) -> None:
        super().__init__(f"no run matches {ref!r}; list runs with `trackbook runs`")
        self.ref = ref


class AmbiguousRunError(StoreError, LookupError):
    """A run reference matches more than one run."""

    def __init__(self, ref: str, candidates: list[str]) -> None:
        shown = ", ".join(candidates[:5])
        super().__init__(f"{ref!r} matches {len(candidates)} runs ({shown}); give more of the id")
        self.ref = ref
        self.candidates = candidates


class IntegrityError(StoreError):
    """Stored content does not match its recorded hash or chain."""

    def __init__(self, message: str, *, subject: str | None = None) -> None:
        super().__init__(message)
        self.subject = subject


class CaptureError(TrackbookError):
    """One facet of a run could not be captured."""


class UsageError(TrackbookError, ValueError):
    """Invalid arguments or a call in the wrong context."""


class OptionalDependencyError(TrackbookError, ImportError):
    """A feature needs an optional dependency that is not installed."""

    def __init__(self, package: str, extra: str) -> None:
        super().__init__(
            f"{package} is required for this feature: pip install \"trackbook[{extra}]\""
        )
        self.package = package
        self.extra = extra


class ReplayNotFoundError(StoreError, LookupError):
    """No replay has this id."""
