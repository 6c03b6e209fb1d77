"""The office's prepared answers: a library staff keep from the staff group, found for every
new request and offered to the resident while they wait.

The library is data (``storage.answers``), seeded once from ``bot/data/answers.yaml``; an
entry is a key, the answer in the staff language, the ways residents ask it, and human
translations. For the message that opens a request, :meth:`AnswerService.request_opened`
searches it (``bot.services.answer_match``) with the question in the staff language
(machine-translated when needed): a good match is suggested to staff in the topic, and a
very good one is offered to the resident (``QUARTIERBOT_SELF_HELP``). The resident's ✅
closes the request, 💬 leaves it open; either is counted per month and language, naming
nobody. The one link to a resident is the offer's token, until it is tapped or expires, and
it goes with an erasure. What staff and residents read is rendered by the answers capability
(:class:`AnswerPoster`, set at build).
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import yaml

from bot.clock import Clock
from bot.config import Config
from bot.services.answer_match import RESIDENTS, STAFF, Candidate, Finder, decide
from bot.services.translation import ConversationTranslator, Failed, Translated
from storage import Storage
from storage.answers import Offer, StoredAnswer

log = logging.getLogger(__name__)

SEED = Path(__file__).resolve().parent.parent / "data" / "answers.yaml"
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,23}$")
"""A key staff type after /reply: short, lower case, safe in callback data."""
OFFER_DAYS = 30
MAX_FILE = 512 * 1024
FORMAT_VERSION = 1
VOICES_KEPT = 200
GERMAN = frozenset({"de", "de_easy"})


class Outcome(StrEnum):
    """What prepared answers did, as counted per month and language."""

    SUGGESTED = "suggested"
    OFFERED = "offered"
    HELPED = "helped"
    TALK = "talk"
    SENT = "sent"


class How(StrEnum):
    HUMAN = "human"
    MACHINE = "machine"
    STAFF = "staff"
    """Only in the staff language: no translation, and no engine (or it failed)."""


@dataclass(frozen=True)
class InLanguage:
    text: str
    how: How
    translated: Translated | None = None


class LibraryProblem(Exception):
    """A library file that cannot be imported; the message says why (for staff)."""


class AnswerPoster(Protocol):
    """What the answers capability renders and sends."""

    async def suggest(self, user_id: int, message_id: int, entry: StoredAnswer) -> None:
        """In the resident's topic, as a reply to the copy: the entry, with a button."""
        ...

    async def offer(self, chat_id: int, entry: InLanguage, token: str, language: str) -> None:
        """To the resident, after the receipt: the answer with ✅ / 💬."""
        ...

    async def closed(self, user_id: int, key: str, helped: bool) -> None:
        """In the topic: the resident's tap (✅ closes the request)."""
        ...


