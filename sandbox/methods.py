"""Bot API methods as the sandbox performs them on a :class:`World`.

Each handler gets decoded parameters (ints, dicts, :class:`Upload`) and returns the
``result`` Telegram would send, or raises :class:`ApiError` with Telegram's wording.
The error texts matter: bots match on them ("message is not modified", "bot was
blocked by the user") to decide what to do, so they are copied from real replies.
``getUpdates`` lives in the server because it waits.
"""

from __future__ import annotations

import copy
import json
import re
import secrets
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from sandbox.formatting import EntityParseError, UnsupportedParseMode, parse_entities
from sandbox.schema import Upload
from sandbox.world import (
    CONTENT_KEYS,
    DEFAULT_UPDATES,
    JSON,
    ApiError,
    Chat,
    Webhook,
    World,
    commands_key,
    default_mime,
    is_service,
    kind_name,
)

__all__ = ["METHODS", "Handler"]

Handler = Callable[[World, JSON], Any]
METHODS: dict[str, Handler] = {}

NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note",
    "upload_video_note",
})  # fmt: skip
TOPIC_COLORS = frozenset({7322096, 16766590, 13338331, 9367192, 16749490, 16478047})
CALLBACK_TTL = 15 * 60.0  # generous: real Telegram is ~15 s, tests may be slow under load
_MEDIA_EXTRAS = ("duration", "width", "height", "performer", "title", "length", "emoji")


