"""Machine translation through a self-hosted engine, behind one small interface.

The office runs LibreTranslate on its own server (nothing leaves it). The bot never waits
on it for anything that matters: a caller gets a :class:`Translation` or a
:class:`TranslationFailed` with one of four causes it can tell staff about once per topic
(``down``, ``timeout``, ``no_model``, ``rejected``), never an exception.

Message text stays in memory: a bounded LRU cache of recent translations, never written to
disk, and never logged (logs carry lengths, language pairs and durations only).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

import aiohttp

from bot.clock import Clock
from bot.engines import OUR_LANGUAGES, engine_code

log = logging.getLogger(__name__)

AUTO = "auto"
"""Source language "let the engine detect it" (LibreTranslate's own word for it)."""


class Failure(StrEnum):
    DOWN = "down"
    """Unreachable, HTTP 5xx, or an answer that is not LibreTranslate's."""
    TIMEOUT = "timeout"
    """No answer within the timeout: the server is overloaded or stuck."""
    NO_MODEL = "no_model"
    """The server has no model for this pair (Kurmanji today); no request was made."""
    REJECTED = "rejected"
    """HTTP 400/403/429: a request it refuses, a wrong or missing key, its own rate limit."""


@dataclass(frozen=True)
class Translation:
    text: str
    source: str
    """Our code of the language translated from (the detected one when asked with ``auto``)."""
    target: str
    seconds: float
    """Time spent waiting for the engine (0 for a cache hit)."""
    cached: bool = False
    confidence: float | None = None
    """With ``auto``: the engine's confidence in the detected language, 0..1."""
    ok: Literal[True] = True


@dataclass(frozen=True)
class TranslationFailed:
    cause: Failure
    source: str
    target: str
    detail: str
    """For logs and staff: a status code or error class, never message text."""
    seconds: float = 0.0
    ok: Literal[False] = False


TranslateOutcome = Translation | TranslationFailed


@dataclass(frozen=True)
class EngineLanguage:
    """One entry of the engine's ``/languages`` list, in the engine's codes."""

    code: str
    name: str
    targets: tuple[str, ...]


class TranslationEngine(Protocol):
    """What the bot needs from a translation engine; LibreTranslate is the one we have."""

    @property
    def name(self) -> str: ...

    async def translate(self, text: str, source: str, target: str) -> TranslateOutcome:
        """Translate between two of our language codes (``source`` may be ``"auto"``)."""
        ...

    async def detect(self, text: str) -> list[tuple[str, float]]:
        """Our languages the engine thinks ``text`` is in, most likely first (confidence
        0..1); empty when it cannot tell or cannot be reached."""
        ...

    def supported_pairs(self) -> frozenset[tuple[str, str]] | None:
        """(source, target) pairs in our codes; None while the engine was never reached."""
        ...

    def languages(self) -> tuple[EngineLanguage, ...] | None: ...

    async def refresh_languages(self, *, force: bool = False) -> bool:
        """Read the engine's languages if unknown and the back-off allows; True when known."""
        ...

    def clear_cache(self) -> None:
        """Forget every cached translation (an erasure: the cache holds no resident key)."""
        ...

    async def close(self) -> None: ...


class _Unavailable(Exception):
    def __init__(self, cause: Failure, detail: str, *, unreachable: bool = False) -> None:
        super().__init__(detail)
        self.cause = cause
        self.detail = detail
        self.unreachable = unreachable


class LibreTranslate:
    """Client of a LibreTranslate server (its HTTP API: /translate, /detect, /languages).

    ``timeout`` bounds each HTTP request (not the wait for a free slot); ``max_concurrent``
    requests run at once, the others wait; ``cache_size`` recent translations are kept in
    memory. While the server is unreachable, no request is made until the back-off (30 s,
    doubling up to 15 min, measured on the injected clock) has passed: every call returns
    ``down`` at once instead of each waiting on a dead server.
    """

    name = "LibreTranslate"
    FIRST_BACKOFF = timedelta(seconds=30)
    MAX_BACKOFF = timedelta(minutes=15)

    def __init__(
        self,
        url: str,
        *,
        clock: Clock,
        api_key: str | None = None,
        staff_language: str = "de",
        timeout: float = 5.0,
        max_concurrent: int = 4,
        cache_size: int = 512,
    ) -> None:
        if max_concurrent < 1 or cache_size < 0 or timeout <= 0:
            raise ValueError("max_concurrent >= 1, cache_size >= 0, timeout > 0")
        self.url = url.rstrip("/")
        self._clock = clock
        self._api_key = api_key
        self.staff_language = staff_language
        self.timeout = timeout
        self.max_concurrent = max_concurrent
        self._slots = asyncio.Semaphore(max_concurrent)
        self._cache: OrderedDict[tuple[str, str, str], str] = OrderedDict()
        self._cache_size = cache_size
        self._asking: dict[tuple[str, str, str], asyncio.Future[TranslateOutcome]] = {}
        """Requests under way, by (source, target, text): a second caller for the same
        text waits for the first one's answer (a new request's question is translated for
        staff and for the prepared-answers search at the same moment)."""
        self._session: aiohttp.ClientSession | None = None
        self._languages: tuple[EngineLanguage, ...] | None = None
        self._pairs: frozenset[tuple[str, str]] | None = None
        self._next_attempt: datetime | None = None
        self._backoff = self.FIRST_BACKOFF
        self._refreshing: asyncio.Lock | None = None
        #: Requests actually sent, by path (for figures and tests).
        self.requests: dict[str, int] = {"/translate": 0, "/detect": 0, "/languages": 0}

    @property
    def where(self) -> str:
        """The server's address for logs, without credentials or path."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.hostname}{f':{parts.port}' if parts.port else ''}"

    # ---------------------------------------------------------------- languages

    def languages(self) -> tuple[EngineLanguage, ...] | None:
        return self._languages

    def supported_pairs(self) -> frozenset[tuple[str, str]] | None:
        return self._pairs

    def can_translate(self, source: str, target: str) -> bool | None:
        """Whether the engine has a model for the pair; None while its languages are unknown."""
        if self._pairs is None:
            return None
        return engine_code(source) == engine_code(target) or (source, target) in self._pairs

    async def refresh_languages(self, *, force: bool = False) -> bool:
        if self._languages is not None and not force:
            return True
        if self._refreshing is None:
            self._refreshing = asyncio.Lock()
        async with self._refreshing:
            if self._languages is not None and not force:
                return True
            now = self._clock.now()
            if not force and self._next_attempt is not None and now < self._next_attempt:
                return False
            started = time.perf_counter()
            try:
                data = await self._request("GET", "/languages", None)
                languages = _parse_languages(data)
            except _Unavailable as problem:
                self._next_attempt = now + self._backoff
                log.warning(
                    "%s at %s: languages not readable (%s: %s); next try in %d s",
                    self.name,
                    self.where,
                    problem.cause,
                    problem.detail,
                    self._backoff.total_seconds(),
                )
                self._backoff = min(self._backoff * 2, self.MAX_BACKOFF)
                return False
            self._languages = languages
            self._pairs = _our_pairs(languages)
            self._next_attempt = None
            self._backoff = self.FIRST_BACKOFF
            self._log_summary(time.perf_counter() - started)
            return True

    def _log_summary(self, seconds: float) -> None:
        staff = self.staff_language
        ours = [code for code in OUR_LANGUAGES if code != staff and code != "de_easy"]
        pairs = self._pairs or frozenset()
        from_staff = [code for code in ours if (staff, code) in pairs]
        to_staff = [code for code in ours if (code, staff) in pairs]
        neither = [code for code in ours if code not in from_staff and code not in to_staff]
        log.info(
            "%s at %s (%d languages, read in %.2f s): from %s to: %s; to %s from: %s;"
            " no model for: %s",
            self.name,
            self.where,
            len(self._languages or ()),
            seconds,
            staff,
            ", ".join(from_staff) or "none",
            staff,
            ", ".join(to_staff) or "none",
            ", ".join(neither) or "none",
        )

    def _lost_contact(self) -> None:
        """The server stopped answering: forget its languages and back off before re-reading."""
        if self._languages is None:
            return
        self._languages = None
        self._pairs = None
        self._next_attempt = self._clock.now() + self._backoff
        log.warning(
            "%s at %s unreachable; next try in %d s",
            self.name,
            self.where,
            self._backoff.total_seconds(),
        )

    # ---------------------------------------------------------------- translate

    async def translate(self, text: str, source: str, target: str) -> TranslateOutcome:
        src = source if source == AUTO else engine_code(source)
        tgt = engine_code(target)
        if src == tgt:
            return Translation(text=text, source=source, target=target, seconds=0.0)
        if not await self.refresh_languages():
            return TranslationFailed(Failure.DOWN, source, target, "server unreachable")
        if src != AUTO and not self.can_translate(source, target):
            log.info("%s: no model for %s->%s, not asked", self.name, source, target)
            return TranslationFailed(Failure.NO_MODEL, source, target, f"no model {src}->{tgt}")
        key = (src, tgt, text)
        if src != AUTO and (hit := self._cache.get(key)) is not None:
            self._cache.move_to_end(key)
            log.debug("%s %s->%s: %d chars from cache", self.name, src, tgt, len(text))
            return Translation(text=hit, source=source, target=target, seconds=0.0, cached=True)
        if src == AUTO:
            return await self._ask(text, source, target, src, tgt)
        asking = self._asking.get(key)
        if asking is None:
            asking = asyncio.ensure_future(self._ask(text, source, target, src, tgt))
            self._asking[key] = asking
            asking.add_done_callback(lambda _: self._asking.pop(key, None))
        # Shielded: one caller giving up (its update cancelled) does not cancel the others'.
        return await asyncio.shield(asking)

    async def _ask(
        self, text: str, source: str, target: str, src: str, tgt: str
    ) -> TranslateOutcome:
        key = (src, tgt, text)
        payload: dict[str, Any] = {"q": text, "source": src, "target": tgt, "format": "text"}
        started = time.perf_counter()
        try:
            data = await self._request("POST", "/translate", payload)
            translated, detected, confidence = _parse_translation(data, src)
        except _Unavailable as problem:
            seconds = time.perf_counter() - started
            if problem.unreachable:
                self._lost_contact()
            log.warning(
                "%s %s->%s: %d chars failed after %.2f s (%s: %s)",
                self.name,
                src,
                tgt,
                len(text),
                seconds,
                problem.cause,
                problem.detail,
            )
            return TranslationFailed(problem.cause, source, target, problem.detail, seconds)
        seconds = time.perf_counter() - started
        from_code = source
        if src == AUTO:
            from_code = detected if detected in OUR_LANGUAGES else (detected or AUTO)
        else:
            self._remember(key, translated)
        log.debug(
            "%s %s->%s: %d chars -> %d chars in %.3f s",
            self.name,
            from_code,
            tgt,
            len(text),
            len(translated),
            seconds,
        )
        return Translation(
            text=translated,
            source=from_code,
            target=target,
            seconds=seconds,
            confidence=confidence,
        )

    def _remember(self, key: tuple[str, str, str], translated: str) -> None:
        if self._cache_size == 0:
            return
        self._cache[key] = translated
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    def clear_cache(self) -> None:
        """Forget every cached translation (e.g. when a resident's data is deleted)."""
        self._cache.clear()

    # ---------------------------------------------------------------- detect

    async def detect(self, text: str) -> list[tuple[str, float]]:
        if not await self.refresh_languages():
            return []
        started = time.perf_counter()
        try:
            data = await self._request("POST", "/detect", {"q": text})
            found = _parse_detections(data)
        except _Unavailable as problem:
            log.warning(
                "%s detect: %d chars failed after %.2f s (%s: %s)",
                self.name,
                len(text),
                time.perf_counter() - started,
                problem.cause,
                problem.detail,
            )
            return []
        return found

    # ---------------------------------------------------------------- HTTP

    async def _request(self, method: str, path: str, payload: dict[str, Any] | None) -> Any:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.max_concurrent),
                timeout=aiohttp.ClientTimeout(total=self.timeout),
            )
        if payload is not None and self._api_key:
            payload = {**payload, "api_key": self._api_key}
        async with self._slots:
            self.requests[path] = self.requests.get(path, 0) + 1
            try:
                async with self._session.request(method, self.url + path, json=payload) as resp:
                    status = resp.status
                    try:
                        data = await resp.json(content_type=None)
                    except ValueError:
                        data = None
            except TimeoutError:
                raise _Unavailable(
                    Failure.TIMEOUT, f"no answer within {self.timeout:g} s"
                ) from None
            except aiohttp.ClientError as error:
                raise _Unavailable(
                    Failure.DOWN, f"unreachable ({type(error).__name__})", unreachable=True
                ) from None
        if status in (400, 403, 429):
            raise _Unavailable(Failure.REJECTED, f"HTTP {status}")
        if status != 200:
            raise _Unavailable(Failure.DOWN, f"HTTP {status}")
        if data is None:
            raise _Unavailable(Failure.DOWN, "answer is not JSON")
        return data

    async def close(self) -> None:
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()

    async def __aenter__(self) -> LibreTranslate:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


