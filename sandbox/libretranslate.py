"""A LibreTranslate-compatible test server, kept beside the Bot API sandbox.

It answers ``POST /translate``, ``POST /detect`` and ``GET /languages`` in the real server's
format, deterministically: a small phrase table for the sentences the tests use, and for
anything else a reversible stand-in ``"[de] <text>"`` (the target code, then the text).
Like the office's real server started with ``--load-only``, it has no model for Kurmanji.

Tests can make it fail on demand: ``fail_status`` (every request answers that HTTP status
with ``{"error": ...}``, e.g. 500 or 429), :meth:`refuse` (stop listening: connection
refused until :meth:`resume`), ``delay`` (seconds before each answer). It records every
request, so a test can assert that none was made for Kurmanji.
"""

from __future__ import annotations

import asyncio
import collections
import json
import logging
import socket
import unicodedata
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from sandbox.loopback import LoopbackServer, client_gone

__all__ = ["LANGUAGE_NAMES", "PHRASES", "FakeLibreTranslate", "Request"]

log = logging.getLogger(__name__)

# What the office loads with --load-only (LibreTranslate's names, its codes). No Kurmanji.
LANGUAGE_NAMES = {
    "ar": "Arabic",
    "bg": "Bulgarian",
    "de": "German",
    "en": "English",
    "fa": "Persian",
    "pl": "Polish",
    "ro": "Romanian",
    "ru": "Russian",
    "tr": "Turkish",
    "uk": "Ukrainian",
}

# (source, target, text) -> translation: the sentences the tests and the demo use.
PHRASES: dict[tuple[str, str, str], str] = {
    (
        "ar",
        "de",
        "وصلتني رسالة من الجوب سنتر ولا أفهمها",
    ): "Ich habe einen Brief vom Jobcenter bekommen und verstehe ihn nicht.",
    (
        "de",
        "ar",
        "Bitte bringen Sie den Brief am Donnerstag mit.",
    ): "يرجى إحضار الرسالة معك يوم الخميس.",
    (
        "tr",
        "de",
        "Merhaba, iş merkezinden bir mektup aldım ve anlamıyorum.",
    ): "Hallo, ich habe einen Brief vom Jobcenter bekommen und verstehe ihn nicht.",
    (
        "de",
        "tr",
        "Bitte bringen Sie den Brief am Donnerstag mit.",
    ): "Lütfen mektubu perşembe günü yanınızda getirin.",
    (
        "fa",
        "de",
        "من یک نامه از جاب سنتر دریافت کردم و آن را نمی‌فهمم",
    ): "Ich habe einen Brief vom Jobcenter bekommen und verstehe ihn nicht.",
    (
        "uk",
        "de",
        "Я отримав лист від джобцентру і не розумію його.",
    ): "Ich habe einen Brief vom Jobcenter bekommen und verstehe ihn nicht.",
    (
        "en",
        "de",
        "I need help with a letter from the job centre",
    ): "Ich brauche Hilfe mit einem Brief vom Jobcenter",
    (
        "ar",
        "de",
        "أحتاج إلى مترجم لأن لغتي الألمانية ليست جيدة",
    ): "Ich brauche einen Dolmetscher, weil mein Deutsch nicht gut ist.",
}

_ERRORS = {
    400: "Invalid request",
    403: "Invalid API key",
    429: "Too many request limits violation",
    500: "Internal server error",
    503: "Service unavailable",
}


@dataclass(frozen=True)
class Request:
    path: str
    body: dict[str, Any]