class AnswerService:
    def __init__(
        self,
        *,
        storage: Storage,
        clock: Clock,
        config: Config,
        translator: ConversationTranslator,
        close_topic: TopicCloser,
    ) -> None:
        self.storage = storage
        self.clock = clock
        self.config = config
        self.translator = translator
        self.close_topic = close_topic
        self.finder = Finder(storage.answers, config.staff_language)
        self.poster: AnswerPoster | None = None
        self._voices: OrderedDict[tuple[int, int], tuple[int, int]] = OrderedDict()
        """(user id, message id) of a voice message that opened a request → (request id,
        chat id), until its transcript is heard (memory only: a restart forgets)."""

    # -- the library ----------------------------------------------------------------------------
    async def start(self, seed: Path = SEED) -> None:
        """At start: the shipped answers the first time, then the search index."""
        repo = self.storage.answers
        if not await repo.seeded():
            data = await asyncio.to_thread(seed.read_bytes)
            await repo.put(parse_library(data), self.clock.now(), keep=True)
            await repo.mark_seeded(self.clock.now())
        await self._reindex()

    async def _reindex(self) -> None:
        await self.finder.reindex(await self.storage.answers.all())

    async def entries(self) -> list[StoredAnswer]:
        return await self.storage.answers.all()

    async def entry(self, key: str) -> StoredAnswer | None:
        return await self.storage.answers.get(key.lower())

    async def put(self, key: str, text: str, phrases: list[str], staff_id: int) -> bool:
        """Add or replace an entry (its human translations go: they translated the old
        text). True if it replaced one."""
        key = key.lower()
        old = await self.storage.answers.get(key)
        entry = StoredAnswer(key, text.strip(), tuple(p for p in phrases if p), {})
        await self.storage.answers.put([entry], self.clock.now(), keep=True)
        await self._audit(staff_id, "answer_replace" if old else "answer_add", key)
        await self._reindex()
        return old is not None

    async def delete(self, key: str, staff_id: int) -> bool:
        if not await self.storage.answers.delete(key.lower()):
            return False
        await self._audit(staff_id, "answer_delete", key.lower())
        await self._reindex()
        return True

    async def translate(self, key: str, language: str, text: str, staff_id: int) -> bool:
        if not await self.storage.answers.translate(key.lower(), language, text.strip()):
            return False
        await self._audit(staff_id, "answer_translate", f"{key.lower()} {language}")
        return True

    async def export(self) -> bytes:
        return dump_library(await self.storage.answers.all())

    async def restore(self, data: bytes, staff_id: int) -> int:
        """Replace the library by a file's (an export). Raises :class:`LibraryProblem`."""
        entries = parse_library(data)
        await self.storage.answers.put(entries, self.clock.now(), keep=False)
        await self.storage.answers.mark_seeded(self.clock.now())
        await self._audit(staff_id, "answer_import", str(len(entries)))
        await self._reindex()
        return len(entries)

    async def _audit(self, staff_id: int, action: str, detail: str) -> None:
        await self.storage.audit.record(staff_id, action, None, self.clock.now(), detail)

    # -- an entry for a resident ------------------------------------------------------------------
    async def in_language(self, entry: StoredAnswer, user_id: int, language: str) -> InLanguage:
        """A human translation; else a machine translation when an engine works; else the
        staff-language text (the caller says that it is in German)."""
        staff = self.config.staff_language
        if language == staff:
            return InLanguage(entry.text, How.HUMAN)
        if (human := entry.translations.get(language)) is not None:
            return InLanguage(human, How.HUMAN)
        if {language, staff} <= GERMAN:  # Leichte Sprache readers read German too
            return InLanguage(entry.text, How.HUMAN)
        outcome = await self.translator.to_resident(user_id, entry.text, language)
        if isinstance(outcome, Translated):
            return InLanguage(outcome.text, How.MACHINE, outcome)
        return InLanguage(entry.text, How.STAFF)

    async def count(self, language: str, outcome: Outcome) -> None:
        month = self.clock.now().astimezone(self.config.tz).strftime("%Y-%m")
        await self.storage.answers.count(month, language, outcome.value)

    # -- a new request ------------------------------------------------------------------------
    async def find(self, question: str) -> list[Candidate]:
        return await self.finder.candidates(question)

    async def request_opened(
        self,
        *,
        request_id: int,
        user_id: int,
        chat_id: int,
        message_id: int,
        language: str,
        text: str | None,
        voice: bool = False,
    ) -> None:
        """The message that opened a request (its text, caption or transcript): suggest a
        prepared answer to staff and offer it to the resident, as ``self_help`` says. A
        voice message waits for its transcript (:meth:`heard`)."""
        mode = self.config.self_help
        if mode == "off" or self.poster is None:
            return
        if voice and not text:
            self._voices[(user_id, message_id)] = (request_id, chat_id)
            while len(self._voices) > VOICES_KEPT:
                self._voices.popitem(last=False)
            return
        if not text or not text.strip():
            return
        question = text
        if language != self.config.staff_language and self.translator.enabled:
            outcome = await self.translator.to_staff(user_id, text, language, quiet=True)
            if isinstance(outcome, Translated):
                question = outcome.text
            elif isinstance(outcome, Failed):
                log.info("self-help: question not translated (%s)", outcome.cause.value)
        candidates = await self.find(question)
        suggestion = decide(candidates, STAFF)
        if suggestion is None:
            return
        entry = await self.storage.answers.get(suggestion.key)
        if entry is None:
            return
        await self.poster.suggest(user_id, message_id, entry)
        await self.count(language, Outcome.SUGGESTED)
        if mode != "residents" or decide(candidates, RESIDENTS) is None:
            return
        if not await self.storage.requests.has_open(user_id):
            return
        shown = await self.in_language(entry, user_id, language)
        if shown.how is How.STAFF:
            return  # offered in the resident's language or not at all; staff can still send it
        today = self.clock.now().astimezone(self.config.tz).date()
        token = secrets.token_urlsafe(9)
        offer = Offer(token, user_id, request_id, entry.key, language)
        await self.storage.answers.offer(offer, today.isoformat())
        await self.poster.offer(chat_id, shown, token, language)
        await self.count(language, Outcome.OFFERED)

    async def heard(self, user_id: int, message_id: int, language: str, text: str) -> None:
        """A transcript (``Interpreter.heard``): if its voice message opened a request, as
        for a text."""
        opened = self._voices.pop((user_id, message_id), None)
        if opened is None:
            return
        request_id, chat_id = opened
        await self.request_opened(
            request_id=request_id,
            user_id=user_id,
            chat_id=chat_id,
            message_id=message_id,
            language=language,
            text=text,
        )

    async def expire(self) -> int:
        """Daily: offers nobody tapped for :data:`OFFER_DAYS` lose their link to the
        resident (the request stays as it is)."""
        today = self.clock.now().astimezone(self.config.tz).date()
        before = (today - timedelta(days=OFFER_DAYS)).isoformat()
        return await self.storage.answers.expire_offers(before)

    async def tapped(self, token: str, helped: bool) -> Offer | None:
        """The resident's ✅ (closes the request, with a note in the topic) or 💬 (leaves it
        open, noted). None if the offer was answered already or expired."""
        offer = await self.storage.answers.take_offer(token)
        if offer is None:
            return None
        await self.count(offer.language, Outcome.HELPED if helped else Outcome.TALK)
        if self.poster is not None:
            await self.poster.closed(offer.user_id, offer.key, helped)
        if helped:
            closed = await self.storage.requests.close(offer.request_id, self.clock.now())
            if closed is not None:
                await self.close_topic.close_topic(offer.user_id)
        return offer

    def forget(self, user_id: int) -> None:
        """Erasure (``PrivacyService`` memory): a voice message of theirs waiting for its
        transcript. Their offers are rows, erased with the others (``storage.privacy``)."""
        self._voices = OrderedDict((k, v) for k, v in self._voices.items() if k[0] != user_id)


