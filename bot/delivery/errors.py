"""The one place that sorts Telegram's errors.

Telegram tells most failures apart only by the text of a 400 or 403 (PTB normalises the
prefix and the first letter, so matching is case-insensitive). Every sender — the staff
lane, the broadcast lane, handlers replying, the application's error handler — asks
:func:`classify` what an exception means and decides what to do from the :class:`Kind`;
nothing else in the bot matches on error messages.
"""

from __future__ import annotations

import enum
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut


class Kind(enum.Enum):
    RETRY_AFTER = "retry_after"
    """429: nothing was sent; wait ``Failure.retry_after`` seconds, then send again."""
    TIMED_OUT = "timed_out"
    """The request left but no answer came: it may have arrived."""
    NETWORK = "network"
    """Telegram was not reached (or answered 5xx): passing, try again later."""
    BLOCKED = "blocked"
    """403 from a resident who blocked the bot."""
    FORBIDDEN = "forbidden"
    """Any other 403: kicked from the group, the account is deactivated, not a member."""
    CHAT_GONE = "chat_gone"
    """400: the chat or user does not exist (any more)."""
    LOST_TOPIC = "lost_topic"
    """400: the forum topic was deleted, closed, or its id is invalid."""
    NOT_A_FORUM = "not_a_forum"
    """400: the group has no topics (any more)."""
    SOURCE_GONE = "source_gone"
    """400: the message to copy or forward is gone."""
    UNCOPYABLE = "uncopyable"
    """400: that kind of message cannot be copied or forwarded."""
    MESSAGE_GONE = "message_gone"
    """400: the message to edit or delete is not there (any more)."""
    NO_TEXT = "no_text"
    """400: the message to edit has no text (a photo, a voice message): edit its caption."""
    UNDELETABLE = "undeletable"
    """400: the bot may not delete that message (older than 48 hours, or not its own)."""
    NOT_MODIFIED = "not_modified"
    """400: the edit (or topic state change) changes nothing: the goal is reached."""
    BAD_REQUEST = "bad_request"
    """Any other 400: the request itself is wrong; sending it again will not help."""
    TELEGRAM = "telegram"
    """Another Telegram error (conflict, invalid token, migrated chat, ...)."""
    UNEXPECTED = "unexpected"
    """Not an error from Telegram at all: a bug."""


_UNREACHABLE = frozenset({Kind.BLOCKED, Kind.FORBIDDEN, Kind.CHAT_GONE})
_TRANSIENT = frozenset({Kind.RETRY_AFTER, Kind.NETWORK, Kind.TIMED_OUT})
_REFUSED = frozenset(
    {Kind.CHAT_GONE, Kind.LOST_TOPIC, Kind.NOT_A_FORUM, Kind.SOURCE_GONE, Kind.UNCOPYABLE,
     Kind.MESSAGE_GONE, Kind.NO_TEXT, Kind.UNDELETABLE, Kind.NOT_MODIFIED, Kind.BAD_REQUEST}
)  # fmt: skip

# Lower-case fragments of Telegram's descriptions, checked in this order.
_BAD_REQUESTS: tuple[tuple[Kind, tuple[str, ...]], ...] = (
    (Kind.NOT_MODIFIED, ("not modified", "not_modified")),
    (Kind.LOST_TOPIC, ("thread not found", "topic_deleted", "topic_id_invalid", "topic_closed")),
    (Kind.NOT_A_FORUM, ("not a forum",)),
    (Kind.CHAT_GONE, ("chat not found", "deactivated", "user not found")),
    (Kind.UNCOPYABLE, ("can't be copied", "can't be forwarded")),
    (Kind.MESSAGE_GONE, ("message to edit not found", "message to delete not found")),
    (Kind.UNDELETABLE, ("message can't be deleted",)),
    (Kind.NO_TEXT, ("no text in the message to edit",)),
    (Kind.SOURCE_GONE, ("message to copy not found", "message to forward not found",
                        "message_id_invalid")),
)  # fmt: skip


@dataclass(frozen=True)
class Failure:
    """What went wrong with one request, in the terms a sender decides on."""

    kind: Kind
    message: str
    retry_after: float = 0.0
    """Seconds to wait (``RETRY_AFTER`` only)."""

    @property
    def unreachable(self) -> bool:
        """The recipient cannot be written to (blocked, deleted, kicked us out)."""
        return self.kind in _UNREACHABLE

    @property
    def transient(self) -> bool:
        """Sending the same request again later may work."""
        return self.kind in _TRANSIENT

    @property
    def refused(self) -> bool:
        """Telegram answered 400: this request, as it is, will never be accepted."""
        return self.kind in _REFUSED

    @property
    def from_telegram(self) -> bool:
        return self.kind is not Kind.UNEXPECTED


def retry_seconds(exc: RetryAfter) -> float:
    """PTB 22 gives int or timedelta (and warns that it becomes a timedelta)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        value = exc.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


def classify(exc: BaseException) -> Failure:
    """Sort any exception raised by a request to Telegram."""
    if not isinstance(exc, TelegramError):
        return Failure(Kind.UNEXPECTED, repr(exc))
    message = exc.message
    if isinstance(exc, RetryAfter):
        return Failure(Kind.RETRY_AFTER, message, retry_seconds(exc))
    if isinstance(exc, Forbidden):
        blocked = "blocked" in message.lower()
        return Failure(Kind.BLOCKED if blocked else Kind.FORBIDDEN, message)
    if isinstance(exc, BadRequest):  # a subclass of NetworkError: before it
        text = message.lower()
        for kind, fragments in _BAD_REQUESTS:
            if any(f in text for f in fragments):
                return Failure(kind, message)
        return Failure(Kind.BAD_REQUEST, message)
    if isinstance(exc, TimedOut):
        return Failure(Kind.TIMED_OUT, message)
    if isinstance(exc, NetworkError):
        return Failure(Kind.NETWORK, message)
    return Failure(Kind.TELEGRAM, message)


# -- which request failed -------------------------------------------------------------------
@dataclass(frozen=True)
class Call:
    """The request Telegram did not accept: its Bot API method and the chat it was for
    (an id, never a name or what was sent)."""

    method: str
    chat_id: int | str | None = None

    def __str__(self) -> str:
        return self.method if self.chat_id is None else f"{self.method} in chat {self.chat_id}"


_CALL = "_quartierbot_call"


def remember_call(exc: TelegramError, method: str, data: Mapping[str, object]) -> None:
    """Note on the exception which request failed (the bot's HTTP layer does this for every
    request), so that a log line can name it without a traceback."""
    if getattr(exc, _CALL, None) is None:
        chat = data.get("chat_id")
        setattr(exc, _CALL, Call(method, chat if isinstance(chat, int | str) else None))


def call_of(exc: BaseException) -> Call | None:
    call = getattr(exc, _CALL, None)
    return call if isinstance(call, Call) else None
