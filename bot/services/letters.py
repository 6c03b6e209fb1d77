"""A resident's letter, read the moment it arrives.

A photo (its largest size), an image sent as a file, or a PDF is a letter candidate; the
parts of an album are one letter, its pages in the order they were sent. Once the copy is
queued (:mod:`bot.services.intake`), the files are fetched from Telegram into memory and
handed to the :class:`~bot.letters.model.LetterReader`, which reads them off the event loop;
what it found goes

* to staff, as a reply to the copy in the topic: the text in an expandable block quote and
  one line of what was found (sender, date, reference, deadline with its sentence), or at
  most one short note why the file could not be read; nothing for a photo that is not a
  letter;
* onto the request: the deadline (the queue, the agenda and the reminder use it) and the
  sender category;
* to the resident (unless ``QUARTIERBOT_LETTER_HELP=no``): a machine translation of the
  letter when they read another language than staff, and the deadline the letter names.

The text is posted from memory (``send_from_memory``, the replies lane's ``in_memory``):
never in SQLite, never in a log line.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from bot.clock import Clock
from bot.delivery.replies_lane import RepliesLane
from bot.delivery.staff_lane import StaffLane
from bot.letters.model import Letter, LetterReader, Page, PageKind, Problem, Reading
from bot.services.deadlines import Deadlines
from bot.services.translation import ConversationTranslator, Translated
from storage import Storage

log = logging.getLogger(__name__)

MAX_DOWNLOAD = 20 * 1024 * 1024
"""Telegram's getFile limit for bots: a larger file is not downloaded at all."""
ALBUM_GRACE = 1.0
"""Real seconds after an album's last part before its pages are read together."""
GERMAN_READERS = frozenset({"de", "de_easy"})

Download = Callable[[str], Awaitable[bytes]]


@dataclass(frozen=True)
class LetterFile:
    """A file of a resident's message that may be a letter (parsed by the handler)."""

    file_id: str
    kind: PageKind
    size: int | None = None
    name: str = ""


class LetterViews(Protocol):
    """The texts about a read letter: for staff in the staff language (Telegram HTML, each
    within one message), for the resident in theirs."""

    def for_staff(self, letter: Letter, today: date) -> list[str]: ...

    def problem(self, problem: Problem) -> str: ...

    def for_resident(
        self, language: str, translation: str | None, letter: Letter, today: date
    ) -> list[str]: ...


@dataclass
class _Album:
    user_id: int
    chat_id: int
    language: str
    parts: list[tuple[int, LetterFile]] = field(default_factory=list)
    last: float = 0.0


