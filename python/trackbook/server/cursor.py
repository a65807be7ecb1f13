"""Opaque page cursors: a keyset position, signed so a changed cursor is refused.

A cursor is ``base64url(JSON [sort, segment, values, run_id]) "." base64url(HMAC)``.
The key is random per server process: cursors are short-lived by nature (a
client pages through one listing), and a server restart only means the
client starts again from the first page (it gets a 400 saying so).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import math
import secrets
from typing import Any

from ..exceptions import UsageError
from ..store.run_sort import SortPosition

_MAX_LENGTH = 4096
_SIGNATURE_BYTES = 16


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CursorCodec:
    """Encodes positions into cursors and back, for one server process."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)
        #: Changes with the key: part of list ETags (a cached page's cursor must be valid).
        self.fingerprint = hashlib.sha256(self._key).hexdigest()[:12]

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]

    def encode(self, sort: str, position: SortPosition) -> str:
        """The cursor for the page after ``position`` of a listing sorted by ``sort``."""
        values = [_number_out(v) for v in position.values]
        payload = json.dumps(
            [sort, position.segment, values, position.run_id], separators=(",", ":")
        ).encode()
        return f"{_b64encode(payload)}.{_b64encode(self._sign(payload))}"

    def decode(self, cursor: str, sort: str) -> SortPosition:
        """The position ``cursor`` holds; it must have been made here, for ``sort``.

        Raises
        ------
        UsageError
            Malformed, changed, made by another server process, or for another sort.
        """
        invalid = UsageError(
            "cursor: not a cursor this server issued (changed, or the server restarted); "
            "start again from the first page"
        )
        if len(cursor) > _MAX_LENGTH or cursor.count(".") != 1:
            raise invalid
        body, signature = cursor.split(".")
        try:
            payload = _b64decode(body)
            given = _b64decode(signature)
        except (binascii.Error, ValueError):
            raise invalid from None
        if not hmac.compare_digest(given, self._sign(payload)):
            raise invalid
        try:
            made_for, segment, values, run_id = json.loads(payload)
        except (ValueError, TypeError):
            raise invalid from None
        if made_for != sort:
            raise UsageError(
                f"cursor: made for sort {str(made_for)[:80]!r}, not {sort[:80]!r}; "
                "start again from the first page"
            )
        if not (isinstance(segment, int) and isinstance(values, list) and isinstance(run_id, str)):
            raise invalid
        return SortPosition(segment, tuple(_number_in(v) for v in values), run_id)


def _number_out(value: Any) -> Any:
    # JSON has no infinity; a metric may be +-inf (NaN never sorts: it counts as missing).
    if isinstance(value, float) and math.isinf(value):
        return {"inf": value > 0}
    return value


def _number_in(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"inf"}:
        return math.inf if value["inf"] else -math.inf
    return value
