"""The sandbox's picture of Telegram: users, chats, topics, messages, files and updates.

Kept free of HTTP so the same state can be driven by the Bot API server, by tests
acting as people, and by the browser chat page, and so it can be inspected directly.
Everything runs on one event loop; nothing here blocks or awaits.
"""

from __future__ import annotations

import copy
import itertools
import re
import secrets
import struct
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bot.clock import Clock, SystemClock

__all__ = [
    "GENERAL_TOPIC",
    "ApiError",
    "Call",
    "Chat",
    "Fault",
    "SandboxError",
    "StoredFile",
    "Topic",
    "Webhook",
    "World",
]

JSON = dict[str, Any]

#: Pass as ``thread_id`` to select the General topic (messages without a thread id).
GENERAL_TOPIC = 1

#: Keys that make a message a service message rather than something someone wrote.
SERVICE_KEYS = frozenset({
    "forum_topic_created", "forum_topic_edited", "forum_topic_closed", "forum_topic_reopened",
    "pinned_message", "new_chat_members", "left_chat_member", "new_chat_title",
    "group_chat_created", "supergroup_chat_created", "general_forum_topic_hidden",
    "general_forum_topic_unhidden",
})  # fmt: skip

#: Content a message carries that copyMessage/forwardMessage take along.
CONTENT_KEYS = (
    "text", "entities", "link_preview_options", "animation", "audio", "document", "photo",
    "sticker", "video", "video_note", "voice", "caption", "caption_entities",
    "show_caption_above_media", "has_media_spoiler", "contact", "venue", "location",
)  # fmt: skip

DEFAULT_UPDATES = frozenset({
    "message", "edited_message", "channel_post", "edited_channel_post", "business_connection",
    "business_message", "edited_business_message", "deleted_business_messages",
    "inline_query", "chosen_inline_result", "callback_query", "shipping_query",
    "pre_checkout_query", "purchased_paid_media", "poll", "poll_answer", "my_chat_member",
    "chat_join_request", "chat_boost", "removed_chat_boost", "managed_bot",
})  # fmt: skip

# A valid 1x1 PNG, so "a photo" is a real image when a test does not care which.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
    "0000000d49444154789c6360f8cfc0f01f0005000201e2d2c1e70000000049454e44ae426082"
)

_KIND_DIRS = {
    "photo": ("photos", ".jpg", "image/jpeg"),
    "document": ("documents", "", "application/octet-stream"),
    "voice": ("voice", ".oga", "audio/ogg"),
    "audio": ("music", ".mp3", "audio/mpeg"),
    "video": ("videos", ".mp4", "video/mp4"),
    "video_note": ("video_notes", ".mp4", "video/mp4"),
    "sticker": ("stickers", ".webp", "image/webp"),
    "animation": ("animations", ".mp4", "video/mp4"),
}
_KIND_NAMES = {
    "photo": "Photo", "document": "Document", "voice": "Voice", "audio": "Audio",
    "video": "Video", "video_note": "VideoNote", "sticker": "Sticker", "animation": "Animation",
}  # fmt: skip
_FILE_PREFIX = {
    "photo": "AgACAgIAAxkBAA", "document": "BQACAgIAAxkBAA", "voice": "AwACAgIAAxkBAA",
    "audio": "CQACAgIAAxkBAA", "video": "BAACAgIAAxkBAA", "video_note": "DQACAgIAAxkBAA",
    "sticker": "CAACAgIAAxkBAA", "animation": "CgACAgIAAxkBAA",
}  # fmt: skip


class SandboxError(Exception):
    """A test asked the sandbox for something impossible (e.g. tapping a missing button)."""