# ---------------------------------------------------------------- parsing


def _parse_languages(data: Any) -> tuple[EngineLanguage, ...]:
    if not isinstance(data, list):
        raise _Unavailable(Failure.DOWN, "languages: not a list")
    languages = []
    for entry in data:
        if not isinstance(entry, dict) or not isinstance(entry.get("code"), str):
            raise _Unavailable(Failure.DOWN, "languages: entry without code")
        targets = entry.get("targets")
        languages.append(
            EngineLanguage(
                code=entry["code"],
                name=str(entry.get("name", entry["code"])),
                # Old servers list no targets: every language to every other one.
                targets=tuple(str(t) for t in targets)
                if isinstance(targets, list)
                else tuple(str(e.get("code")) for e in data if isinstance(e, dict)),
            )
        )
    return tuple(languages)


def _our_pairs(languages: Iterable[EngineLanguage]) -> frozenset[tuple[str, str]]:
    by_engine: dict[str, list[str]] = {}
    for code in OUR_LANGUAGES:
        by_engine.setdefault(engine_code(code), []).append(code)
    pairs: set[tuple[str, str]] = set()
    for language in languages:
        for source in by_engine.get(language.code, ()):
            for target_code in language.targets:
                for target in by_engine.get(target_code, ()):
                    if engine_code(source) != engine_code(target):
                        pairs.add((source, target))
    return frozenset(pairs)