class FakeLibreTranslate(LoopbackServer):
    """The test double; ``async with FakeLibreTranslate() as server`` then ``server.url``."""

    def __init__(
        self,
        *,
        api_key: str | None = None,
        languages: dict[str, str] | None = None,
        phrases: dict[tuple[str, str, str], str] | None = None,
    ) -> None:
        self.api_key = api_key
        self.languages = dict(LANGUAGE_NAMES if languages is None else languages)
        self.phrases = dict(PHRASES if phrases is None else phrases)
        self.delay = 0.0
        """Seconds to wait before answering (to provoke a client's timeout)."""
        self.fail_status: int | None = None
        """Answer every request with this HTTP status (500, 429, 403, ...) and an error."""
        self.requests: list[Request] = []
        self.counts: collections.Counter[str] = collections.Counter()
        self.in_flight = 0
        self.max_in_flight = 0
        self._runner: web.AppRunner | None = None
        self._host = "127.0.0.1"
        self._port: int | None = None
        self.app = web.Application(middlewares=[client_gone])
        self.app.router.add_get("/languages", self._languages)
        self.app.router.add_post("/translate", self._translate)
        self.app.router.add_post("/detect", self._detect)

    # ------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port``; port 0 picks a free one (kept across :meth:`refuse`)."""
        if self._runner is not None:
            raise RuntimeError("already started")
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.1)
        await runner.setup()
        sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port or self._port or 0))
        sock.setblocking(False)
        await web.SockSite(runner, sock).start()
        self._runner = runner
        self._host = host
        self._port = int(sock.getsockname()[1])

    async def stop(self) -> None:
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def refuse(self) -> None:
        """Stop listening: clients get "connection refused" until :meth:`resume`."""
        await self.stop()

    async def resume(self) -> None:
        await self.start(self._host, self._port or 0)

    def requests_for(self, language: str) -> list[Request]:
        """Requests that named ``language`` as source or target."""
        return [
            r for r in self.requests if language in (r.body.get("source"), r.body.get("target"))
        ]

    # ------------------------------------------------------------ translation

    def translate_one(self, text: str, source: str, target: str) -> str:
        if (hit := self.phrases.get((source, target, text))) is not None:
            return hit
        # The reverse of a stand-in gives the text back, so round trips are checkable.
        prefix = f"[{source}] "
        if text.startswith(prefix) and source != target:
            return text[len(prefix) :]
        return f"[{target}] {text}"

    def detect_one(self, text: str) -> tuple[str, float]:
        """Deterministic guess: the phrase table, then the script, then German."""
        for source, _target, phrase in self.phrases:
            if phrase == text:
                return source, 95.0
        if text.startswith("[") and (code := text[1:3]) in self.languages:
            return code, 90.0
        letters = [c for c in text if c.isalpha()]
        names = " ".join(unicodedata.name(c, "") for c in letters)
        if "ARABIC" in names:
            return ("fa", 80.0) if any(c in "پچژگیک" for c in text) else ("ar", 80.0)
        if "CYRILLIC" in names:
            if any(c in "іїєґІЇЄҐ" for c in text):
                return "uk", 80.0
            return ("bg", 60.0) if any(c in "ъЪ" for c in text) else ("ru", 70.0)
        if any(c in "ğışĞİŞ" for c in text):
            return "tr", 80.0
        if any(c in "ąęłńśźżĄĘŁŃŚŹŻ" for c in text):
            return "pl", 80.0
        if any(c in "ăâîșțĂÂÎȘȚ" for c in text):
            return "ro", 70.0
        words = set(text.lower().split())
        if words & {"the", "and", "is", "i", "you", "with", "please"}:
            return "en", 60.0
        return "de", 50.0

    # ------------------------------------------------------------ handlers

    async def _read(self, request: web.Request) -> dict[str, Any]:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except json.JSONDecodeError:
                return {}
            return body if isinstance(body, dict) else {}
        form = await request.post()
        return {key: str(value) for key, value in form.items()}

    async def _enter(self, path: str, body: dict[str, Any]) -> web.Response | None:
        """Count and record the request, be slow or fail on demand, check the key."""
        self.requests.append(Request(path, body))
        self.counts[path] += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                await asyncio.sleep(self.delay)
        finally:
            self.in_flight -= 1
        if self.fail_status is not None:
            return _error(self.fail_status, _ERRORS.get(self.fail_status, "Error"))
        if (
            self.api_key is not None
            and path != "/languages"
            and body.get("api_key") != self.api_key
        ):
            return _error(
                403,
                "Invalid API key"
                if body.get("api_key")
                else "Please contact the server operator to get an API key",
            )
        return None

    async def _languages(self, request: web.Request) -> web.Response:
        if (failure := await self._enter("/languages", {})) is not None:
            return failure
        codes = sorted(self.languages)
        return web.json_response(
            [{"code": code, "name": self.languages[code], "targets": codes} for code in codes]
        )

    async def _translate(self, request: web.Request) -> web.Response:
        body = await self._read(request)
        if (failure := await self._enter("/translate", body)) is not None:
            return failure
        q, source, target = body.get("q"), body.get("source"), body.get("target")
        if not q:
            return _error(400, "Invalid request: missing q parameter")
        if not source:
            return _error(400, "Invalid request: missing source parameter")
        if not target:
            return _error(400, "Invalid request: missing target parameter")
        texts = q if isinstance(q, list) else [q]
        if not all(isinstance(text, str) for text in texts):
            return _error(400, "Invalid request: q must be a string or a list of strings")
        if source != "auto" and source not in self.languages:
            return _error(400, f"{source} is not supported")
        if target not in self.languages:
            return _error(400, f"{target} is not supported")
        results: list[str] = []
        detected: list[dict[str, Any]] = []
        for text in texts:
            src = source
            if source == "auto":
                src, confidence = self.detect_one(text)
                detected.append({"confidence": confidence, "language": src})
            results.append(self.translate_one(text, src, target))
        answer: dict[str, Any] = {"translatedText": results if isinstance(q, list) else results[0]}
        if source == "auto":
            answer["detectedLanguage"] = detected if isinstance(q, list) else detected[0]
        return web.json_response(answer)

    async def _detect(self, request: web.Request) -> web.Response:
        body = await self._read(request)
        if (failure := await self._enter("/detect", body)) is not None:
            return failure
        q = body.get("q")
        if not q or not isinstance(q, str):
            return _error(400, "Invalid request: missing q parameter")
        language, confidence = self.detect_one(q)
        return web.json_response([{"confidence": confidence, "language": language}])


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


async def _main(port: int) -> None:  # pragma: no cover - manual use
    server = FakeLibreTranslate()
    await server.start(port=port)
    print(f"fake LibreTranslate at {server.url}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":  # pragma: no cover - manual use
    import sys

    asyncio.run(_main(int(sys.argv[1]) if len(sys.argv) > 1 else 5000))