def method(name: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        METHODS[name] = fn
        return fn

    return register


def bad(text: str) -> ApiError:
    return ApiError.bad_request(text)


# ------------------------------------------------------------------ param helpers


def _int(p: JSON, key: str, *, required: bool = True) -> int | None:
    value = p.get(key)
    if value is None or value == "":
        if required:
            raise bad(f"{key} is empty" if key == "chat_id" else f'parameter "{key}" is required')
        return None
    if isinstance(value, bool):
        raise bad(f"invalid {key} specified")
    try:
        return int(value)
    except (TypeError, ValueError):
        raise bad(f"invalid {key} specified") from None


def _req_int(p: JSON, key: str) -> int:
    value = _int(p, key)
    assert value is not None
    return value


def _json(p: JSON, key: str) -> Any:
    value = p.get(key)
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            raise bad(f"can't parse {key} JSON object") from None
    return value


def _bool(p: JSON, key: str) -> bool:
    value = p.get(key)
    return value is True or value in ("true", "True", 1, "1")


def _chat(w: World, p: JSON, key: str = "chat_id") -> Chat:
    value = p.get(key)
    if value is None or value == "":
        raise bad(f"{key} is empty")
    if isinstance(value, str) and not value.lstrip("-").isdigit():
        raise bad("chat not found")
    chat = w.chats.get(int(value))
    if chat is None:
        raise bad("chat not found")
    return chat


def _writable(w: World, p: JSON, key: str = "chat_id") -> Chat:
    """The target chat of a sending/editing method, refusing blocked users like Telegram."""
    chat = _chat(w, p, key)
    if chat.type == "private" and chat.id in w.blocked:
        raise ApiError(403, "Forbidden: bot was blocked by the user")
    if not chat.bot_member:
        raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
    return chat


def _thread(chat: Chat, p: JSON) -> int | None:
    thread_id = _int(p, "message_thread_id", required=False)
    if thread_id is None:
        return None
    topic = chat.topics.get(thread_id) if chat.is_forum else None
    if topic is None:
        raise bad("message thread not found")
    if topic.closed:
        raise bad("TOPIC_CLOSED")
    return thread_id


def _reply(w: World, chat: Chat, p: JSON) -> JSON | None:
    params = _json(p, "reply_parameters")
    if not params:
        return None
    if not isinstance(params, dict) or "message_id" not in params:
        raise bad("can't parse reply parameters JSON object")
    target_chat = chat
    if params.get("chat_id") is not None:
        target_chat = _chat(w, {"chat_id": params["chat_id"]})
    msg = target_chat.messages.get(int(params["message_id"]))
    if msg is None:
        if params.get("allow_sending_without_reply"):
            return None
        raise bad("message to be replied not found")
    return msg


def _markup(chat: Chat, p: JSON, w: World) -> JSON | None:
    """Return an inline keyboard for the message; remember reply keyboards per chat."""
    markup = _json(p, "reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        return _inline(markup)
    if "keyboard" in markup:
        w.reply_keyboards[chat.id] = copy.deepcopy(markup)
    elif markup.get("remove_keyboard"):
        w.reply_keyboards[chat.id] = None
    return None


def _inline(markup: JSON) -> JSON:
    rows = markup.get("inline_keyboard")
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise bad("can't parse inline keyboard markup JSON object")
    clean_rows = []
    for row in rows:
        clean = []
        for button in row:
            if not isinstance(button, dict) or not button.get("text"):
                raise bad("can't parse inline keyboard button: text buttons are required")
            button = {k: v for k, v in button.items() if v is not None}
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode("utf-8")) <= 64:
                raise bad("BUTTON_DATA_INVALID")
            if len(set(button) - {"text", "icon_custom_emoji_id", "style"}) == 0:
                raise bad(
                    "can't parse inline keyboard button: Text buttons are unallowed in "
                    "the inline keyboard"
                )
            clean.append(button)
        clean_rows.append(clean)
    return {"inline_keyboard": clean_rows}


def _format(p: JSON, key: str, mode_key: str, ents_key: str) -> tuple[str, list[JSON]]:
    raw = p.get(key)
    text = "" if raw is None else str(raw)
    mode = p.get(mode_key)
    ents = _json(p, ents_key)
    try:
        return parse_entities(
            text, mode if isinstance(mode, str) else None, ents if isinstance(ents, list) else None
        )
    except EntityParseError as exc:
        raise bad(f"can't parse entities: {exc}") from None
    except UnsupportedParseMode:
        raise bad("unsupported parse_mode") from None


def _text_content(p: JSON) -> JSON:
    text, ents = _format(p, "text", "parse_mode", "entities")
    if not text:
        raise bad("message text is empty")
    if len(text) > 4096:
        raise bad("message is too long")
    content: JSON = {"text": text}
    if ents:
        content["entities"] = ents
    preview = _json(p, "link_preview_options")
    if isinstance(preview, dict) and preview:
        content["link_preview_options"] = preview
    return content


def _caption_content(p: JSON) -> JSON:
    if p.get("caption") is None:
        return {}
    caption, ents = _format(p, "caption", "parse_mode", "caption_entities")
    if len(caption) > 1024:
        raise bad("message caption is too long")
    content: JSON = {}
    if caption:
        content["caption"] = caption
        if ents:
            content["caption_entities"] = ents
    if _bool(p, "show_caption_above_media"):
        content["show_caption_above_media"] = True
    return content


def _send(w: World, chat: Chat, p: JSON, content: JSON, *, markup: bool = True) -> JSON:
    """Common tail of every send*: thread, reply, keyboard, then store."""
    thread_id = _thread(chat, p)
    reply = _reply(w, chat, p)
    if thread_id is None and reply is not None and chat.is_forum:
        thread_id = reply.get("message_thread_id")
    inline = _markup(chat, p, w) if markup else None
    if inline is not None:
        content = {**content, "reply_markup": inline}
    if _bool(p, "protect_content"):
        content = {**content, "has_protected_content": True}
    msg = w.new_message(chat, w.bot, content, thread_id=thread_id, reply_to=reply, by_bot=True)
    return copy.deepcopy(msg)


def _file_media(w: World, kind: str, value: Any, p: JSON) -> Any:
    """Resolve an InputFile-or-String parameter into the Message field for ``kind``."""
    if isinstance(value, str) and value.startswith("attach://"):
        value = p.get(value[len("attach://") :])
        if not isinstance(value, Upload):
            raise bad("wrong file identifier/HTTP URL specified")
    extras = {k: p.get(k) for k in _MEDIA_EXTRAS if p.get(k) is not None}
    if isinstance(value, Upload):
        mime = value.content_type
        if not mime or mime == "application/octet-stream":
            mime = default_mime(kind) if kind != "document" else mime
        return w.make_media(
            kind, value.data, file_name=value.filename or None, mime_type=mime or None, **extras
        )
    if not isinstance(value, str) or not value:
        raise bad(f"there is no {kind.replace('_', ' ')} in the request")
    if value.startswith(("http://", "https://")):
        name = value.rsplit("/", 1)[-1].split("?", 1)[0] or None
        return w.make_media(kind, b"", file_name=name, **extras)
    stored = w.files.get(value)
    if stored is None:
        raise bad("wrong file identifier/HTTP URL specified")
    if stored.kind != kind:
        raise bad(f"can't use file of type {kind_name(stored.kind)} as {kind_name(kind)}")
    return copy.deepcopy(stored.media)


def _media_method(kind: str) -> Handler:
    def handler(w: World, p: JSON) -> JSON:
        chat = _writable(w, p)
        content: JSON = {kind: _file_media(w, kind, p.get(kind), p)}
        if kind not in ("sticker", "video_note"):
            content.update(_caption_content(p))
        if _bool(p, "has_spoiler") and kind in ("photo", "video", "animation"):
            content["has_media_spoiler"] = True
        return _send(w, chat, p, content)

    return handler


for _kind in ("photo", "document", "voice", "audio", "video", "video_note", "sticker", "animation"):
    METHODS["send" + kind_name(_kind)] = _media_method(_kind)


# ------------------------------------------------------------------------ basics


@method("getMe")
def get_me(w: World, p: JSON) -> JSON:
    return {
        **w.bot,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


WEBHOOK_PORTS = frozenset({443, 80, 88, 8443})
_SECRET_RE = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


@method("setWebhook")
def set_webhook(w: World, p: JSON) -> bool:
    """Telegram's checks, in its words; ``w.allow_http_webhooks`` (tests only) lets a
    plain-http loopback URL through, since no test has a certificate for a public name."""
    url = str(p.get("url") or "")
    if not url:  # an empty URL removes the webhook, as deleteWebhook does
        delete_webhook(w, p)
        return True
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise bad("bad webhook: Failed to resolve host: Name or service not known") from None
    if not parts.hostname:
        raise bad("bad webhook: Failed to resolve host: Name or service not known")
    if parts.scheme == "https":
        if (port or 443) not in WEBHOOK_PORTS:
            raise bad("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
    elif not (parts.scheme == "http" and w.allow_http_webhooks and parts.hostname in _LOOPBACK):
        raise bad("bad webhook: An HTTPS URL must be provided for webhook")
    secret = p.get("secret_token")
    if secret is not None and not _SECRET_RE.match(str(secret)):
        raise bad("bad webhook: secret token contains unallowed characters")
    allowed = _json(p, "allowed_updates")
    if isinstance(allowed, list):
        w.allowed_updates = frozenset(str(a) for a in allowed) or DEFAULT_UPDATES
    if _bool(p, "drop_pending_updates"):
        w.updates.clear()
    max_connections = _int(p, "max_connections", required=False) or 40
    w.webhook = Webhook(
        url=url,
        secret_token=None if secret is None else str(secret),
        max_connections=max_connections,
        ip_address=None if p.get("ip_address") is None else str(p.get("ip_address")),
    )
    w.changed()
    return True


@method("deleteWebhook")
def delete_webhook(w: World, p: JSON) -> bool:
    w.webhook = None
    if _bool(p, "drop_pending_updates"):
        w.updates.clear()
    w.changed()
    return True


@method("getWebhookInfo")
def get_webhook_info(w: World, p: JSON) -> JSON:
    if w.webhook is None:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": len(w.updates)}
    return w.webhook.info(len(w.updates), w.allowed_updates)


@method("sendMessage")
def send_message(w: World, p: JSON) -> JSON:
    chat = _writable(w, p)
    return _send(w, chat, p, _text_content(p))


@method("sendLocation")
def send_location(w: World, p: JSON) -> JSON:
    chat = _writable(w, p)
    return _send(w, chat, p, {"location": _location(p)})


def _location(p: JSON) -> JSON:
    try:
        loc: JSON = {"latitude": float(p["latitude"]), "longitude": float(p["longitude"])}
    except (KeyError, TypeError, ValueError):
        raise bad("wrong latitude or longitude") from None
    if not (-90 <= loc["latitude"] <= 90 and -180 <= loc["longitude"] <= 180):
        raise bad("wrong latitude or longitude")
    for key in ("horizontal_accuracy", "live_period", "heading", "proximity_alert_radius"):
        if p.get(key) is not None:
            loc[key] = p[key]
    return loc


@method("sendVenue")
def send_venue(w: World, p: JSON) -> JSON:
    chat = _writable(w, p)
    loc = _location(p)
    if not p.get("title") or not p.get("address"):
        raise bad("venue title and address must be non-empty")
    venue: JSON = {"location": loc, "title": str(p["title"]), "address": str(p["address"])}
    for key in ("foursquare_id", "foursquare_type", "google_place_id", "google_place_type"):
        if p.get(key):
            venue[key] = p[key]
    return _send(w, chat, p, {"venue": venue, "location": dict(loc)})


@method("sendContact")
def send_contact(w: World, p: JSON) -> JSON:
    chat = _writable(w, p)
    if not p.get("phone_number") or not p.get("first_name"):
        raise bad("phone_number and first_name must be non-empty")
    contact: JSON = {"phone_number": str(p["phone_number"]), "first_name": str(p["first_name"])}
    for key in ("last_name", "vcard"):
        if p.get(key):
            contact[key] = str(p[key])
    return _send(w, chat, p, {"contact": contact})


@method("sendMediaGroup")
def send_media_group(w: World, p: JSON) -> list[JSON]:
    chat = _writable(w, p)
    media = _json(p, "media")
    if not isinstance(media, list) or not 2 <= len(media) <= 10:
        raise bad("wrong number of media in the group: must be 2-10")
    kinds = {m.get("type") if isinstance(m, dict) else None for m in media}
    if None in kinds or not kinds <= {"photo", "video", "document", "audio"}:
        raise bad("wrong media type in the media group")
    for solo in ("document", "audio"):
        if solo in kinds and len(kinds) > 1:
            raise bad(f"{solo}s can't be mixed with other media types")
    _thread(chat, p)
    group_id = str(secrets.randbits(60))
    contents = []
    for item in media:
        kind = str(item["type"])
        sub = {**{k: v for k, v in p.items() if isinstance(v, Upload)}, **item}
        content: JSON = {
            "media_group_id": group_id,
            kind: _file_media(w, kind, item.get("media"), sub),
        }
        content.update(_caption_content(item))
        if item.get("has_spoiler") and kind in ("photo", "video"):
            content["has_media_spoiler"] = True
        contents.append(content)
    return [_send(w, chat, p, content, markup=False) for content in contents]


@method("sendChatAction")
def send_chat_action(w: World, p: JSON) -> bool:
    chat = _writable(w, p)
    _thread(chat, p)
    action = p.get("action")
    if action not in CHAT_ACTIONS:
        raise bad("wrong parameter action in request")
    w.chat_actions.append(
        {
            "chat_id": chat.id,
            "action": action,
            "message_thread_id": p.get("message_thread_id"),
            "date": w.now(),
        }
    )
    return True


# ------------------------------------------------------------------------ editing


def _editable(w: World, p: JSON) -> tuple[Chat, JSON]:
    if p.get("inline_message_id"):
        raise bad("message to edit not found")  # the sandbox has no inline mode
    chat = _writable(w, p)
    mid = _req_int(p, "message_id")
    msg = chat.messages.get(mid)
    if msg is None:
        raise bad("message to edit not found")
    if msg.get("from", {}).get("id") != w.bot["id"] or is_service(msg) or "forward_origin" in msg:
        raise bad("message can't be edited")
    return chat, msg


def _edit_markup(p: JSON) -> JSON | None:
    markup = _json(p, "reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict) or "inline_keyboard" not in markup:
        raise bad("can't parse inline keyboard markup JSON object")
    return _inline(markup) if markup["inline_keyboard"] else None


def _apply_edit(w: World, msg: JSON, new: JSON, keys: tuple[str, ...]) -> JSON:
    old = {k: msg.get(k) for k in (*keys, "reply_markup")}
    new_full = {k: new.get(k) for k in (*keys, "reply_markup")}
    if _norm(old) == _norm(new_full):
        raise bad(NOT_MODIFIED)
    for key in (*keys, "reply_markup"):
        if new.get(key) is None:
            msg.pop(key, None)
        else:
            msg[key] = new[key]
    msg["edit_date"] = w.now()
    w.changed()
    return copy.deepcopy(msg)


def _norm(d: JSON) -> JSON:
    return {k: v for k, v in d.items() if v not in (None, [], {})}


@method("editMessageText")
def edit_message_text(w: World, p: JSON) -> JSON:
    msg = _editable(w, p)[1]
    if "text" not in msg:
        raise bad("there is no text in the message to edit")
    new = _text_content(p)
    new["reply_markup"] = _edit_markup(p)
    return _apply_edit(w, msg, new, ("text", "entities", "link_preview_options"))


@method("editMessageCaption")
def edit_message_caption(w: World, p: JSON) -> JSON:
    msg = _editable(w, p)[1]
    if not any(k in msg for k in ("photo", "video", "document", "audio", "voice", "animation")):
        raise bad("there is no caption in the message to edit")
    new = _caption_content(p)
    new["reply_markup"] = _edit_markup(p)
    return _apply_edit(w, msg, new, ("caption", "caption_entities", "show_caption_above_media"))


@method("editMessageReplyMarkup")
def edit_message_reply_markup(w: World, p: JSON) -> JSON:
    msg = _editable(w, p)[1]
    return _apply_edit(w, msg, {"reply_markup": _edit_markup(p)}, ())


DELETE_LIMIT = 48 * 3600
"""deleteMessage: "A message can only be deleted if it was sent less than 48 hours ago"."""


def _bot_may_delete_others(w: World, chat: Chat) -> bool:
    """An administrator with can_delete_messages (the sandbox's default membership)."""
    if chat.type == "private":
        return True
    member = w.bot_memberships.get(chat.id)
    if member is None:
        return True
    return member.get("status") in ("administrator", "creator") and bool(
        member.get("can_delete_messages", member.get("status") == "creator")
    )


def _deletable(w: World, chat: Chat, mid: int) -> str | None:
    """Why the bot cannot delete this message (None: it can), as Telegram says it."""
    msg = chat.messages.get(mid)
    if msg is None:
        return "message to delete not found"
    if mid in chat.topics:
        return "message can't be deleted"  # a topic's first message goes with the topic
    if w.now() - int(msg.get("date", 0)) >= DELETE_LIMIT:
        return "message can't be deleted"
    sender = (msg.get("from") or {}).get("id")
    if sender != w.bot["id"] and not _bot_may_delete_others(w, chat):
        return "message can't be deleted"
    return None


@method("deleteMessage")
def delete_message(w: World, p: JSON) -> bool:
    chat = _chat(w, p)
    mid = _req_int(p, "message_id")
    refused = _deletable(w, chat, mid)
    if refused is not None:
        raise bad(refused)
    w.delete_message(chat, mid)
    return True


@method("deleteMessages")
def delete_messages(w: World, p: JSON) -> bool:
    """What cannot be deleted (gone, too old, not the bot's to delete) is skipped."""
    chat = _chat(w, p)
    ids = _json(p, "message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad("message_ids must contain 1-100 identifiers")
    for mid in ids:
        if _deletable(w, chat, int(mid)) is None:
            w.delete_message(chat, int(mid))
    return True


# ----------------------------------------------------------------- copy / forward


def _source(w: World, p: JSON, mid: int, what: str) -> JSON:
    src_chat = _chat(w, p, "from_chat_id")
    msg = src_chat.messages.get(mid)
    if msg is None:
        raise bad(f"message to {what} not found")
    return msg


def _copy_content(msg: JSON, p: JSON, *, keep_caption: bool = True) -> JSON:
    content = {k: copy.deepcopy(msg[k]) for k in CONTENT_KEYS if k in msg}
    if is_service(msg) or not content:
        raise bad("message can't be copied")
    if "text" not in content:
        if not keep_caption or _bool(p, "remove_caption"):
            content.pop("caption", None)
            content.pop("caption_entities", None)
        if p.get("caption") is not None:
            content.pop("caption", None)
            content.pop("caption_entities", None)
            content.update(_caption_content(p))
    return content


@method("copyMessage")
def copy_message(w: World, p: JSON) -> JSON:
    chat = _writable(w, p)
    src = _source(w, p, _req_int(p, "message_id"), "copy")
    sent = _send(w, chat, p, _copy_content(src, p))
    return {"message_id": sent["message_id"]}


@method("copyMessages")
def copy_messages(w: World, p: JSON) -> list[JSON]:
    chat = _writable(w, p)
    out = []
    for mid, src in _sources(w, p):
        try:
            content = _copy_content(src, p)
        except ApiError:
            continue
        content.pop("reply_markup", None)
        sent = _send(w, chat, {k: v for k, v in p.items() if k != "reply_markup"}, content)
        out.append({"message_id": sent["message_id"]})
        del mid
    return out


def _sources(w: World, p: JSON) -> list[tuple[int, JSON]]:
    ids = _json(p, "message_ids")
    if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
        raise bad("message_ids must contain 1-100 identifiers")
    ids = [int(i) for i in ids]
    if ids != sorted(set(ids)):
        raise bad("message identifiers must be specified in a strictly increasing order")
    src_chat = _chat(w, p, "from_chat_id")
    return [(mid, src_chat.messages[mid]) for mid in ids if mid in src_chat.messages]


def _forward_content(msg: JSON) -> JSON:
    content = {k: copy.deepcopy(msg[k]) for k in CONTENT_KEYS if k in msg}
    if is_service(msg) or not content:
        raise bad("message can't be forwarded")
    origin = msg.get("forward_origin") or {
        "type": "user",
        "sender_user": copy.deepcopy(msg.get("from", {})),
        "date": msg["date"],
    }
    return {"forward_origin": copy.deepcopy(origin), **content}


@method("forwardMessage")
def forward_message(w: World, p: JSON) -> JSON:
    chat = _writable(w, p)
    src = _source(w, p, _req_int(p, "message_id"), "forward")
    return _send(w, chat, p, _forward_content(src), markup=False)


@method("forwardMessages")
def forward_messages(w: World, p: JSON) -> list[JSON]:
    chat = _writable(w, p)
    out = []
    for _mid, src in _sources(w, p):
        try:
            content = _forward_content(src)
        except ApiError:
            continue
        out.append({"message_id": _send(w, chat, p, content, markup=False)["message_id"]})
    return out


# ---------------------------------------------------------------- callback queries


@method("answerCallbackQuery")
def answer_callback_query(w: World, p: JSON) -> bool:
    qid = str(p.get("callback_query_id") or "")
    entry = w.callback_queries.get(qid)
    if entry is None or entry["answered"] or time.monotonic() - entry["created"] > CALLBACK_TTL:
        raise bad("query is too old and response timeout expired or query ID is invalid")
    text = p.get("text")
    if text is not None and len(str(text)) > 200:
        raise bad("MESSAGE_TOO_LONG")
    entry["answered"] = True
    w.callback_answers.append(dict(p))
    w.changed()
    return True


# ---------------------------------------------------------------- commands & profile


def _scope(p: JSON, w: World | None = None) -> JSON | None:
    scope = _json(p, "scope")
    if scope is not None and not isinstance(scope, dict):
        raise bad("can't parse BotCommandScope JSON object")
    if scope is None:
        return None
    if w is not None and str(scope.get("type", "")).startswith("chat"):
        _chat(w, scope)  # Telegram refuses a scope for a chat it does not know
    return dict(scope)


@method("setMyCommands")
def set_my_commands(w: World, p: JSON) -> bool:
    commands = _json(p, "commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise bad("commands must be a list of at most 100 BotCommand")
    for cmd in commands:
        if not isinstance(cmd, dict) or not 1 <= len(str(cmd.get("command", ""))) <= 32:
            raise bad("BOT_COMMAND_INVALID")
        if not 1 <= len(str(cmd.get("description", ""))) <= 256:
            raise bad("BOT_COMMAND_DESCRIPTION_INVALID")
    lang = p.get("language_code")
    key = commands_key(_scope(p, w), lang if isinstance(lang, str) else None)
    w.bot_commands[key] = [
        {"command": str(c["command"]), "description": str(c["description"])} for c in commands
    ]
    w.changed()
    return True


@method("getMyCommands")
def get_my_commands(w: World, p: JSON) -> list[JSON]:
    lang = p.get("language_code")
    return w.commands(lang if isinstance(lang, str) else None, _scope(p))


@method("deleteMyCommands")
def delete_my_commands(w: World, p: JSON) -> bool:
    lang = p.get("language_code")
    w.bot_commands.pop(commands_key(_scope(p, w), lang if isinstance(lang, str) else None), None)
    w.changed()
    return True


def _profile(field: str) -> tuple[Handler, Handler]:
    def setter(w: World, p: JSON) -> bool:
        w.bot_settings[f"{field}:{p.get('language_code') or ''}"] = p.get(field) or ""
        w.changed()
        return True

    def getter(w: World, p: JSON) -> JSON:
        return {field: w.bot_settings.get(f"{field}:{p.get('language_code') or ''}", "")}

    return setter, getter


for _field, _name in (
    ("description", "Description"),
    ("short_description", "ShortDescription"),
    ("name", "Name"),
):
    METHODS[f"setMy{_name}"], METHODS[f"getMy{_name}"] = _profile(_field)


@method("setChatMenuButton")
def set_chat_menu_button(w: World, p: JSON) -> bool:
    button = _json(p, "menu_button") or {"type": "default"}
    w.bot_settings[f"menu_button:{p.get('chat_id') or ''}"] = button
    w.changed()
    return True


@method("getChatMenuButton")
def get_chat_menu_button(w: World, p: JSON) -> JSON:
    stored = w.bot_settings.get(f"menu_button:{p.get('chat_id') or ''}")
    return dict(stored) if isinstance(stored, dict) else {"type": "default"}


# ------------------------------------------------------------------- forum topics


def _forum(w: World, p: JSON) -> Chat:
    chat = _chat(w, p)
    if not chat.is_forum:
        raise bad("the chat is not a forum")
    return chat


def _topic_id(chat: Chat, p: JSON) -> int:
    thread_id = _req_int(p, "message_thread_id")
    if thread_id not in chat.topics:
        raise bad("TOPIC_ID_INVALID")
    return thread_id


@method("createForumTopic")
def create_forum_topic(w: World, p: JSON) -> JSON:
    chat = _forum(w, p)
    name = str(p.get("name") or "")
    if not 1 <= len(name) <= 128:
        raise bad("TOPIC_NAME_EMPTY" if not name else "TOPIC_NAME_INVALID")
    color = _int(p, "icon_color", required=False) or 7322096
    if color not in TOPIC_COLORS:
        raise bad("TOPIC_ICON_COLOR_INVALID")
    emoji = p.get("icon_custom_emoji_id")
    return w.create_topic(
        chat.id, name, icon_color=color, icon_custom_emoji_id=str(emoji) if emoji else None
    )


@method("editForumTopic")
def edit_forum_topic(w: World, p: JSON) -> bool:
    chat = _forum(w, p)
    topic = chat.topics[_topic_id(chat, p)]
    edited: JSON = {}
    name = p.get("name")
    if name and name != topic.name:
        if len(str(name)) > 128:
            raise bad("TOPIC_NAME_INVALID")
        edited["name"] = topic.name = str(name)
    emoji = p.get("icon_custom_emoji_id")
    if emoji is not None and (emoji or None) != topic.icon_custom_emoji_id:
        topic.icon_custom_emoji_id = str(emoji) or None
        edited["icon_custom_emoji_id"] = str(emoji)
    if not edited:
        raise bad("TOPIC_NOT_MODIFIED")
    w.topic_service(chat, topic.thread_id, w.bot, {"forum_topic_edited": edited}, by_bot=True)
    return True


def _close(w: World, p: JSON, closed: bool) -> bool:
    chat = _forum(w, p)
    topic = chat.topics[_topic_id(chat, p)]
    if topic.closed == closed:
        raise bad("TOPIC_NOT_MODIFIED")
    topic.closed = closed
    key = "forum_topic_closed" if closed else "forum_topic_reopened"
    w.topic_service(chat, topic.thread_id, w.bot, {key: {}}, by_bot=True)
    return True


@method("closeForumTopic")
def close_forum_topic(w: World, p: JSON) -> bool:
    return _close(w, p, True)


@method("reopenForumTopic")
def reopen_forum_topic(w: World, p: JSON) -> bool:
    return _close(w, p, False)


@method("deleteForumTopic")
def delete_forum_topic(w: World, p: JSON) -> bool:
    """ "the bot must be an administrator in the chat for this to work and must have the
    can_delete_messages administrator rights"."""
    chat = _forum(w, p)
    thread_id = _topic_id(chat, p)
    if not _bot_may_delete_others(w, chat):
        raise bad("not enough rights to delete the topic")
    w.delete_topic(chat.id, thread_id)
    return True


# -------------------------------------------------------------- chats & files


@method("getFile")
def get_file(w: World, p: JSON) -> JSON:
    stored = w.files.get(str(p.get("file_id") or ""))
    if stored is None:
        raise bad("invalid file_id")
    if len(stored.data) > 20 * 1024 * 1024:
        raise bad("file is too big")
    return stored.as_file()


@method("getChat")
def get_chat(w: World, p: JSON) -> JSON:
    chat = _chat(w, p)
    info: JSON = {
        **chat.as_dict(),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }
    if chat.pinned and chat.pinned[-1] in chat.messages:
        info["pinned_message"] = copy.deepcopy(chat.messages[chat.pinned[-1]])
    return info


def _member(w: World, chat: Chat, user_id: int) -> JSON:
    if user_id == w.bot["id"]:
        if chat.type == "private":
            return {"status": "member", "user": dict(w.bot)}
        if chat.id in w.bot_memberships:
            return {**w.bot_memberships[chat.id], "user": dict(w.bot)}
        rights = {k: True for k in (
            "can_manage_chat", "can_delete_messages", "can_manage_video_chats",
            "can_restrict_members", "can_promote_members", "can_change_info",
            "can_invite_users", "can_post_stories", "can_edit_stories", "can_delete_stories",
            "can_pin_messages", "can_manage_topics",
        )}  # fmt: skip
        return {
            "status": "administrator",
            "user": dict(w.bot),
            "can_be_edited": False,
            "is_anonymous": False,
            **rights,
        }
    user = w.users.get(user_id)
    if user is None:
        raise bad("user not found")
    if chat.type == "private":
        if user_id != chat.id:
            raise bad("user not found")
        return {"status": "member", "user": dict(user)}
    if chat.admins and chat.admins[0] == user_id:
        return {"status": "creator", "user": dict(user), "is_anonymous": False}
    if user_id in chat.admins:
        rights = {k: k not in ("can_promote_members",) for k in (
            "can_manage_chat", "can_delete_messages", "can_manage_video_chats",
            "can_restrict_members", "can_promote_members", "can_change_info",
            "can_invite_users", "can_post_stories", "can_edit_stories", "can_delete_stories",
            "can_pin_messages", "can_manage_topics",
        )}  # fmt: skip
        return {
            "status": "administrator",
            "user": dict(user),
            "can_be_edited": True,
            "is_anonymous": False,
            **rights,
        }
    if user_id in chat.members:
        return {"status": "member", "user": dict(user)}
    return {"status": "left", "user": dict(user)}


@method("leaveChat")
def leave_chat(w: World, p: JSON) -> bool:
    chat = _chat(w, p)
    if chat.type == "private":
        raise bad("chat member status can't be changed in private chats")
    if not chat.bot_member:
        raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
    chat.bot_member = False
    w.changed()
    return True


@method("getChatMember")
def get_chat_member(w: World, p: JSON) -> JSON:
    chat = _chat(w, p)
    return _member(w, chat, _req_int(p, "user_id"))


@method("getChatAdministrators")
def get_chat_administrators(w: World, p: JSON) -> list[JSON]:
    chat = _chat(w, p)
    if chat.type == "private":
        raise bad("there are no administrators in the private chat")
    return [_member(w, chat, uid) for uid in [*chat.admins, w.bot["id"]]]


@method("getChatMemberCount")
def get_chat_member_count(w: World, p: JSON) -> int:
    chat = _chat(w, p)
    return 2 if chat.type == "private" else len(chat.members | set(chat.admins)) + 1


@method("pinChatMessage")
def pin_chat_message(w: World, p: JSON) -> bool:
    chat = _writable(w, p)
    mid = _req_int(p, "message_id")
    if mid not in chat.messages:
        raise bad("message to pin not found")
    if mid in chat.pinned:
        chat.pinned.remove(mid)
    chat.pinned.append(mid)
    w.changed()
    return True


@method("unpinChatMessage")
def unpin_chat_message(w: World, p: JSON) -> bool:
    chat = _writable(w, p)
    mid = _int(p, "message_id", required=False)
    if mid is None:
        if chat.pinned:
            chat.pinned.pop()
    elif mid in chat.pinned:
        chat.pinned.remove(mid)
    else:
        raise bad("message to unpin not found")
    w.changed()
    return True


@method("unpinAllChatMessages")
def unpin_all_chat_messages(w: World, p: JSON) -> bool:
    _writable(w, p).pinned.clear()
    w.changed()
    return True