def _parse_translation(data: Any, source: str) -> tuple[str, str | None, float | None]:
    if not isinstance(data, dict) or not isinstance(data.get("translatedText"), str):
        raise _Unavailable(Failure.DOWN, "translate: no translatedText")
    detected: str | None = None
    confidence: float | None = None
    if isinstance(found := data.get("detectedLanguage"), dict):
        if isinstance(found.get("language"), str):
            detected = found["language"]
        if isinstance(found.get("confidence"), int | float):
            confidence = float(found["confidence"]) / 100
    return data["translatedText"], detected, confidence


def _parse_detections(data: Any) -> list[tuple[str, float]]:
    if not isinstance(data, list):
        raise _Unavailable(Failure.DOWN, "detect: not a list")
    found: list[tuple[str, float]] = []
    for entry in data:
        if (
            isinstance(entry, dict)
            and entry.get("language") in OUR_LANGUAGES
            and isinstance(entry.get("confidence"), int | float)
        ):
            found.append((entry["language"], float(entry["confidence"]) / 100))
    found.sort(key=lambda item: -item[1])
    return found


def build_translator(
    url: str | None, *, clock: Clock, api_key: str | None = None, staff_language: str = "de"
) -> LibreTranslate | None:
    """The configured engine, or None when ``QUARTIERBOT_TRANSLATE_URL`` is empty."""
    if not url:
        log.info("machine translation is off (QUARTIERBOT_TRANSLATE_URL is empty)")
        return None
    return LibreTranslate(url, clock=clock, api_key=api_key, staff_language=staff_language)
