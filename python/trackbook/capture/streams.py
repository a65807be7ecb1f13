"""Keep a copy of what a cell prints, while the user still sees all of it.

A :class:`StreamTee` stands in for ``sys.stdout`` / ``sys.stderr``: every call
goes to the stream it wraps, unchanged, and the first ``cap`` characters are
kept on the side. Under Jupyter the wrapped stream is ipykernel's
``OutStream``, which code (ipykernel itself, tqdm, IPython's display
machinery) reaches into for attributes no text stream has (``session``,
``pub_thread``, ``parent_header``, ``set_parent`` ...): anything the tee does
not define is read from and written to the wrapped stream.
"""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TextIO

__all__ = ["DEFAULT_CAP", "CapturedStreams", "StreamTee", "capture_streams"]

#: Characters kept per stream by default.
DEFAULT_CAP = 64 * 1024

# Attributes that live on the tee itself; every other one goes to the target.
_OWN = frozenset({"_target", "_cap", "_parts", "_kept", "_dropped", "_lock"})


class StreamTee(io.TextIOBase):
    """A text stream that writes through to ``target`` and keeps a capped copy.

    Parameters
    ----------
    target
        The stream every call goes to.
    cap
        How many characters to keep; later output still reaches ``target``
        and is only counted.
    """

    _target: Any
    _cap: int
    _parts: list[str]
    _kept: int
    _dropped: int
    _lock: threading.Lock

    def __init__(self, target: TextIO | Any, cap: int = DEFAULT_CAP) -> None:
        super().__init__()
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, "_cap", max(0, int(cap)))
        object.__setattr__(self, "_parts", [])
        object.__setattr__(self, "_kept", 0)
        object.__setattr__(self, "_dropped", 0)
        object.__setattr__(self, "_lock", threading.Lock())

    # --- the copy --------------------------------------------------------------

    @property
    def target(self) -> Any:
        """The wrapped stream."""
        return self._target

    @property
    def truncated(self) -> int:
        """How many characters were written beyond the cap (not kept)."""
        return self._dropped

    def getvalue(self) -> str:
        """The kept text, followed by a marker line when output was truncated."""
        with self._lock:
            text = "".join(self._parts)
            dropped = self._dropped
        if dropped:
            text += f"\n[... {dropped} more characters not recorded]\n"
        return text

    def _keep(self, text: str) -> None:
        with self._lock:
            room = self._cap - self._kept
            if room >= len(text):
                self._parts.append(text)
                object.__setattr__(self, "_kept", self._kept + len(text))
            else:
                if room > 0:
                    self._parts.append(text[:room])
                    object.__setattr__(self, "_kept", self._cap)
                object.__setattr__(self, "_dropped", self._dropped + len(text) - max(room, 0))

    # --- the stream ------------------------------------------------------------

    def write(self, text: str) -> int:
        written = self._target.write(text)
        if isinstance(text, str):
            self._keep(text)
        return written if isinstance(written, int) else len(text)

    def writelines(self, lines: Iterable[str]) -> None:  # type: ignore[override]
        for line in lines:
            self.write(line)

    def flush(self) -> None:
        flush = getattr(self._target, "flush", None)
        if flush is not None:
            flush()

    def isatty(self) -> bool:
        isatty = getattr(self._target, "isatty", None)
        return bool(isatty()) if isatty is not None else False

    def fileno(self) -> int:
        fileno = getattr(self._target, "fileno", None)
        if fileno is None:
            raise io.UnsupportedOperation("fileno")
        return int(fileno())

    def writable(self) -> bool:
        return True

    def readable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def close(self) -> None:
        """Do nothing: closing the copy must never close the user's stream."""

    @property
    def closed(self) -> bool:
        return bool(getattr(self._target, "closed", False))

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return getattr(self._target, "encoding", None) or "utf-8"

    @property
    def errors(self) -> str | None:  # type: ignore[override]
        return getattr(self._target, "errors", None)

    @property
    def newlines(self) -> Any:  # type: ignore[override]
        return getattr(self._target, "newlines", None)

    def __getattr__(self, name: str) -> Any:
        # Only called for names the tee lacks: session, pub_thread, buffer ...
        if name in _OWN:
            raise AttributeError(name)
        return getattr(self._target, name)

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _OWN or name in type(self).__dict__:
            object.__setattr__(self, name, value)
        else:
            setattr(self._target, name, value)

    def __repr__(self) -> str:
        return f"<StreamTee of {self._target!r}>"


class CapturedStreams:
    """What :func:`capture_streams` kept: ``stdout`` and ``stderr`` text."""

    def __init__(self, stdout: StreamTee | None, stderr: StreamTee | None) -> None:
        self._stdout = stdout
        self._stderr = stderr

    @property
    def stdout(self) -> str:
        """Text written to stdout (capped, with a truncation marker)."""
        return self._stdout.getvalue() if self._stdout is not None else ""

    @property
    def stderr(self) -> str:
        """Text written to stderr (capped, with a truncation marker)."""
        return self._stderr.getvalue() if self._stderr is not None else ""


@contextmanager
def capture_streams(cap: int = DEFAULT_CAP) -> Iterator[CapturedStreams]:
    """Tee ``sys.stdout`` and ``sys.stderr`` for the duration of the block.

    Parameters
    ----------
    cap
        Characters kept per stream.

    Yields
    ------
    CapturedStreams
        Readable during and after the block.

    Notes
    -----
    The original streams are put back on exit, even when the block raises,
    unless the block itself replaced a stream for good (then its choice
    stands). A missing stream (``None`` under pythonw) is left alone.
    """
    original_out, original_err = sys.stdout, sys.stderr
    out = StreamTee(original_out, cap) if original_out is not None else None
    err = StreamTee(original_err, cap) if original_err is not None else None
    if out is not None:
        sys.stdout = out
    if err is not None:
        sys.stderr = err
    try:
        yield CapturedStreams(out, err)
    finally:
        if out is not None and sys.stdout is out:
            sys.stdout = original_out
        if err is not None and sys.stderr is err:
            sys.stderr = original_err
