"""An HTTP server that answers the Bot API like Telegram, plus helpers for tests.

The real python-telegram-bot stack (HTTP client, retries, rate limiter, update
fetching) runs unchanged against it, so tests exercise what production does.
Tests play the people: they inject messages and button taps and read back what the
bot sent, waiting on the sandbox rather than sleeping.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import collections
import contextlib
import copy
import dataclasses
import functools
import json
import logging
import math
import mimetypes
import socket
import time
from collections.abc import Callable, Iterable
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import aiohttp
from aiohttp import web

from bot.clock import Clock, FakeClock
from sandbox.loopback import LoopbackServer, client_gone
from sandbox.methods import METHODS
from sandbox.schema import SCHEMA_ENV, ApiSchema, Problem, Upload, decode_loose, find_schema
from sandbox.world import (
    JSON,
    TINY_PNG,
    ApiError,
    Call,
    Fault,
    SandboxError,
    Webhook,
    World,
)

__all__ = ["Hold", "Sandbox", "SandboxError", "Storm"]

log = logging.getLogger(__name__)

WAIT_LIMIT = 30.0
"""Seconds a wait for the bot gives up after, by default: a guard against a hang, never a
measure. A wait returns as soon as its condition holds, so a long limit costs a passing test
nothing, while on a loaded machine (a shared 2-core box running the suite on every core) the
bot may take seconds for what usually takes milliseconds."""
T = TypeVar("T")

STATIC_DIR = Path(__file__).with_name("static")
_WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to "
    "delete the webhook first"
)
_CONFLICT = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot "
    "instance is running"
)
# Minimal valid-looking payloads so tests can send "a voice message" without fixtures.
OGG_STUB = b"OggS\x00\x02" + b"\x00" * 58
WEBP_STUB = b"RIFF\x1a\x00\x00\x00WEBPVP8 " + b"\x00" * 14
MP4_STUB = b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 12


def _is_sending(method: str) -> bool:
    return (method.startswith("send") and method != "sendChatAction") or method in (
        "copyMessage",
        "copyMessages",
        "forwardMessage",
        "forwardMessages",
    )


@functools.lru_cache(maxsize=4)
def _load_schema(path: str, mtime: float) -> ApiSchema:
    del mtime  # part of the cache key only, so an edited schema is re-read
    return ApiSchema.load(path)


@dataclasses.dataclass
class Storm:
    """A stretch of the clock's elapsed time in which Telegram answers every send with 429."""

    start: float
    end: float
    retry_after: int
    refused: int = 0


@dataclasses.dataclass
class Hold:
    """A call the sandbox keeps waiting (see :meth:`Sandbox.hold`)."""

    method: str
    when: Callable[[JSON], bool]
    every: bool = False
    """Hold every matching call until released, not just the next one."""
    held: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    release: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    calls: list[JSON] = dataclasses.field(default_factory=list)
    """The parameters of the calls held so far."""
    dropped: bool = False

    def drop(self) -> None:
        """Hold nothing more, and never deliver what was held (as if those requests were
        lost with the process that sent them)."""
        self.dropped = True
        self.release.set()


