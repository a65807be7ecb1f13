"""What a ``%%track`` line asks for, parsed into plain values.

Kept apart from the magic so the CLI, replay and tests can build the same
options without IPython.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .exceptions import UsageError


@dataclass(frozen=True)
class TrackOptions:
    """Options of one tracked cell (``%%track [NAME] [--seed N] ...``)."""

    name: str | None = None
    seed: int | None = None
    params: tuple[str, ...] = ()
    metrics: tuple[str, ...] | None = None
    tags: dict[str, str] = field(default_factory=dict)
    models: bool = True
    data: bool = True


def split_names(text: str | None) -> tuple[str, ...]:
    """``"a, b,c"`` -> ``("a", "b", "c")``; rejects names that are not identifiers."""
    if not text:
        return ()
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    bad = [name for name in names if not name.isidentifier()]
    if bad:
        raise UsageError(f"not a Python name: {', '.join(bad)} (use a comma-separated list, e.g. --params lr,depth)")
    return names


def parse_tags(items: list[str] | None) -> dict[str, str]:
    """``["k=v", ...]`` -> ``{"k": "v"}``; each tag needs exactly one ``=``-separated key."""
    tags: dict[str, str] = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"tag {item!r} is not key=value (e.g. --tag dataset=iris)")
        tags[key.strip()] = value.strip()
    return tags


def parse_seed(text: str | int | None) -> int | None:
    """A seed is a non-negative integer below 2**32 (what NumPy's legacy seeding accepts)."""
    if text is None:
        return None
    try:
        seed = int(text)
    except (TypeError, ValueError):
        raise UsageError(f"--seed needs an integer, got {text!r}") from None
    if not 0 <= seed < 2**32:
        raise UsageError(f"--seed must be between 0 and {2**32 - 1}, got {seed}")
    return seed
