"""What every collector shares: the failure record, the parse result, and the parse guard.

Each collector module has ``read()`` (the only code that calls ``run.py``), ``parse(text)``
(pure and total: it returns facts plus warnings and never raises) and ``collect(failures)``,
which joins the two and appends a ``Failure`` for everything that went wrong, so collection
always carries on and the payload says what could not be gathered.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class Failure:
    """One thing a collector could not gather, as sent in ``hardware.collection_errors``.

    stage: "read" (a command or file failed), "parse" (its output was odd), or "collect" (a
    bug in the collector itself, caught so that the other collectors still run).
    """

    collector: str
    stage: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return {"collector": self.collector, "stage": self.stage, "message": self.message}


@dataclass
class Parsed(Generic[T]):
    """What a parser found, and what it had to say about its input."""

    facts: T
    warnings: list[str] = field(default_factory=list)


def parse_guarded(
    collector: str,
    parse: Callable[[str], Parsed[T]],
    text: str,
    failures: list[Failure],
    empty: T,
) -> T:
    """Run a parser; its warnings, or the exception of a parser bug, become parse failures."""
    try:
        parsed = parse(text)
    except Exception as exc:  # a parser is meant to be total; a bug must not stop collection
        failures.append(Failure(collector, "parse", f"{type(exc).__name__}: {exc}"))
        return empty
    failures.extend(Failure(collector, "parse", warning) for warning in parsed.warnings)
    return parsed.facts