class LetterDesk:
    def __init__(
        self,
        *,
        storage: Storage,
        clock: Clock,
        staff: StaffLane,
        replies: RepliesLane,
        translator: ConversationTranslator,
        deadlines: Deadlines,
        download: Download,
        spawn: Callable[[Coroutine[Any, Any, None]], None],
        reader: Callable[[], LetterReader | None],
        tz: ZoneInfo,
        help_residents: bool = True,
    ) -> None:
        self.storage = storage
        self.clock = clock
        self.staff = staff
        self.replies = replies
        self.translator = translator
        self.deadlines = deadlines
        self.download = download
        self.spawn = spawn
        self.tz = tz
        self.help_residents = help_residents
        self._reader = reader
        self.views: LetterViews | None = None
        self.album_grace = ALBUM_GRACE
        self._albums: dict[str, _Album] = {}

    @property
    def reader(self) -> LetterReader | None:
        """``Services.letters``: None when reading is off."""
        return self._reader()

    @property
    def enabled(self) -> bool:
        return self.reader is not None and self.views is not None and self.staff.enabled

    def today(self) -> date:
        return self.clock.now().astimezone(self.tz).date()

    def received(
        self,
        user_id: int,
        chat_id: int,
        message_id: int,
        language: str,
        file: LetterFile,
        group_key: str | None = None,
    ) -> None:
        """A message with a letter candidate was passed on (its copy is queued): read it in
        the background; an album's parts once the last has arrived."""
        if not self.enabled:
            return
        if group_key is None:
            self.spawn(self._read(user_id, chat_id, language, [(message_id, file)]))
            return
        album = self._albums.get(group_key)
        if album is None:
            album = self._albums[group_key] = _Album(user_id, chat_id, language)
            self.spawn(self._album(group_key))
        album.parts.append((message_id, file))
        album.last = time.monotonic()

    async def _album(self, group_key: str) -> None:
        while True:
            album = self._albums[group_key]
            left = self.album_grace - (time.monotonic() - album.last)
            if left <= 0:
                break
            await asyncio.sleep(left)
        del self._albums[group_key]
        parts = sorted(album.parts, key=lambda part: part[0])
        if not parts:
            return  # the resident was erased meanwhile
        await self._read(album.user_id, album.chat_id, album.language, parts)

    async def _fetch(self, files: Sequence[LetterFile]) -> list[Page] | Problem:
        if any(f.size is not None and f.size > MAX_DOWNLOAD for f in files):
            return Problem.TOO_LARGE
        pages = []
        for file in files:
            try:
                data = await self.download(file.file_id)
            except Exception as error:
                log.warning("letter not downloaded: %s", type(error).__name__)
                return Problem.UNREADABLE
            if len(data) > MAX_DOWNLOAD:
                return Problem.TOO_LARGE
            pages.append(Page(data, file.kind, file.name))
        return pages

    async def _read(
        self, user_id: int, chat_id: int, language: str, parts: list[tuple[int, LetterFile]]
    ) -> None:
        reader, views = self.reader, self.views
        if reader is None or views is None:
            return
        first = parts[0][0]
        fetched = await self._fetch([file for _, file in parts])
        if isinstance(fetched, Problem):
            reading = Reading(problem=fetched)
        else:
            try:
                reading = await reader.read(fetched, today=self.today())
            except Exception as error:  # the reader fails soft; this is the last guard
                log.warning("letter not read: %s", type(error).__name__)
                reading = Reading(problem=Problem.UNREADABLE)
            del fetched  # the only copy of the files, in memory
        if reading.letter is None:
            if reading.problem is not None and reading.problem is not Problem.NO_TEXT:
                await self.staff.send_text(
                    views.problem(reading.problem),
                    resident_id=user_id,
                    reply_to_resident_message=first,
                )
            return
        letter = reading.letter
        today = self.today()
        for text in views.for_staff(letter, today):
            await self.staff.send_from_memory(
                text, resident_id=user_id, reply_to_resident_message=first, html=True
            )
        await self._keep(user_id, letter)
        log.info(
            "letter read for a request: %d page(s), deadline %s",
            letter.pages,
            "found" if letter.deadline else "none",
        )
        if self.help_residents:
            await self._help(user_id, chat_id, language, letter, today)

    async def _keep(self, user_id: int, letter: Letter) -> None:
        """The deadline and sender go on the resident's open request; an earlier deadline
        already there (another letter's, or staff's) stays."""
        request = await self.storage.requests.latest(user_id)
        if request is None or request.state == "closed":
            return
        deadline = letter.deadline
        if deadline is not None and (request.deadline is None or deadline.due < request.deadline):
            await self.deadlines.set(
                request, deadline.due, estimated=deadline.estimated, sender=letter.sender
            )
        elif letter.sender is not None:
            await self.storage.letters.set_sender(request.id, letter.sender)

    async def _help(
        self, user_id: int, chat_id: int, language: str, letter: Letter, today: date
    ) -> None:
        """The resident's part: a translation to read while they wait (not for German
        readers), and the deadline the letter names. Nothing that says what to do."""
        views = self.views
        assert views is not None
        translation = None
        if language not in GERMAN_READERS and self.translator.enabled:
            outcome = await self.translator.to_resident(user_id, letter.text, language, quiet=True)
            if isinstance(outcome, Translated):
                translation = outcome.text
        for text in views.for_resident(language, translation, letter, today):
            await self.replies.send(chat_id, text, parse_mode="HTML", in_memory=True)

    def forget(self, user_id: int) -> None:
        """Erasure: albums still being collected for this resident are not read."""
        for key in [k for k, a in self._albums.items() if a.user_id == user_id]:
            self._albums[key].parts.clear()
