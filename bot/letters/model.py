"""What reading a letter yields: the contract between the reader (OCR, deadline finding) and
the intake that posts it to staff and the resident.

Nothing here is ever stored: the text goes to the staff group and the resident only. The
database keeps the deadline date and the sender category (see the intake service).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Protocol


class PageKind(Enum):
    IMAGE = "image"  # JPEG, PNG, HEIC … (a photo's largest size, or an image sent as a file)
    PDF = "pdf"


@dataclass(frozen=True)
class Page:
    """One file as it arrived: a photo, an image document or a PDF (which may hold pages)."""

    data: bytes
    kind: PageKind
    name: str = ""


@dataclass(frozen=True)
class Deadline:
    """The date to act by. ``estimated``: computed from a relative phrase ("innerhalb eines
    Monats nach Bekanntgabe") and the letter's date, shown to staff as an estimate."""

    due: date
    sentence: str
    estimated: bool = False


class Problem(Enum):
    """Why a file could not be read; staff get at most one short note for it."""

    UNREADABLE = "unreadable"  # corrupt image or PDF, empty file, not what its name says
    ENCRYPTED = "encrypted"
    TOO_LARGE = "too_large"  # over Telegram's 20 MB download limit
    NO_TEXT = "no_text"  # read, but nothing like a letter (a room, a drawing, three words)


@dataclass(frozen=True)
class Letter:
    """A read letter. ``text`` holds the recognised text of every page read, in page order."""

    text: str
    pages: int
    pages_skipped: int = 0  # pages beyond the limit, not read
    sender: str | None = None  # the key from bot/data/senders.yaml, e.g. "jobcenter"
    sender_name: str | None = None  # the German name to show staff, e.g. "Jobcenter"
    letter_date: date | None = None
    reference: str | None = None  # a printed reference number (Aktenzeichen, BG-Nummer …)
    deadline: Deadline | None = None


@dataclass(frozen=True)
class Reading:
    """The outcome for one message (or album): a letter, or the problem, or neither (not a
    letter at all: post nothing)."""

    letter: Letter | None = None
    problem: Problem | None = None


class LetterReader(Protocol):
    """Reads files off the event loop in a bounded worker; ``today`` anchors relative dates."""

    async def read(self, pages: Sequence[Page], *, today: date) -> Reading: ...

    @property
    def queue_depth(self) -> int: ...

    async def close(self) -> None:
        """At shutdown: pages still waiting are dropped (their copies reached staff)."""
        ...