class Sandbox(LoopbackServer):
    """A local Telegram: Bot API over HTTP on one side, people on the other."""

    def __init__(
        self,
        token: str = "123456:SANDBOX",
        *,
        clock: Clock | None = None,
        schema: ApiSchema | None = None,
        strict: bool = True,
        max_per_second: float | None = None,
        group_per_minute: int | None = None,
    ) -> None:
        self.token = token
        self.world = World(token, clock)
        self.strict = strict
        self.max_per_second = max_per_second
        self.group_per_minute = group_per_minute
        if schema is None:
            path = find_schema()
            if path is not None:
                schema = _load_schema(str(path), path.stat().st_mtime)
            elif strict:
                raise FileNotFoundError(
                    f"Bot API schema not found (sandbox/data/api.json or ${SCHEMA_ENV}); "
                    "run make update-schema or create the Sandbox with strict=False"
                )
            else:
                log.warning("Bot API schema not found; the sandbox will not validate calls")
        self.schema = schema
        self.stats: collections.Counter[str] = collections.Counter()
        self._methods = {name.lower(): name for name in METHODS}
        self._methods["getupdates"] = "getUpdates"
        self._window_all: collections.deque[float] = collections.deque()
        self._window_group: dict[int, collections.deque[float]] = {}
        self._update_event = asyncio.Event()
        self._activity_event = asyncio.Event()
        self._last_activity = time.monotonic()
        self._in_flight = 0
        self._poll_generation = 0
        self._stopping = False
        self._runner: web.AppRunner | None = None
        self._port: int | None = None
        self._host = "127.0.0.1"
        #: Time zone the chat page shows times in (the bot's ``QUARTIERBOT_TZ``).
        self.timezone = "Europe/Berlin"
        self.world.on_change(self._on_change)
        self._webhook_routes: dict[str, str] = {}
        self._webhook_task: asyncio.Task[None] | None = None
        self.world.on_change(self._on_webhook_change)
        self._storm: Storm | None = None
        self.storms: list[Storm] = []
        self._holds: list[Hold] = []
        self.app = self._make_app()

    # ------------------------------------------------------------ lifecycle

    def _make_app(self) -> web.Application:
        app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[client_gone])
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_get("/sandbox/api/state", self._handle_state)
        app.router.add_post("/sandbox/api/action", self._handle_action)
        app.router.add_get("/sandbox/api/files/{file_id}", self._handle_file_by_id)
        app.router.add_get("/sandbox/api/events", self._handle_events)
        if STATIC_DIR.is_dir():
            app.router.add_get("/", self._redirect_to_page)
            app.router.add_get("/sandbox", self._redirect_to_page)
            app.router.add_get("/sandbox/", self._handle_index)
            app.router.add_static("/sandbox/static/", STATIC_DIR)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host:port``; port 0 picks a free one (see :attr:`url`)."""
        if self._runner is not None:
            raise RuntimeError("sandbox already started")
        self._stopping = False
        runner = web.AppRunner(self.app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.setblocking(False)
        site = web.SockSite(runner, sock)
        await site.start()
        self._runner = runner
        self._host = host
        self._port = int(sock.getsockname()[1])

    async def stop(self) -> None:
        """Stop serving; pending long polls return at once instead of holding shutdown."""
        self._stopping = True
        self._wake_polls()
        await self._stop_webhook_delivery()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    @property
    def base_url(self) -> str:
        """What to pass as ``base_url`` to PTB (it appends the token)."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    # -------------------------------------------------------------- events

    def _on_change(self) -> None:
        self._touch()
        self._wake_polls()

    def _wake_polls(self) -> None:
        self._update_event.set()
        self._update_event = asyncio.Event()
        self._activity_event.set()
        self._activity_event = asyncio.Event()

    def _touch(self) -> None:
        self._last_activity = time.monotonic()

    # ------------------------------------------------------------ Bot API

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        requested = request.match_info["method"]
        name = self._canonical(requested)
        if name is None:
            self.world.violations.append(f"{requested}: unknown method")
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        polling = name == "getUpdates"
        if not polling:
            self._in_flight += 1
            self._touch()
        try:
            return await self._answer(request, name)
        finally:
            if not polling:
                self._in_flight -= 1
                self._touch()
            self._activity_event.set()
            self._activity_event = asyncio.Event()

    def _canonical(self, method: str) -> str | None:
        if self.schema is not None:
            known = self.schema.canonical(method)
            if known is not None:
                return known
        return self._methods.get(method.lower())

    async def _answer(self, request: web.Request, name: str) -> web.Response:
        call = Call(name, {}, at=self.world.clock.now(), monotonic=self.world.clock.monotonic())
        self.stats["calls"] += 1
        try:
            raw = await _read_params(request)
            problems: list[Problem] = []
            if self.schema is not None:
                params, problems = self.schema.check(name, raw)
            else:
                params = decode_loose(raw)
            call.params = params
            self.world.call_log.append(call)
            for problem in problems:
                self.world.violations.append(f"{name}: {problem}")
            if problems and self.strict:
                first = problems[0]
                raise ApiError.bad_request(first.telegram or str(first))
            fault = self.world.take_fault(name, target_chat(params))
            if fault is not None:
                raise ApiError(fault.error_code, fault.description, retry_after=fault.retry_after)
            self._storm_refusal(name)
            await self._hold_if_asked(name, params)
            self._rate_limit(name, params)
            if name == "getUpdates":
                result: Any = await self._get_updates(params)
            else:
                handler = METHODS.get(name)
                if handler is None:
                    self.world.violations.append(f"{name}: not implemented by the sandbox")
                    raise ApiError.bad_request(f"method {name} is not supported by the sandbox")
                result = handler(self.world, params)
            call.result = result
            return web.json_response({"ok": True, "result": result})
        except ApiError as exc:
            if call not in self.world.call_log:
                self.world.call_log.append(call)
            call.error_code, call.description = exc.code, exc.description
            body: JSON = {"ok": False, "error_code": exc.code, "description": exc.description}
            if exc.code == 429:
                self.stats["429"] += 1
                body["parameters"] = {"retry_after": max(1, exc.retry_after or 1)}
            self.stats["errors"] += 1
            return web.json_response(body, status=exc.code if 400 <= exc.code < 600 else 400)

    def _rate_limit(self, name: str, params: JSON) -> None:
        if name == "getUpdates":
            return
        # Per second in the world clock's elapsed time (real seconds unless a test moves it),
        # the time the bot paces in.
        now = self.world.clock.monotonic()
        if self.max_per_second:
            span = 1.0 if self.max_per_second >= 1 else 1.0 / self.max_per_second
            allowed = max(1, int(self.max_per_second * span))
            window = self._window_all
            while window and window[0] <= now - span:
                window.popleft()
            if len(window) >= allowed:
                retry = max(1, math.ceil(window[0] + span - now))
                raise ApiError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
        chat_id = params.get("chat_id")
        group_window: collections.deque[float] | None = None
        # Per group and minute in the world's clock time, so a test that moves the clock
        # sees the minute pass (and a bot pacing in clock time is judged in the same time).
        world_now = self.world.clock.now().timestamp()
        if self.group_per_minute and _is_sending(name) and isinstance(chat_id, int) and chat_id < 0:
            group_window = self._window_group.setdefault(chat_id, collections.deque())
            while group_window and group_window[0] <= world_now - 60.0:
                group_window.popleft()
            if len(group_window) >= self.group_per_minute:
                retry = max(1, math.ceil(group_window[0] + 60.0 - world_now))
                raise ApiError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
        if self.max_per_second:
            self._window_all.append(now)
        if group_window is not None:
            group_window.append(world_now)

    async def _get_updates(self, params: JSON) -> list[JSON]:
        self._refuse_poll_while_webhook()
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_polls()  # an older long poll must learn it has been superseded
        offset = params.get("offset")
        limit = params.get("limit")
        timeout = params.get("timeout")
        allowed = params.get("allowed_updates")
        deadline = time.monotonic() + (float(timeout) if isinstance(timeout, int | float) else 0.0)
        while True:
            event = self._update_event
            if generation != self._poll_generation:
                raise ApiError(409, _CONFLICT)
            updates = self.world.fetch_updates(
                offset if isinstance(offset, int) else None,
                limit if isinstance(limit, int) else 100,
                allowed if isinstance(allowed, list) else None,
            )
            remaining = deadline - time.monotonic()
            if updates:
                self._touch()
                return updates
            if self._stopping or remaining <= 0:
                return updates
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    # ------------------------------------------------------------ webhooks
    # While the bot has a webhook set, the sandbox POSTs each update to it, one at a time
    # in order, with the secret header; an update counts as delivered on a 2xx answer and
    # is retried otherwise (Telegram's behaviour, with shorter pauses).

    def route_webhook(self, public_url: str, local_url: str) -> None:
        """Model the office's reverse proxy: a webhook URL starting with ``public_url``
        is delivered to ``local_url`` + the rest of its path, as nginx's
        ``location / { proxy_pass http://127.0.0.1:8443; }`` passes the path on."""
        self._webhook_routes[public_url.rstrip("/")] = local_url.rstrip("/")

    def allow_http_webhooks(self, allow: bool = True) -> None:
        """Tests only: let setWebhook accept ``http://127.0.0.1…`` (Telegram wants https)."""
        self.world.allow_http_webhooks = allow

    @property
    def webhook(self) -> Webhook | None:
        return self.world.webhook

    def webhook_target(self, url: str) -> str:
        for public in sorted(self._webhook_routes, key=len, reverse=True):
            if url == public or url.startswith(public + "/"):
                return self._webhook_routes[public] + url[len(public) :]
        return url

    def _refuse_poll_while_webhook(self) -> None:
        if self.world.webhook is not None:
            raise ApiError(409, _WEBHOOK_CONFLICT)

    def _on_webhook_change(self) -> None:
        if self.world.webhook is None or self._stopping:
            return
        if self._webhook_task is not None and not self._webhook_task.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # changed outside the event loop: the next change starts it
            return
        self._webhook_task = loop.create_task(self._deliver_webhooks(), name="sandbox-webhook")

    async def _stop_webhook_delivery(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _deliver_webhooks(self) -> None:
        pause = 0.0
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while not self._stopping:
                hook = self.world.webhook
                if hook is None:
                    return
                event = self._update_event
                w = self.world
                w.updates = [u for u in w.updates if _kind(u) in w.allowed_updates]
                if not w.updates:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(event.wait(), 1.0)
                    continue
                update = copy.deepcopy(w.updates[0])
                error = await self._post_update(session, hook, update)
                if error is None:
                    w.updates = [u for u in w.updates if u["update_id"] != update["update_id"]]
                    pause = 0.0
                    continue
                hook.last_error_date = w.now()
                hook.last_error_message = error
                pause = min(2.0, max(0.05, pause * 2))
                await asyncio.sleep(pause)

    async def _post_update(
        self, session: aiohttp.ClientSession, hook: Webhook, update: JSON
    ) -> str | None:
        """POST one update; None when delivered, else the error getWebhookInfo shows."""
        headers = {"Content-Type": "application/json"}
        if hook.secret_token is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = hook.secret_token
        self._in_flight += 1
        self._touch()
        self.stats["webhook_posts"] += 1
        try:
            async with session.post(
                self.webhook_target(hook.url), data=json.dumps(update), headers=headers
            ) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return None
                return f"Wrong response from the webhook: {response.status} {response.reason}"
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            return f"Connection failed: {type(exc).__name__}"
        finally:
            self._in_flight -= 1
            self._touch()
            self._activity_event.set()
            self._activity_event = asyncio.Event()

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        stored = self.world.files_by_path.get(request.match_info["path"])
        if request.match_info["token"] != self.token or stored is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(body=stored.data, content_type="application/octet-stream")

    # ------------------------------------------------------- control API

    async def _handle_index(self, request: web.Request) -> web.StreamResponse:
        return web.FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})

    async def _redirect_to_page(self, request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound("/sandbox/")

    async def _handle_file_by_id(self, request: web.Request) -> web.StreamResponse:
        """A file by id, typed so the chat page can show photos and offer downloads."""
        stored = self.world.files.get(request.match_info["file_id"])
        if stored is None:
            raise web.HTTPNotFound()
        media = stored.media if isinstance(stored.media, dict) else {}
        name = str(media.get("file_name") or stored.file_path.rsplit("/", 1)[-1])
        ctype = str(media.get("mime_type") or "")
        if stored.data[:8] == b"\x89PNG\r\n\x1a\n":
            ctype = "image/png"
        elif stored.data[:2] == b"\xff\xd8":
            ctype = "image/jpeg"
        ctype = ctype or mimetypes.guess_type(name)[0] or "application/octet-stream"
        headers = {}
        if "download" in request.query:
            headers["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
        return web.Response(body=stored.data, content_type=ctype, headers=headers)

    async def _handle_state(self, request: web.Request) -> web.Response:
        """Snapshot; with ``since``/``wait`` it long-polls until the state moves on."""
        try:
            since = int(request.query.get("since", "-1"))
            wait = min(float(request.query.get("wait", "0")), 60.0)
        except ValueError:
            raise web.HTTPBadRequest(text="since/wait must be numbers") from None
        deadline = time.monotonic() + wait
        while self.world.version <= since and not self._stopping:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            event = self._activity_event
            try:
                await asyncio.wait_for(event.wait(), remaining)
            except TimeoutError:
                break
        return web.json_response(self.page_state())

    # The chat page (static/) follows the sandbox over server-sent events: the whole state
    # whenever it changed, and the sandbox clock once a second (it may be ticking).
    def clock_state(self) -> JSON:
        return {
            "now": self.world.clock.now().isoformat(),
            "timezone": self.timezone,
            "can_advance": isinstance(self.world.clock, FakeClock),
        }

    def page_state(self) -> JSON:
        """The world's state plus what only the page needs: the clock, button answers."""
        state = self.world.state()
        state["clock"] = self.clock_state()
        toasts = []
        for n, answer in enumerate(self.world.callback_answers):
            query = self.world.callback_queries.get(str(answer.get("callback_query_id")))
            if answer.get("text") and query is not None:
                toasts.append(
                    {
                        "n": n,
                        "user_id": query["query"]["from"]["id"],
                        "text": str(answer["text"]),
                        "alert": bool(answer.get("show_alert")),
                    }
                )
        state["toasts"] = toasts[-20:]
        return state

    async def _handle_events(self, request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "X-Accel-Buffering": "no",
            }
        )
        await response.prepare(request)
        sent_version = -1
        clock_sent = 0.0
        with contextlib.suppress(ConnectionError):
            while not self._stopping:
                event = self._activity_event
                if self.world.version != sent_version:
                    sent_version = self.world.version
                    await response.write(_sse("state", self.page_state()))
                    clock_sent = time.monotonic()
                elif time.monotonic() - clock_sent >= 1.0:
                    await response.write(_sse("clock", self.clock_state()))
                    clock_sent = time.monotonic()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(event.wait(), 1.0)
                await asyncio.sleep(0.03)  # one state for a burst of changes
        return response

    async def _handle_action(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("body must be a JSON object")
            result = self.perform(body)
        except (SandboxError, ValueError, KeyError, TypeError, binascii.Error) as exc:
            return web.json_response(
                {"ok": False, "error": f"{type(exc).__name__}: {exc}"}, status=400
            )
        return web.json_response({"ok": True, "result": result})

    def perform(self, action: JSON) -> Any:
        """Run a JSON-described people action (the control API's and chat page's entry)."""
        kind = str(action.get("action", ""))
        w = self.world

        def user() -> JSON:
            return w.user(int(action["user_id"]))

        def message() -> JSON:
            chat = w.chat(int(action["chat_id"]))
            mid = int(action["message_id"])
            if mid not in chat.messages:
                raise SandboxError(f"no message {mid} in chat {chat.id}")
            return chat.messages[mid]

        where: dict[str, Any] = {
            "chat_id": int(action["chat_id"]) if action.get("chat_id") is not None else None,
            "thread_id": int(action["thread_id"]) if action.get("thread_id") else None,
            "reply_to": int(action["reply_to"]) if action.get("reply_to") else None,
        }
        media_kinds = ("photo", "document", "voice", "audio", "video", "video_note", "sticker")
        if kind == "add_user":
            return w.add_user(
                str(action["first_name"]),
                last_name=action.get("last_name"),
                username=action.get("username"),
                language_code=action.get("language_code", "de"),
                user_id=action.get("user_id"),
            )
        if kind == "add_group":
            return w.add_group(
                str(action["title"]),
                is_forum=bool(action.get("is_forum", True)),
                chat_id=action.get("chat_id"),
            )
        if kind == "send_text":
            return w.send_text(user(), str(action["text"]), **where)
        if kind.startswith("send_") and kind[5:] in media_kinds:
            data = base64.b64decode(action["data"]) if action.get("data") else None
            return w.send_media(
                user(),
                kind[5:],
                data if data is not None else _stub(kind[5:]),
                caption=action.get("caption"),
                file_name=action.get("file_name"),
                mime_type=action.get("mime_type"),
                extra={k: action[k] for k in ("emoji", "duration") if action.get(k)} or None,
                **where,
            )
        if kind == "send_location":
            return w.user_send(
                user(),
                {
                    "location": {
                        "latitude": float(action["latitude"]),
                        "longitude": float(action["longitude"]),
                    }
                },
                **where,
            )
        if kind == "send_contact":
            return self.send_contact(
                user(), str(action["phone"]), str(action["first_name"]), **where
            )
        if kind == "edit_text":
            return w.edit_text(user(), message(), str(action["text"]))
        if kind == "tap":
            data = action.get("data")
            try:
                return w.tap(user(), message(), data=data, text=action.get("text"))
            except SandboxError:
                shown = w.chat(int(action["chat_id"])).messages.get(int(action["message_id"]))
                if not isinstance(data, str) or not (shown or {}).get("from", {}).get("is_bot"):
                    raise
                # The page showed this button a moment ago and the bot has since edited the
                # message (a double tap): Telegram's app still sends the old button's data,
                # and it is the bot's job to answer it.
                return w.tap_raw(user(), message(), data)
        if kind == "block":
            return w.block(user())
        if kind == "unblock":
            return w.unblock(user())
        if kind == "set_admin":
            w.set_admin(int(action["chat_id"]), user(), bool(action.get("is_admin", True)))
            return True
        if kind == "advance_clock":
            return self.advance_clock(
                days=float(action.get("days", 0)),
                hours=float(action.get("hours", 0)),
                minutes=float(action.get("minutes", 0)),
            )
        by = w.user(int(action["by_user_id"])) if action.get("by_user_id") else None
        if kind == "create_topic":
            return w.create_topic(int(action["chat_id"]), str(action["name"]), by=by)
        if kind in ("close_topic", "reopen_topic"):
            w.close_topic(
                int(action["chat_id"]),
                int(action["thread_id"]),
                by=by,
                closed=kind == "close_topic",
            )
            return True
        if kind == "delete_topic":
            w.delete_topic(int(action["chat_id"]), int(action["thread_id"]))
            return True
        raise SandboxError(f"unknown action {kind!r}")

    def advance_clock(self, *, days: float = 0, hours: float = 0, minutes: float = 0) -> str:
        """Fast-forward: move the sandbox's FakeClock so that reminders become due."""
        clock = self.world.clock
        if not isinstance(clock, FakeClock):
            raise SandboxError("the sandbox clock is the real time; only a FakeClock moves")
        delta = timedelta(days=days, hours=hours, minutes=minutes)
        if delta < timedelta(0):
            raise ValueError("time only moves forward")
        now = clock.advance(delta)
        self.world.changed()
        return now.isoformat()

    # ------------------------------------------------------ people acting

    def add_user(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "de",
        user_id: int | None = None,
    ) -> JSON:
        """Create a person (and their private chat with the bot); returns a User dict."""
        return self.world.add_user(
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            user_id=user_id,
        )

    def add_group(
        self,
        title: str,
        *,
        is_forum: bool = True,
        chat_id: int | None = None,
        admins: Iterable[JSON] = (),
    ) -> JSON:
        """Create a supergroup the bot administers; the first of ``admins`` is its creator."""
        return self.world.add_group(title, is_forum=is_forum, chat_id=chat_id, admins=admins)

    def add_bot_to_group(self, chat_id: int, by: JSON) -> JSON:
        return self.world.add_bot_to_group(chat_id, by)

    def in_group(self, chat_id: int) -> bool:
        """Whether the bot is (still) a member of that group."""
        return self.world.group(chat_id).bot_member

    def set_admin(self, chat_id: int, user: JSON, is_admin: bool = True) -> None:
        self.world.set_admin(chat_id, user, is_admin)

    def set_bot_membership(self, chat_id: int, status: str = "member", **rights: bool) -> None:
        """What getChatMember says about the bot in a group (default: admin, every right);
        e.g. ``set_bot_membership(chat, "administrator", can_manage_topics=False)``."""
        member: JSON = {"status": status}
        if status == "administrator":
            member |= {"can_be_edited": False, "is_anonymous": False}
            for right in (
                "can_manage_chat", "can_delete_messages", "can_manage_video_chats",
                "can_restrict_members", "can_promote_members", "can_change_info",
                "can_invite_users", "can_post_stories", "can_edit_stories",
                "can_delete_stories", "can_pin_messages", "can_manage_topics",
            ):  # fmt: skip
                member[right] = rights.get(right, True)
        self.world.bot_memberships[chat_id] = member

    def send_text(
        self,
        user: JSON,
        text: str,
        *,
        chat_id: int | None = None,
        thread_id: int | None = None,
        reply_to: JSON | int | None = None,
    ) -> JSON:
        return self.world.send_text(
            user, text, chat_id=chat_id, thread_id=thread_id, reply_to=reply_to
        )

    def send_photo(
        self,
        user: JSON,
        data: bytes = TINY_PNG,
        caption: str | None = None,
        *,
        chat_id: int | None = None,
        thread_id: int | None = None,
        reply_to: JSON | int | None = None,
    ) -> JSON:
        return self.world.send_media(
            user,
            "photo",
            data,
            caption=caption,
            chat_id=chat_id,
            thread_id=thread_id,
            reply_to=reply_to,
        )

    def send_document(
        self,
        user: JSON,
        data: bytes,
        file_name: str,
        mime_type: str,
        caption: str | None = None,
        *,
        chat_id: int | None = None,
        thread_id: int | None = None,
        reply_to: JSON | int | None = None,
    ) -> JSON:
        return self.world.send_media(
            user,
            "document",
            data,
            caption=caption,
            file_name=file_name,
            mime_type=mime_type,
            chat_id=chat_id,
            thread_id=thread_id,
            reply_to=reply_to,
        )

    def send_voice(
        self,
        user: JSON,
        data: bytes = OGG_STUB,
        caption: str | None = None,
        *,
        duration: int = 3,
        chat_id: int | None = None,
        thread_id: int | None = None,
        reply_to: JSON | int | None = None,
    ) -> JSON:
        return self.world.send_media(
            user,
            "voice",
            data,
            caption=caption,
            extra={"duration": duration},
            chat_id=chat_id,
            thread_id=thread_id,
            reply_to=reply_to,
        )

    def send_audio(
        self,
        user: JSON,
        data: bytes = b"ID3\x03\x00",
        caption: str | None = None,
        *,
        file_name: str = "audio.mp3",
        mime_type: str = "audio/mpeg",
        duration: int = 30,
        performer: str | None = None,
        title: str | None = None,
        chat_id: int | None = None,
        thread_id: int | None = None,
        reply_to: JSON | int | None = None,
    ) -> JSON:
        return self.world.send_media(
            user,
            "audio",
            data,
            caption=caption,
            file_name=file_name,
            mime_type=mime_type,
            extra={"duration": duration, "performer": performer, "title": title},
            chat_id=chat_id,
            thread_id=thread_id,
            reply_to=reply_to,
        )

    def send_video(
        self,
        user: JSON,
        data: bytes = MP4_STUB,
        caption: str | None = None,
        *,
        duration: int = 5,
        width: int = 640,
        height: int = 360,
        chat_id: int | None = None,
        thread_id: int | None = None,
        reply_to: JSON | int | None = None,
    ) -> JSON:
        return self.world.send_media(
            user,
            "video",
            data,
            caption=caption,
            file_name="video.mp4",
            mime_type="video/mp4",
            extra={"duration": duration, "width": width, "height": height},
            chat_id=chat_id,
            thread_id=thread_id,
            reply_to=reply_to,
        )

    def send_video_note(
        self,
        user: JSON,
        data: bytes = MP4_STUB,
        *,
        duration: int = 5,
        length: int = 240,
        chat_id: int | None = None,
        thread_id: int | None = None,
        reply_to: JSON | int | None = None,
    ) -> JSON:
        return self.world.send_media(
            user,
            "video_note",
            data,
            extra={"duration": duration, "length": length},
            chat_id=chat_id,
            thread_id=thread_id,
            reply_to=reply_to,
        )

    def send_raw_update(self, fields: JSON) -> JSON:
        """Deliver ``{"update_id": …, **fields}`` as is, e.g. a poll without a field PTB
        requires."""
        return self.world.push_raw(fields)

    def send_sticker(
        self,
        user: JSON,
        data: bytes = WEBP_STUB,
        *,
        emoji: str = "👍",
        chat_id: int | None = None,
        thread_id: int | None = None,
        reply_to: JSON | int | None = None,
    ) -> JSON:
        return self.world.send_media(
            user,
            "sticker",
            data,
            extra={"emoji": emoji},
            chat_id=chat_id,
            thread_id=thread_id,
            reply_to=reply_to,
        )

    def send_location(
        self,
        user: JSON,
        lat: float,
        lon: float,
        *,
        chat_id: int | None = None,
        thread_id: int | None = None,
        reply_to: JSON | int | None = None,
    ) -> JSON:
        return self.world.user_send(
            user,
            {"location": {"latitude": float(lat), "longitude": float(lon)}},
            chat_id=chat_id,
            thread_id=thread_id,
            reply_to=reply_to,
        )

    def send_contact(
        self,
        user: JSON,
        phone: str,
        first_name: str,
        *,
        last_name: str | None = None,
        contact_user_id: int | None = None,
        chat_id: int | None = None,
        thread_id: int | None = None,
        reply_to: JSON | int | None = None,
    ) -> JSON:
        """``contact_user_id`` = the sender's id is what a request_contact button produces."""
        contact: JSON = {"phone_number": phone, "first_name": first_name}
        if last_name:
            contact["last_name"] = last_name
        if contact_user_id is not None:
            contact["user_id"] = contact_user_id
        return self.world.user_send(
            user, {"contact": contact}, chat_id=chat_id, thread_id=thread_id, reply_to=reply_to
        )

    def send_media_group(
        self,
        user: JSON,
        items: Iterable[tuple[str, bytes, str | None]],
        *,
        chat_id: int | None = None,
        thread_id: int | None = None,
    ) -> list[JSON]:
        """Several messages sharing a media_group_id, each delivered as its own update."""
        return self.world.send_media_group(user, items, chat_id=chat_id, thread_id=thread_id)

    def edit_text(self, user: JSON, message: JSON, new_text: str) -> JSON:
        return self.world.edit_text(user, message, new_text)

    def tap(
        self, user: JSON, message: JSON, *, data: str | None = None, text: str | None = None
    ) -> JSON:
        """Press an inline button of ``message`` (by callback_data or label)."""
        return self.world.tap(user, message, data=data, text=text)

    def tap_raw(self, user: JSON, message: JSON, data: str) -> JSON:
        """A callback with arbitrary data, as from an old keyboard or a forged client."""
        return self.world.tap_raw(user, message, data)

    def block(self, user: JSON) -> JSON:
        return self.world.block(user)

    def unblock(self, user: JSON) -> JSON:
        return self.world.unblock(user)

    def create_topic(
        self, chat_id: int, name: str, *, by: JSON | None = None, icon_color: int = 7322096
    ) -> JSON:
        return self.world.create_topic(chat_id, name, by=by, icon_color=icon_color)

    def close_topic(self, chat_id: int, thread_id: int, *, by: JSON | None = None) -> None:
        self.world.close_topic(chat_id, thread_id, by=by, closed=True)

    def reopen_topic(self, chat_id: int, thread_id: int, *, by: JSON | None = None) -> None:
        self.world.close_topic(chat_id, thread_id, by=by, closed=False)

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        self.world.delete_topic(chat_id, thread_id)

    def fail_next(
        self,
        method: str,
        error_code: int,
        description: str,
        *,
        retry_after: int | None = None,
        times: int = 1,
        chat_id: int | None = None,
    ) -> None:
        """Make the next ``times`` calls of ``method`` (to ``chat_id``) fail like this."""
        if error_code == 429 and retry_after is None:
            retry_after = 1
        self.world.add_fault(
            Fault(method.lower(), error_code, description, retry_after, times, chat_id)
        )

    # ------------------------------------------------------- reading

    @property
    def bot_user(self) -> JSON:
        return dict(self.world.bot)

    @property
    def violations(self) -> list[str]:
        return self.world.violations

    @property
    def callback_answers(self) -> list[JSON]:
        return self.world.callback_answers

    @property
    def chat_actions(self) -> list[JSON]:
        return self.world.chat_actions

    def calls(self, method: str | None = None, chat_id: int | None = None) -> list[Call]:
        return self.world.calls(method, chat_id)

    def messages(self, chat_id: int, thread_id: int | None = None) -> list[JSON]:
        return self.world.messages(chat_id, thread_id)

    def bot_messages(self, chat_id: int, thread_id: int | None = None) -> list[JSON]:
        return self.world.bot_messages(chat_id, thread_id)

    def last_bot_message(self, chat_id: int, thread_id: int | None = None) -> JSON | None:
        msgs = self.world.bot_messages(chat_id, thread_id)
        return msgs[-1] if msgs else None

    def topics(self, chat_id: int) -> list[JSON]:
        return self.world.topics(chat_id)

    def commands(self, language_code: str | None = None, scope: JSON | None = None) -> list[JSON]:
        return self.world.commands(language_code, scope)

    def shown_commands(self, chat_id: int, language_code: str | None) -> list[JSON]:
        return self.world.shown_commands(chat_id, language_code)

    def reply_keyboard(self, chat_id: int) -> JSON | None:
        """The custom reply keyboard currently shown in ``chat_id`` (None if removed/never)."""
        return self.world.reply_keyboards.get(chat_id)

    def file_bytes(self, file_id: str) -> bytes:
        stored = self.world.files.get(file_id)
        if stored is None:
            raise SandboxError(f"unknown file_id {file_id!r}")
        return stored.data

    # ------------------------------------------------------- waiting

    def _recent_calls(self, n: int = 8) -> str:
        calls = [c for c in self.world.call_log if c.method != "getUpdates"][-n:]
        lines = [f"  {c}" for c in calls] or ["  (no calls besides getUpdates)"]
        polls = sum(1 for c in self.world.call_log if c.method == "getUpdates")
        text = "last calls:\n" + "\n".join(lines) + f"\n  ({polls} getUpdates calls)"
        if self.world.violations:
            text += "\nviolations:\n" + "\n".join(f"  {v}" for v in self.world.violations[-5:])
        return text

    @property
    def in_flight(self) -> int:
        """Bot API calls being answered right now (long polls for updates not counted)."""
        return self._in_flight

    async def wait_for(
        self,
        predicate: Callable[[], T | None],
        timeout: float = WAIT_LIMIT,  # noqa: ASYNC109 - a deadline for the whole wait
        *,
        message: str | None = None,
        poll: float = 0.02,
    ) -> T:
        """Poll ``predicate`` after every API call (and every ``poll`` s) until it is truthy.
        The timeout only guards against a hang (see :data:`WAIT_LIMIT`).

        A predicate about what the bot sent becomes true with an API call; one about the
        bot's own state (a handler finished, a worker went idle) wants a shorter ``poll``.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                what = message or getattr(predicate, "__name__", "condition")
                raise TimeoutError(f"{what} not met within {timeout}s; {self._recent_calls()}")
            event = self._activity_event
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), min(poll, remaining))

    async def wait_bot_messages(
        self,
        chat_id: int,
        count: int = 1,
        thread_id: int | None = None,
        timeout: float = WAIT_LIMIT,  # noqa: ASYNC109
    ) -> list[JSON]:
        """Wait for ``count`` bot messages newer than the last thing a person did there.

        Returns all such messages present at that moment (possibly more than ``count``).
        """

        def fresh() -> list[JSON]:
            msgs = [
                m
                for m in self.world.bot_messages(chat_id, thread_id)
                if self.world.is_new_since_user_action(chat_id, m["message_id"])
            ]
            return msgs if len(msgs) >= count else []

        return await self.wait_for(
            fresh,
            timeout,
            message=f"{count} new bot message(s) in chat {chat_id}"
            + (f" thread {thread_id}" if thread_id is not None else ""),
        )

    async def settle(self, quiet: float = 0.05, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until every update was confirmed and the bot has been quiet for ``quiet`` s.

        A guess from outside the bot, for a bot in another process (the benches): it costs
        ``quiet`` seconds every time and cannot see work the bot has yet to start. Tests that
        run the bot in-process ask the bot itself whether it is idle
        (``tests.conftest.Harness.idle``), which also shows that nothing more will happen.
        """
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            if (
                not self.world.updates
                and self._in_flight == 0
                and now - self._last_activity >= quiet
            ):
                return
            if now >= deadline:
                raise TimeoutError(
                    f"sandbox did not settle within {timeout}s: {len(self.world.updates)} "
                    f"unconfirmed update(s), {self._in_flight} call(s) in flight; "
                    + self._recent_calls()
                )
            await asyncio.sleep(min(0.01, max(quiet / 4, 0.001)))

    # ---------------------------------------------- storms, send rates, a kill at a moment
    # Storms and send rates are in the world clock's elapsed time (``Clock.monotonic``): real
    # seconds as Telegram counts them, unless a test moves the clock, which is what the bot's
    # waits after a 429 count in too (its rate limiter and its lanes sleep them out).

    def storm(self, seconds: float, *, retry_after: int = 5) -> Storm:
        """From now on, for ``seconds`` of the clock's elapsed time, every sending or editing
        request is answered 429 with ``parameters.retry_after`` (``retry_after``, or the time
        left if shorter; at least 1, as Telegram says whole seconds). Returns the storm, whose
        ``end`` is the moment it ends (as :attr:`Call.monotonic`); a test moves the clock past
        it instead of waiting."""
        now = self.world.clock.monotonic()
        storm = Storm(start=now, end=now + seconds, retry_after=retry_after)
        self._storm = storm
        self.storms.append(storm)
        return storm

    def _storm_refusal(self, name: str) -> None:
        storm = self._storm
        if storm is None or not (_is_sending(name) or name.startswith("edit")):
            return
        left = storm.end - self.world.clock.monotonic()
        if left <= 0:
            self._storm = None
            return
        storm.refused += 1
        retry = max(1, min(storm.retry_after, math.ceil(left)))
        raise ApiError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)

    def sends(self, since: float = 0.0) -> list[Call]:
        """Sending requests (as :func:`_is_sending` and edits) that reached the sandbox at
        or after ``since`` (as :attr:`Call.monotonic`), refused or not."""
        return [
            c
            for c in self.world.call_log
            if c.monotonic >= since and (_is_sending(c.method) or c.method.startswith("edit"))
        ]

    def peak_rate(self, since: float = 0.0, until: float = math.inf, span: float = 1.0) -> int:
        """The most sending requests within any ``span`` seconds of the clock's elapsed time
        (a sliding window, which is stricter than counting per wall-clock second) between
        ``since`` and ``until``."""
        times = sorted(c.monotonic for c in self.sends(since) if c.monotonic < until)
        peak, first = 0, 0
        for last, moment in enumerate(times):
            while times[first] <= moment - span:
                first += 1
            peak = max(peak, last - first + 1)
        return peak

    def hold(
        self,
        method: str,
        when: Callable[[JSON], bool] = lambda params: True,
        *,
        every: bool = False,
    ) -> Hold:
        """Hold the next call of ``method`` whose parameters satisfy ``when`` (or, with
        ``every``, each such call until released) before the sandbox handles it, so that
        nothing is delivered: ``held`` is set when one arrives, and the calls go on when
        ``release`` is set. Meanwhile a test can kill the bot, which then dies with those
        requests on their way (:meth:`Hold.drop`: they are never delivered)."""
        hold = Hold(method.lower(), when, every)
        self._holds.append(hold)
        return hold

    async def _hold_if_asked(self, name: str, params: JSON) -> None:
        for hold in self._holds:
            if hold.method == name.lower() and hold.when(params) and not hold.release.is_set():
                if not hold.every:
                    self._holds.remove(hold)
                hold.calls.append(params)
                hold.held.set()
                await hold.release.wait()
                if hold.dropped:
                    raise ApiError(502, "Bad Gateway: the request was lost")
                return


def _kind(update: JSON) -> str:
    return next(k for k in update if k != "update_id")


def _sse(event: str, data: JSON) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n".encode()


def _stub(kind: str) -> bytes:
    return {
        "photo": TINY_PNG,
        "voice": OGG_STUB,
        "sticker": WEBP_STUB,
        "video": MP4_STUB,
        "video_note": MP4_STUB,
    }.get(kind, b"sandbox file")


async def _read_params(request: web.Request) -> JSON:
    """Collect parameters from the query string and any of Telegram's three body formats."""
    params: JSON = dict(request.query)
    if not request.can_read_body:
        return params
    ctype = request.content_type
    if ctype == "application/json":
        try:
            body = await request.json()
        except ValueError:
            raise ApiError.bad_request("can't parse JSON encoded request body") from None
        if not isinstance(body, dict):
            raise ApiError.bad_request("JSON body must be an object")
        params.update(body)
    elif ctype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        for key, value in form.items():
            if isinstance(value, web.FileField):
                params[key] = Upload(
                    value.filename or "", value.content_type or "", value.file.read()
                )
            else:
                params[key] = str(value)
    return params


def target_chat(params: JSON) -> Any:
    """The chat a call is about: its ``chat_id``, or the chat of a command scope."""
    if params.get("chat_id") is not None:
        return params.get("chat_id")
    scope = params.get("scope")
    if isinstance(scope, str):
        try:
            scope = json.loads(scope)
        except ValueError:
            return None
    return scope.get("chat_id") if isinstance(scope, dict) else None