class ApiError(Exception):
    """A Bot API error reply: what Telegram would answer instead of a result."""

    def __init__(self, code: int, description: str, *, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after

    @classmethod
    def bad_request(cls, text: str) -> ApiError:
        return cls(400, f"Bad Request: {text}")


@dataclass
class Topic:
    thread_id: int
    name: str
    icon_color: int = 7322096
    icon_custom_emoji_id: str | None = None
    closed: bool = False

    def as_forum_topic(self) -> JSON:
        out: JSON = {
            "message_thread_id": self.thread_id,
            "name": self.name,
            "icon_color": self.icon_color,
        }
        if self.icon_custom_emoji_id:
            out["icon_custom_emoji_id"] = self.icon_custom_emoji_id
        return out


@dataclass
class Chat:
    id: int
    type: str  # "private" or "supergroup"
    title: str | None = None
    user: JSON | None = None  # the other party of a private chat
    is_forum: bool = False
    next_message_id: int = 1
    messages: dict[int, JSON] = field(default_factory=dict)
    topics: dict[int, Topic] = field(default_factory=dict)
    members: set[int] = field(default_factory=set)
    admins: list[int] = field(default_factory=list)  # first one is the creator
    pinned: list[int] = field(default_factory=list)
    bot_member: bool = True
    """False once the bot left (leaveChat) or was removed: nothing from here reaches it."""

    def as_dict(self) -> JSON:
        if self.type == "private":
            assert self.user is not None
            out: JSON = {"id": self.id, "type": "private", "first_name": self.user["first_name"]}
            for key in ("last_name", "username"):
                if self.user.get(key):
                    out[key] = self.user[key]
            return out
        out = {"id": self.id, "type": self.type, "title": self.title}
        if self.is_forum:
            out["is_forum"] = True
        return out


@dataclass
class StoredFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    kind: str
    media: Any = None  # the Message field value (PhotoSize list for photos)

    def as_file(self) -> JSON:
        return {
            "file_id": self.file_id,
            "file_unique_id": self.file_unique_id,
            "file_size": len(self.data),
            "file_path": self.file_path,
        }


@dataclass
class Call:
    """One Bot API request the bot made, as the sandbox understood and answered it."""

    method: str
    params: JSON
    result: Any = None
    error_code: int | None = None
    description: str | None = None
    at: datetime | None = None
    monotonic: float = 0.0
    """When it arrived, in the world clock's elapsed time (:meth:`bot.clock.Clock.monotonic`:
    real seconds, unless a test moves the clock): what storms and send rates count in."""

    @property
    def ok(self) -> bool:
        return self.error_code is None

    @property
    def chat_id(self) -> Any:
        return self.params.get("chat_id")

    def __str__(self) -> str:
        shown = {k: v for k, v in self.params.items() if not isinstance(v, bytes | bytearray)}
        outcome = "ok" if self.ok else f"{self.error_code} {self.description}"
        return f"{self.method}({_short(shown)}) -> {outcome}"


def _short(value: Any, limit: int = 160) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class Fault:
    method: str  # lower-case
    error_code: int
    description: str
    retry_after: int | None
    remaining: int
    chat_id: int | None


@dataclass
class Webhook:
    """What setWebhook stored; the server delivers updates to ``url`` while it is set."""

    url: str
    secret_token: str | None = None
    max_connections: int = 40
    ip_address: str | None = None
    last_error_date: int | None = None
    last_error_message: str | None = None

    def info(self, pending: int, allowed: Iterable[str]) -> JSON:
        info: JSON = {
            "url": self.url,
            "has_custom_certificate": False,
            "pending_update_count": pending,
            "max_connections": self.max_connections,
            "allowed_updates": sorted(allowed),
        }
        if self.ip_address:
            info["ip_address"] = self.ip_address
        if self.last_error_date is not None:
            info["last_error_date"] = self.last_error_date
            info["last_error_message"] = self.last_error_message
        return info


def _image_size(data: bytes) -> tuple[int, int]:
    """Read PNG/JPEG dimensions so photo sizes look plausible; fall back to 800x600."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        w, h = struct.unpack(">II", data[16:24])
        return int(w), int(h)
    if data[:2] == b"\xff\xd8":
        i = 2
        while i + 9 < len(data):
            if data[i] != 0xFF:
                break
            marker, seg = data[i + 1], struct.unpack(">H", data[i + 2 : i + 4])[0]
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                h, w = struct.unpack(">HH", data[i + 5 : i + 9])
                return int(w), int(h)
            i += 2 + seg
    return 800, 600


class World:
    """All sandbox state. Bot-side methods live in :mod:`sandbox.methods`."""

    def __init__(self, token: str, clock: Clock | None = None) -> None:
        self.token = token
        self.clock: Clock = clock or SystemClock()
        bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 123456
        self.bot: JSON = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "Quartierbot",
            "username": "quartierbot_sandbox_bot",
        }
        self.users: dict[int, JSON] = {}
        self.chats: dict[int, Chat] = {}
        self.updates: list[JSON] = []
        self.next_update_id = 100_000_001
        self.allowed_updates: frozenset[str] = DEFAULT_UPDATES
        #: Set by setWebhook; while set, getUpdates answers 409 and the server POSTs updates.
        self.webhook: Webhook | None = None
        #: Tests only: accept http://127.0.0.1/localhost webhook URLs (Telegram wants https).
        self.allow_http_webhooks = False
        #: The bot's membership per group when it is not the default (admin with every right).
        self.bot_memberships: dict[int, JSON] = {}
        self.files: dict[str, StoredFile] = {}
        self.files_by_path: dict[str, StoredFile] = {}
        self.blocked: set[int] = set()
        self.faults: list[Fault] = []
        self.call_log: list[Call] = []
        self.violations: list[str] = []
        self.callback_queries: dict[str, JSON] = {}
        self.callback_answers: list[JSON] = []
        self.bot_commands: dict[tuple[str, str], list[JSON]] = {}
        self.bot_settings: dict[str, Any] = {}
        self.reply_keyboards: dict[int, JSON | None] = {}
        self.chat_actions: list[JSON] = []
        self.version = 0
        self.engines: dict[str, str] = {}
        """What the chat page says about the bot's optional engines (set by the demo):
        name ("translation", "voice") -> one plain sentence."""
        self._seq = itertools.count(1)
        self._message_seq: dict[tuple[int, int], int] = {}
        self._last_user_action: dict[int, int] = {}
        self._file_counter = itertools.count()
        self._next_user_id = 100_000_001
        self._next_group = itertools.count(1)
        self._listeners: list[Callable[[], None]] = []

    # ------------------------------------------------------------ plumbing

    def on_change(self, listener: Callable[[], None]) -> None:
        """Long polls and waiters subscribe here instead of polling the state."""
        self._listeners.append(listener)

    def changed(self) -> None:
        self.version += 1
        for listener in list(self._listeners):
            listener()

    def now(self) -> int:
        return int(self.clock.now().timestamp())

    def push_update(self, kind: str, payload: JSON) -> JSON:
        update = {"update_id": self.next_update_id, kind: copy.deepcopy(payload)}
        self.next_update_id += 1
        self.updates.append(update)
        self.changed()
        return update

    def push_raw(self, fields: JSON) -> JSON:
        """An update exactly as given (plus its id), valid for Telegram or not: what a newer
        Bot API version may send that the bot's library cannot read."""
        update = {"update_id": self.next_update_id, **copy.deepcopy(fields)}
        self.next_update_id += 1
        self.updates.append(update)
        self.changed()
        return update

    def fetch_updates(
        self, offset: int | None, limit: int = 100, allowed: Iterable[str] | None = None
    ) -> list[JSON]:
        """getUpdates semantics: an offset confirms everything before it."""
        if allowed is not None:
            chosen = frozenset(allowed)
            self.allowed_updates = chosen or DEFAULT_UPDATES
        if offset is not None:
            if offset < 0:
                self.updates = self.updates[offset:]
            else:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
        # Updates of types the bot did not ask for are never generated by Telegram.
        self.updates = [u for u in self.updates if _update_kind(u) in self.allowed_updates]
        return copy.deepcopy(self.updates[: max(1, min(limit, 100))])

    # -------------------------------------------------------------- people

    def add_user(
        self,
        first_name: str,
        *,
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "de",
        user_id: int | None = None,
    ) -> JSON:
        if user_id is None:
            while self._next_user_id in self.users:
                self._next_user_id += 1
            user_id = self._next_user_id
            self._next_user_id += 1
        if user_id in self.users or user_id in self.chats:
            raise SandboxError(f"user id {user_id} already exists")
        user: JSON = {"id": user_id, "is_bot": False, "first_name": first_name}
        if last_name:
            user["last_name"] = last_name
        if username:
            user["username"] = username
        if language_code:
            user["language_code"] = language_code
        self.users[user_id] = user
        self.chats[user_id] = Chat(id=user_id, type="private", user=user)
        self.changed()
        return dict(user)

    def add_group(
        self,
        title: str,
        *,
        is_forum: bool = True,
        chat_id: int | None = None,
        admins: Iterable[JSON] = (),
    ) -> JSON:
        if chat_id is None:
            chat_id = -1_001_000_000_000 - next(self._next_group)
            while chat_id in self.chats:
                chat_id = -1_001_000_000_000 - next(self._next_group)
        if chat_id >= 0:
            raise SandboxError("group chat ids are negative")
        if chat_id in self.chats:
            raise SandboxError(f"chat {chat_id} already exists")
        # Message 1 is the group's creation; in forums id 1 also names the General topic.
        chat = Chat(
            id=chat_id, type="supergroup", title=title, is_forum=is_forum, next_message_id=2
        )
        for admin in admins:
            uid = self.user(admin)["id"]
            chat.admins.append(uid)
            chat.members.add(uid)
        self.chats[chat_id] = chat
        self.changed()
        return chat.as_dict()

    def set_admin(self, chat_id: int, user: JSON, is_admin: bool = True) -> None:
        chat = self.group(chat_id)
        uid = self.user(user)["id"]
        chat.members.add(uid)
        if is_admin and uid not in chat.admins:
            chat.admins.append(uid)
        elif not is_admin and uid in chat.admins:
            chat.admins.remove(uid)
        self.changed()

    def user(self, user: JSON | int) -> JSON:
        uid = user if isinstance(user, int) else user.get("id")
        if not isinstance(uid, int) or uid not in self.users:
            raise SandboxError(f"unknown user {user!r}; create it with add_user()")
        return self.users[uid]

    def group(self, chat_id: int) -> Chat:
        chat = self.chats.get(chat_id)
        if chat is None or chat.type == "private":
            raise SandboxError(f"no group chat {chat_id}")
        return chat

    def chat(self, chat_id: int) -> Chat:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise SandboxError(f"no chat {chat_id}")
        return chat

    def chat_instance(self, chat_id: int) -> str:
        return str((chat_id * 2654435761 + 97) % (2**63))

    # -------------------------------------------------------------- messages

    def new_message(
        self,
        chat: Chat,
        sender: JSON,
        content: JSON,
        *,
        thread_id: int | None = None,
        reply_to: JSON | None = None,
        by_bot: bool = False,
    ) -> JSON:
        """Store a message in ``chat`` with the next id; the caller decides about updates."""
        mid = chat.next_message_id
        chat.next_message_id += 1
        msg: JSON = {"message_id": mid}
        if thread_id is not None:
            msg["message_thread_id"] = thread_id
        msg["from"] = dict(sender)
        msg["date"] = self.now()
        msg["chat"] = chat.as_dict()
        if thread_id is not None:
            msg["is_topic_message"] = True
        if reply_to is None and thread_id is not None and thread_id != mid:
            # Telegram marks every topic message as a reply to the topic's creation.
            reply_to = chat.messages.get(thread_id)
        if reply_to is not None:
            msg["reply_to_message"] = {k: v for k, v in reply_to.items() if k != "reply_to_message"}
        msg.update(content)
        chat.messages[mid] = msg
        seq = next(self._seq)
        self._message_seq[(chat.id, mid)] = seq
        if not by_bot:
            self._last_user_action[chat.id] = seq
        self.changed()
        return msg

    def mark_user_action(self, chat_id: int) -> None:
        self._last_user_action[chat_id] = next(self._seq)

    def delete_message(self, chat: Chat, message_id: int) -> bool:
        if chat.messages.pop(message_id, None) is None:
            return False
        self.changed()
        return True

    def is_new_since_user_action(self, chat_id: int, message_id: int) -> bool:
        seq = self._message_seq.get((chat_id, message_id), 0)
        return seq > self._last_user_action.get(chat_id, 0)

    # ---------------------------------------------------------------- files

    def store_file(self, kind: str, data: bytes, *, suffix: str | None = None) -> StoredFile:
        folder, default_suffix, _ = _KIND_DIRS.get(kind, ("documents", "", ""))
        n = next(self._file_counter)
        path = f"{folder}/file_{n}{suffix if suffix is not None else default_suffix}"
        stored = StoredFile(
            file_id=_FILE_PREFIX.get(kind, "BQACAgIAAxkBAA") + secrets.token_urlsafe(36),
            file_unique_id="AgAD" + secrets.token_urlsafe(9),
            file_path=path,
            data=bytes(data),
            kind=kind,
        )
        self.files[stored.file_id] = stored
        self.files_by_path[path] = stored
        return stored

    def make_media(
        self,
        kind: str,
        data: bytes,
        *,
        file_name: str | None = None,
        mime_type: str | None = None,
        **extra: Any,
    ) -> Any:
        """Store uploaded bytes and build the Message field (Document, Voice, PhotoSize[]...)."""
        _, default_suffix, default_mime = _KIND_DIRS.get(kind, ("documents", "", ""))
        suffix = default_suffix
        if file_name and "." in file_name and kind in ("document", "audio", "animation"):
            suffix = "." + file_name.rsplit(".", 1)[1]
        if kind == "photo":
            w, h = _image_size(data)
            scale = min(1.0, 90 / max(w, h, 1))
            small = self.store_file(kind, data, suffix=suffix)
            big = self.store_file(kind, data, suffix=suffix)
            sizes = [
                {
                    "file_id": small.file_id,
                    "file_unique_id": small.file_unique_id,
                    "file_size": len(data),
                    "width": max(1, round(w * scale)),
                    "height": max(1, round(h * scale)),
                },
                {
                    "file_id": big.file_id,
                    "file_unique_id": big.file_unique_id,
                    "file_size": len(data),
                    "width": w,
                    "height": h,
                },
            ]
            if scale >= 1.0:
                sizes = sizes[1:]
            small.media = big.media = sizes
            return copy.deepcopy(sizes)
        stored = self.store_file(kind, data, suffix=suffix)
        obj: JSON = {"file_id": stored.file_id, "file_unique_id": stored.file_unique_id}
        duration = int(extra.get("duration") or 1)
        if kind in ("document", "audio", "animation", "video"):
            obj["file_name"] = file_name or stored.file_path.rsplit("/", 1)[1]
        if kind in ("video", "animation"):
            obj["width"] = int(extra.get("width") or 640)
            obj["height"] = int(extra.get("height") or 360)
        if kind in ("voice", "audio", "video", "video_note", "animation"):
            obj["duration"] = duration
        if kind == "audio":
            for key in ("performer", "title"):
                if extra.get(key):
                    obj[key] = extra[key]
        if kind == "video_note":
            obj["length"] = int(extra.get("length") or 240)
        if kind == "sticker":
            obj.update(
                {
                    "type": "regular",
                    "width": 512,
                    "height": 512,
                    "is_animated": False,
                    "is_video": False,
                }
            )
            if extra.get("emoji"):
                obj["emoji"] = extra["emoji"]
        if kind not in ("video_note", "sticker"):
            obj["mime_type"] = mime_type or default_mime
        obj["file_size"] = len(data)
        stored.media = obj
        return copy.deepcopy(obj)

    # ----------------------------------------------------- people acting

    def _target_chat(self, user: JSON, chat_id: int | None) -> Chat:
        chat = self.chats.get(chat_id if chat_id is not None else user["id"])
        if chat is None:
            raise SandboxError(f"no chat {chat_id}; create it with add_group()")
        if chat.type == "private" and chat.id != user["id"]:
            raise SandboxError(f"user {user['id']} cannot write into the private chat {chat.id}")
        return chat

    def _check_thread(self, chat: Chat, user: JSON, thread_id: int | None) -> None:
        if thread_id is None or thread_id == GENERAL_TOPIC:
            return
        if not chat.is_forum:
            raise SandboxError(f"chat {chat.id} is not a forum; there are no topics")
        topic = chat.topics.get(thread_id)
        if topic is None:
            raise SandboxError(f"chat {chat.id} has no topic {thread_id}")
        if topic.closed and user["id"] not in chat.admins:
            raise SandboxError(f"topic {thread_id} is closed; only admins can write there")

    def _resolve_reply(self, chat: Chat, reply_to: JSON | int | None) -> JSON | None:
        if reply_to is None:
            return None
        mid = reply_to if isinstance(reply_to, int) else reply_to["message_id"]
        msg = chat.messages.get(mid)
        if msg is None:
            raise SandboxError(f"message {mid} does not exist in chat {chat.id}")
        return msg

    def user_send(
        self,
        user: JSON,
        content: JSON,
        *,
        chat_id: int | None = None,
        thread_id: int | None = None,
        reply_to: JSON | int | None = None,
        update: bool = True,
    ) -> JSON:
        """A person posts something; the bot gets a ``message`` update."""
        sender = self.user(user)
        chat = self._target_chat(sender, chat_id)
        if chat.type == "private" and sender["id"] in self.blocked:
            # Writing to a blocked bot means pressing "Restart", which unblocks it.
            self.unblock(sender)
        if chat.type != "private":
            chat.members.add(sender["id"])
        self._check_thread(chat, sender, thread_id)
        reply = self._resolve_reply(chat, reply_to)
        if thread_id == GENERAL_TOPIC:
            thread_id = None
        if thread_id is None and reply is not None and chat.is_forum:
            thread_id = reply.get("message_thread_id")
        msg = self.new_message(chat, sender, content, thread_id=thread_id, reply_to=reply)
        if update and chat.bot_member:
            self.push_update("message", msg)
        return copy.deepcopy(msg)

    def add_bot_to_group(self, chat_id: int, by: JSON) -> JSON:
        """Someone adds the bot to a group: the bot gets a ``my_chat_member`` update."""
        chat = self.group(chat_id)
        adder = self.user(by)
        chat.members.add(adder["id"])
        chat.bot_member = True
        return self.push_update(
            "my_chat_member",
            {
                "chat": chat.as_dict(),
                "from": dict(adder),
                "date": self.now(),
                "old_chat_member": {"status": "left", "user": dict(self.bot)},
                "new_chat_member": {"status": "member", "user": dict(self.bot)},
            },
        )

    def text_content(self, text: str) -> JSON:
        content: JSON = {"text": text}
        m = re.match(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]{3,32})?", text)
        if m:
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": m.end()}]
        return content

    def edit_text(self, user: JSON, message: JSON, new_text: str) -> JSON:
        sender = self.user(user)
        chat = self.chat(message["chat"]["id"])
        msg = chat.messages.get(message["message_id"])
        if msg is None:
            raise SandboxError(f"message {message['message_id']} no longer exists")
        if msg.get("from", {}).get("id") != sender["id"]:
            raise SandboxError("people can only edit their own messages")
        if "text" not in msg:
            raise SandboxError("only text messages can be edited with edit_text()")
        msg.pop("entities", None)
        msg.update(self.text_content(new_text))
        msg["edit_date"] = self.now()
        self.mark_user_action(chat.id)
        self.push_update("edited_message", msg)
        return copy.deepcopy(msg)

    def find_button(
        self, message: JSON, *, data: str | None = None, text: str | None = None
    ) -> tuple[Chat, JSON, JSON]:
        chat = self.chat(message["chat"]["id"])
        msg = chat.messages.get(message["message_id"])
        if msg is None:
            raise SandboxError(
                f"message {message['message_id']} in chat {chat.id} no longer exists (deleted?)"
            )
        rows = (msg.get("reply_markup") or {}).get("inline_keyboard")
        if not rows:
            raise SandboxError(
                f"message {msg['message_id']} has no inline keyboard "
                f"(text: {_short(msg.get('text') or msg.get('caption'))})"
            )
        buttons = [b for row in rows for b in row]
        if data is None and text is None:
            raise SandboxError("tap() needs data= or text=")
        found = [
            b
            for b in buttons
            if (data is None or b.get("callback_data") == data)
            and (text is None or b.get("text") == text)
        ]
        if not found and text is not None:
            wanted = text.strip().casefold()
            found = [
                b
                for b in buttons
                if (data is None or b.get("callback_data") == data)
                and b.get("text", "").strip().casefold() == wanted
            ]
        if not found:
            listing = ", ".join(
                f"{b.get('text')!r}->{b.get('callback_data') or b.get('url')}" for b in buttons
            )
            raise SandboxError(
                f"no button with data={data!r} text={text!r} on message "
                f"{msg['message_id']}; buttons: {listing}"
            )
        button = found[0]
        if "callback_data" not in button:
            raise SandboxError(
                f"button {button.get('text')!r} is not a callback button ({sorted(button)})"
            )
        return chat, msg, button

    def callback(self, user: JSON, chat: Chat, msg: JSON, data: str) -> JSON:
        sender = self.user(user)
        query: JSON = {
            "id": str(secrets.randbits(62)),
            "from": dict(sender),
            "message": copy.deepcopy(msg),
            "chat_instance": self.chat_instance(chat.id),
            "data": data,
        }
        self.callback_queries[query["id"]] = {
            "query": query,
            "answered": False,
            "created": time.monotonic(),
        }
        self.mark_user_action(chat.id)
        self.push_update("callback_query", query)
        return copy.deepcopy(query)

    def send_text(self, user: JSON, text: str, **where: Any) -> JSON:
        return self.user_send(user, self.text_content(text), **where)

    def send_media(
        self,
        user: JSON,
        kind: str,
        data: bytes,
        *,
        caption: str | None = None,
        file_name: str | None = None,
        mime_type: str | None = None,
        media_group_id: str | None = None,
        extra: JSON | None = None,
        **where: Any,
    ) -> JSON:
        """A person sends a file; it is stored so the bot can getFile/copy/forward it."""
        if kind not in _KIND_DIRS:
            raise SandboxError(f"unknown media kind {kind!r}; one of {sorted(_KIND_DIRS)}")
        media = self.make_media(
            kind, data, file_name=file_name, mime_type=mime_type, **(extra or {})
        )
        content: JSON = {kind: media}
        if media_group_id:
            content = {"media_group_id": media_group_id, **content}
        if caption:
            content["caption"] = caption
        return self.user_send(user, content, **where)

    def send_media_group(
        self, user: JSON, items: Iterable[tuple[str, bytes, str | None]], **where: Any
    ) -> list[JSON]:
        items = list(items)
        if not 2 <= len(items) <= 10:
            raise SandboxError("a media group has 2-10 items")
        group_id = str(secrets.randbits(60))
        return [
            self.send_media(user, kind, data, caption=caption, media_group_id=group_id, **where)
            for kind, data, caption in items
        ]

    def tap(
        self, user: JSON, message: JSON, *, data: str | None = None, text: str | None = None
    ) -> JSON:
        chat, msg, button = self.find_button(message, data=data, text=text)
        return self.callback(user, chat, msg, str(button["callback_data"]))

    def tap_raw(self, user: JSON, message: JSON, data: str) -> JSON:
        chat = self.chat(message["chat"]["id"])
        msg = chat.messages.get(message["message_id"], message)
        return self.callback(user, chat, msg, data)

    def block(self, user: JSON) -> JSON:
        return self._membership(user, blocked=True)

    def unblock(self, user: JSON) -> JSON:
        return self._membership(user, blocked=False)

    def _membership(self, user: JSON, *, blocked: bool) -> JSON:
        sender = self.user(user)
        was_blocked = sender["id"] in self.blocked
        if blocked:
            self.blocked.add(sender["id"])
        else:
            self.blocked.discard(sender["id"])
        member: JSON = {"status": "member", "user": dict(self.bot)}
        kicked: JSON = {"status": "kicked", "user": dict(self.bot), "until_date": 0}
        event: JSON = {
            "chat": self.chats[sender["id"]].as_dict(),
            "from": dict(sender),
            "date": self.now(),
            "old_chat_member": kicked if was_blocked else member,
            "new_chat_member": kicked if blocked else member,
        }
        self.mark_user_action(sender["id"])
        if was_blocked != blocked:
            self.push_update("my_chat_member", event)
        return event

    # ------------------------------------------------------------ topics

    def create_topic(
        self,
        chat_id: int,
        name: str,
        *,
        by: JSON | None = None,
        icon_color: int = 7322096,
        icon_custom_emoji_id: str | None = None,
    ) -> JSON:
        """Create a topic; with ``by`` it is a person doing it and the bot hears about it."""
        chat = self.group(chat_id)
        if not chat.is_forum:
            raise SandboxError(f"chat {chat_id} is not a forum")
        sender = self.user(by) if by is not None else dict(self.bot)
        created: JSON = {"name": name, "icon_color": icon_color}
        if icon_custom_emoji_id:
            created["icon_custom_emoji_id"] = icon_custom_emoji_id
        thread_id = chat.next_message_id
        msg = self.new_message(
            chat, sender, {"forum_topic_created": created}, thread_id=thread_id, by_bot=by is None
        )
        chat.topics[thread_id] = Topic(thread_id, name, icon_color, icon_custom_emoji_id)
        if by is not None:
            self.push_update("message", msg)
        return chat.topics[thread_id].as_forum_topic()

    def topic(self, chat: Chat, thread_id: int) -> Topic | None:
        return chat.topics.get(thread_id)

    def topic_service(
        self, chat: Chat, thread_id: int, sender: JSON, content: JSON, *, by_bot: bool
    ) -> JSON:
        msg = self.new_message(chat, sender, content, thread_id=thread_id, by_bot=by_bot)
        if not by_bot:
            self.push_update("message", msg)
        return msg

    def close_topic(
        self, chat_id: int, thread_id: int, *, by: JSON | None = None, closed: bool = True
    ) -> None:
        chat = self.group(chat_id)
        topic = chat.topics.get(thread_id)
        if topic is None:
            raise SandboxError(f"chat {chat_id} has no topic {thread_id}")
        if topic.closed == closed:
            return
        topic.closed = closed
        key = "forum_topic_closed" if closed else "forum_topic_reopened"
        if by is not None:
            self.topic_service(chat, thread_id, self.user(by), {key: {}}, by_bot=False)
        else:
            self.changed()

    def delete_topic(self, chat_id: int, thread_id: int) -> None:
        chat = self.group(chat_id)
        if chat.topics.pop(thread_id, None) is None:
            raise SandboxError(f"chat {chat_id} has no topic {thread_id}")
        for mid in [
            m for m, msg in chat.messages.items() if msg.get("message_thread_id") == thread_id
        ]:
            del chat.messages[mid]
        self.mark_user_action(chat_id)
        self.changed()

    # ---------------------------------------------------------- faults

    def add_fault(self, fault: Fault) -> None:
        self.faults.append(fault)

    def take_fault(self, method: str, chat_id: Any) -> Fault | None:
        for fault in self.faults:
            if fault.method != method.lower():
                continue
            if fault.chat_id is not None and fault.chat_id != chat_id:
                continue
            fault.remaining -= 1
            if fault.remaining <= 0:
                self.faults.remove(fault)
            return fault
        return None

    # ---------------------------------------------------------- reading

    def calls(self, method: str | None = None, chat_id: int | None = None) -> list[Call]:
        out = []
        for call in self.call_log:
            if method is not None and call.method.lower() != method.lower():
                continue
            if chat_id is not None and call.params.get("chat_id") != chat_id:
                continue
            out.append(call)
        return out

    def messages(self, chat_id: int, thread_id: int | None = None) -> list[JSON]:
        chat = self.chats.get(chat_id)
        if chat is None:
            return []
        out = []
        for msg in chat.messages.values():
            if thread_id is not None:
                own = msg.get("message_thread_id")
                if thread_id == GENERAL_TOPIC and own is not None:
                    continue
                if thread_id != GENERAL_TOPIC and own != thread_id:
                    continue
            out.append(msg)
        return copy.deepcopy(out)

    def bot_messages(self, chat_id: int, thread_id: int | None = None) -> list[JSON]:
        return [
            m
            for m in self.messages(chat_id, thread_id)
            if m.get("from", {}).get("id") == self.bot["id"] and not is_service(m)
        ]

    def topics(self, chat_id: int) -> list[JSON]:
        chat = self.chats.get(chat_id)
        if chat is None:
            return []
        return [{**t.as_forum_topic(), "is_closed": t.closed} for t in chat.topics.values()]

    def commands(self, language_code: str | None = None, scope: JSON | None = None) -> list[JSON]:
        return copy.deepcopy(self.bot_commands.get(commands_key(scope, language_code), []))

    def shown_commands(self, chat_id: int, language_code: str | None) -> list[JSON]:
        """The list a user with that app language sees in a private chat, in the order the
        Bot API documents ("Determining list of commands"): the chat's own list for the
        language, the chat's own list, then all private chats, then the default."""
        scopes: list[JSON] = [
            {"type": "chat", "chat_id": chat_id},
            {"type": "all_private_chats"},
            {"type": "default"},
        ]
        for scope in scopes:
            for lang in (language_code, None) if language_code else (None,):
                found = self.bot_commands.get(commands_key(scope, lang))
                if found:
                    return copy.deepcopy(found)
        return []

    def state(self) -> JSON:
        """Everything a chat page needs, JSON-ready."""
        return {
            "version": self.version,
            "bot": dict(self.bot),
            "users": [{**u, "blocked": u["id"] in self.blocked} for u in self.users.values()],
            "chats": [
                {
                    **c.as_dict(),
                    "topics": self.topics(c.id),
                    "admins": list(c.admins),
                    "reply_keyboard": self.reply_keyboards.get(c.id),
                    "messages": self.messages(c.id),
                }
                for c in self.chats.values()
            ],
            "violations": list(self.violations),
            "engines": dict(self.engines),
        }


def is_service(msg: JSON) -> bool:
    return any(key in msg for key in SERVICE_KEYS)


def commands_key(scope: JSON | None, language_code: str | None) -> tuple[str, str]:
    scope = scope or {"type": "default"}
    parts = [str(scope.get("type"))]
    for key in ("chat_id", "user_id"):
        if key in scope:
            parts.append(str(scope[key]))
    return ":".join(parts), language_code or ""


def kind_name(kind: str) -> str:
    return _KIND_NAMES.get(kind, kind.title())


def default_mime(kind: str) -> str:
    return _KIND_DIRS.get(kind, ("", "", "application/octet-stream"))[2]


def _update_kind(update: JSON) -> str:
    return next(k for k in update if k != "update_id")