class TopicCloser(Protocol):
    async def close_topic(self, resident_id: int) -> int: ...


# -- the file format (seed, export, import) -----------------------------------------------------
def dump_library(entries: list[StoredAnswer]) -> bytes:
    data = {
        "version": FORMAT_VERSION,
        "answers": [
            {
                "key": e.key,
                "text": e.text,
                "phrases": list(e.phrases),
                "translations": dict(sorted(e.translations.items())),
            }
            for e in entries
        ],
    }
    head = "# Quartierbot answer library: /answers import restores it.\n"
    return (head + yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=100)).encode()


def parse_library(data: bytes) -> list[StoredAnswer]:
    """The entries of a library file; :class:`LibraryProblem` says what is wrong (in
    English words for the log and the key or field for staff)."""
    if len(data) > MAX_FILE:
        raise LibraryProblem("too large")
    try:
        loaded = yaml.safe_load(data.decode("utf-8"))
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise LibraryProblem("not a library file") from exc
    if not isinstance(loaded, dict) or not isinstance(loaded.get("answers"), list):
        raise LibraryProblem("not a library file")
    if loaded.get("version") != FORMAT_VERSION:
        raise LibraryProblem("not a library file")
    entries: list[StoredAnswer] = []
    seen: set[str] = set()
    for item in loaded["answers"]:
        if not isinstance(item, dict):
            raise LibraryProblem("not a library file")
        key = str(item.get("key", "")).strip().lower()
        text = item.get("text")
        phrases = item.get("phrases") or []
        translations = item.get("translations") or {}
        if not KEY_RE.match(key) or key in seen:
            raise LibraryProblem(key or "?")
        if not isinstance(text, str) or not text.strip():
            raise LibraryProblem(key)
        if not isinstance(phrases, list) or not isinstance(translations, dict):
            raise LibraryProblem(key)
        seen.add(key)
        entries.append(
            StoredAnswer(
                key,
                text.strip(),
                tuple(" ".join(str(p).split()) for p in phrases if str(p).strip()),
                {str(k): str(v).strip() for k, v in translations.items() if str(v).strip()},
            )
        )
    return entries
