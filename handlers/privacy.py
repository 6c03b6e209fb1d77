"""Data rights: a resident sees everything stored about them (/mydata) and erases it
(/delete); stored data expires after the retention period; coordinators read the audit
trail of staff actions (/audit)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.ext import CommandHandler, filters

from bot import callbacks
from bot.callbacks import Callback
from bot.capability import App, Capability, Command, Handler
from bot.context import BotContext, Services, services_of
from bot.directory import Directory
from bot.filters import coordinator_here
from bot.i18n import N_, Translator
from bot.services.privacy import StaffCleanup
from handlers.common import (
    CB_DELETE,
    PENDING_LANGUAGE,
    STAFF_LANGUAGE,
    answer_query,
    back_to_menu_button,
    on_callback,
    refuse,
    reply,
    topic_title,
    tx,
)
from storage.mentions import Redaction

PURGE_JOB = "privacy:purge"
PURGE_AT = time(3, 0)
"""Local time of the daily retention purge: when nobody is booking."""


# -- texts ----------------------------------------------------------------------------------
def summary_text(t: Translator, data: dict[str, Any]) -> str:
    profile = data["profile"] or {}
    lines = [t._(N_("This is everything Quartierbot stores about you:"))]
    lines.append(
        "• "
        + t._(
            N_("Language: {language}, first name: {name}"),
            language=t.language_name(str(profile.get("language", "?"))),
            name=profile.get("first_name") or "—",
        )
    )
    if profile.get("consent_at"):
        lines.append(
            "• "
            + t._(
                N_("Consent given on {date}"), date=t.date(_parse(profile["consent_at"]), "yMMMd")
            )
        )
    counts = (
        (
            len(data["appointments"]),
            t.n_("{n} appointment", "{n} appointments", len(data["appointments"])),
        ),
        (
            len(data["requests"]),
            t.n_(
                "{n} question to the counsellors",
                "{n} questions to the counsellors",
                len(data["requests"]),
            ),
        ),
        (
            len(data["subscriptions"]),
            t.n_("{n} news subscription", "{n} news subscriptions", len(data["subscriptions"])),
        ),
    )
    lines += [f"• {text}" for _, text in counts]
    lines += letter_lines(t, data)
    lines.append(t._(N_("The attached file contains all details. /delete erases everything.")))
    return "\n".join(lines)


APPOINTMENT_STATUSES: dict[str, str] = {
    "held": N_("seat held for you"),
    "requested": N_("waiting for confirmation"),
    "confirmed": N_("confirmed"),
    "attended": N_("attended"),
    "no_show": N_("missed"),
    "cancelled": N_("cancelled"),
    "declined": N_("declined by the office"),
    "expired": N_("hold expired"),
}
REQUEST_STATES: dict[str, str] = {
    "open": N_("waiting for an answer"),
    "claimed": N_("waiting for an answer"),
    "answered": N_("answered"),
    "closed": N_("closed"),
}


def letter_lines(t: Translator, data: dict[str, Any]) -> list[str]:
    """What is kept of their letters (a deadline) and the counsellors' follow-ups, with
    the counsellors' note as they wrote it."""
    lines = []
    for row in data.get("requests", []):
        if row.get("deadline"):
            day = date.fromisoformat(row["deadline"])
            lines.append("• " + t._(N_("Deadline from a letter: {date}"), date=t.date_long(day)))
    german = t.code in ("de", "de_easy")
    for row in data.get("followups", []):
        lines.append(
            "• "
            + t._(
                N_("Follow-up planned by the counsellors for {date}"),
                date=t.date(_parse(row["due_at"]), "yMMMd"),
            )
        )
        note = (
            N_("Note from the office: {note}")
            if german
            else N_("Note from the office (in German): {note}")
        )
        lines.append("  " + t._(note, note=row["note"]))
    return lines


def readable_lines(t: Translator, directory: Directory, data: dict[str, Any]) -> list[str]:
    """The export once more in the resident's language, for people rather than machines:
    the JSON keys stay English, this part of the file is what a resident can read."""
    lines = summary_text(t, data).split("\n")[:-1]  # without the "attached file" line
    lines.append(t._(N_("Times are local time ({zone})."), zone=t.ltr(str(t.tz))))
    for row in data["appointments"]:
        try:
            offer = tx(t, directory.offer(row["offer_id"]).title)
        except KeyError:
            offer = str(row["offer_id"])
        try:
            place = tx(t, directory.place(row["place_id"]).name)
        except KeyError:
            place = str(row["place_id"] or "")
        status = APPOINTMENT_STATUSES.get(row["status"])
        lines.append(
            "• "
            + t._(
                N_("Appointment on {when}: {offer}, {place} ({status})"),
                when=t.when(_parse(row["starts_at"]), _parse(row["ends_at"])),
                offer=offer,
                place=place,
                status=t._(status) if status else row["status"],
            )
        )
    for row in data["requests"]:
        state = REQUEST_STATES.get(row["state"])
        lines.append(
            "• "
            + t._(
                N_("Question from {date} ({state})"),
                date=t.date(_parse(row["opened_at"]), "yMMMd"),
                state=t._(state) if state else row["state"],
            )
        )
    for row in data["subscriptions"]:
        title, _ = topic_title(t, directory, str(row["topic"]))
        lines.append("• " + t._(N_("News: {topic}"), topic=title))
    return [t.paragraph(line) for line in lines]


STORED_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
"""How the database writes a moment (UTC, see ``storage.db.to_db``)."""
TIME_KEYS = frozenset({"at", "last_seen", "unreachable_since", "waiting_since"})
"""Export columns holding a moment besides the ``*_at`` ones (a note is never converted,
whatever it looks like)."""


def local_times(value: Any, tz: tzinfo, key: str = "") -> Any:
    """The export with every stored moment as ISO 8601 in the resident's local time with its
    offset ("2026-11-26T14:00:00+01:00"): the database's UTC without a zone reads as local
    time to anyone who opens the file, one hour off (two in summer)."""
    if isinstance(value, dict):
        return {name: local_times(item, tz, name) for name, item in value.items()}
    if isinstance(value, list):
        return [local_times(item, tz, key) for item in value]
    moment = key.endswith("_at") or key in TIME_KEYS
    if moment and isinstance(value, str) and STORED_TIME.match(value):
        return _parse(value).astimezone(tz).isoformat()
    return value


def _parse(value: str) -> datetime:
    from storage.db import from_db

    parsed = from_db(value)
    assert parsed is not None
    return parsed


# -- commands -------------------------------------------------------------------------------
async def mydata_command(update: Update, context: BotContext) -> None:
    assert update.effective_user is not None and update.effective_message is not None
    t = context.t
    data = await context.services.privacy.export(update.effective_user.id)
    if data is None:
        await update.effective_message.reply_text(
            t.paragraph(t._(N_("We do not store anything about you.")))
        )
        return
    tz = context.config.tz
    document = json.dumps(
        {
            "quartierbot": "data stored about you",
            "exported_at": context.clock.now().astimezone(tz).isoformat(),
            "time_zone": str(tz),
            "in_your_language": readable_lines(t, context.services.directory, data),
            **local_times(data, tz),
        },
        ensure_ascii=False,
        indent=2,
    ).encode()
    summary = summary_text(t, data)
    await context.bot.send_document(
        update.effective_user.id,
        InputFile(document, filename="quartierbot-my-data.json"),
        caption=t.paragraph(summary)[:1024],
    )


def delete_markup(t: Translator) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "🗑 " + t._(N_("Yes, delete everything")),
                    callback_data=callbacks.make(CB_DELETE, "yes"),
                )
            ],
            [
                InlineKeyboardButton(
                    t._(N_("No, keep my data")), callback_data=callbacks.make(CB_DELETE, "no")
                )
            ],
        ]
    )


async def delete_command(update: Update, context: BotContext) -> None:
    t = context.t
    if context.resident is None:
        await reply(update, context, t._(N_("We do not store anything about you.")))
        return
    text = t._(
        N_(
            "This deletes everything we store about you: your profile, your appointments "
            "(they will be cancelled), your questions and your subscriptions. It cannot be "
            "undone. Do you want to delete your data?"
        )
    )
    await reply(update, context, text, delete_markup(t))


# -- callbacks ------------------------------------------------------------------------------
async def on_delete(update: Update, context: BotContext, cb: Callback) -> None:
    assert update.effective_user is not None
    t = context.t
    if cb.arg(0) == "ask":
        await answer_query(update)
        await delete_command(update, context)
        return
    if cb.arg(0) != "yes":
        await answer_query(update)
        await reply(
            update,
            context,
            t._(N_("Nothing was deleted.")),
            InlineKeyboardMarkup([[back_to_menu_button(t)]]),
        )
        return
    user_id = update.effective_user.id
    privacy = context.services.privacy
    if not await privacy.stores_anything(user_id):  # a double tap
        await answer_query(update, t._(N_("Your data has already been deleted.")), alert=True)
        return
    await answer_query(update)
    erased = await privacy.erase(user_id)
    await context.services.command_menus.withdraw(user_id)
    context.resident = None
    if context.user_data is not None:
        context.user_data.clear()
        context.user_data[PENDING_LANGUAGE] = t.code
    text = t._(
        N_(
            "Your data has been deleted: your profile, {appointments} appointment(s) "
            "(cancelled), {requests} question(s) and {subscriptions} subscription(s). "
            "If you write /start again, we begin from scratch."
        ),
        appointments=erased.appointments,
        requests=erased.requests,
        subscriptions=erased.subscriptions,
    )
    await reply(update, context, text)


class ErasureNotice:
    """Tells staff in the general chat, by reference only, which requests were deleted or
    expired and what they must remove by hand (``bot.services.privacy.ErasureNotifier``)."""

    LINKS = 20
    """At most this many links to old copies; the references find the rest."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def topic_left(self, refs: Sequence[str]) -> str:
        st = self.services.i18n.get(STAFF_LANGUAGE)
        return "⚠️ " + st._(
            N_("The bot could not delete the topic of {refs}. Please delete it by hand."),
            refs=_refs(refs),
        )

    async def cleaned(self, cleanup: StaffCleanup) -> None:
        services = self.services
        if not services.staffpost.enabled:
            return
        await services.staffpost.send_text(
            cleanup_text(services.i18n.get(STAFF_LANGUAGE), cleanup, services.config.staff_chat),
            priority=True,
        )


def _refs(refs: Sequence[str]) -> str:
    return ", ".join(f"#{ref}" for ref in refs)


def message_link(chat_id: int | None, message_id: int) -> str | None:
    """A link staff can tap to an old copy (supergroups only: ``-100…`` ids)."""
    if chat_id is None or not str(chat_id).startswith("-100"):
        return None
    return f"https://t.me/c/{str(chat_id)[4:]}/{message_id}"


class CopyRedactions:
    """What an old copy or header line (group without topics) is edited down to: the
    sentence of the clean-up notice, by reference only (``bot.delivery.staff_lane.Redactor``)."""

    def __init__(self, services: Services) -> None:
        self.services = services

    async def render(self, redaction: Redaction) -> tuple[str, InlineKeyboardMarkup | None]:
        refs = tuple(
            ref for line in redaction.bookings for ref in (line.about or "").split(", ") if ref
        )
        t = self.services.i18n.get(STAFF_LANGUAGE)
        return gone_line(t, redaction.why, refs), None


def gone_line(t: Translator, why: str, refs_: Sequence[str]) -> str:
    refs = _refs(refs_)
    n = len(refs_)
    if why == "expired":
        return "🗑 " + t.n_(
            "Retention period over: request {refs} was anonymised.",
            "Retention period over: requests {refs} were anonymised.",
            n,
            refs=refs,
        )
    if n:
        return "🗑 " + t.n_(
            "Request {refs} was deleted at the resident's request.",
            "Requests {refs} were deleted at the resident's request.",
            n,
            refs=refs,
        )
    return "🗑 " + t._(N_("A resident's data was deleted because they asked for it."))


def cleanup_text(t: Translator, cleanup: StaffCleanup, chat_id: int | None) -> str:
    refs = _refs(cleanup.refs)
    n = len(cleanup.refs)
    lines = [gone_line(t, cleanup.why, cleanup.refs)]
    if not cleanup.forum and cleanup.older and n:
        lines.append(
            t._(
                N_(
                    "The bot cannot delete messages older than 48 hours. Please delete them "
                    "by hand: they are below the header lines with {refs}."
                ),
                refs=refs,
            )
        )
        links = [message_link(chat_id, mid) for mid in cleanup.by_hand[: ErasureNotice.LINKS]]
        lines += [link for link in links if link is not None]
    return "\n".join(lines)


# -- retention ------------------------------------------------------------------------------
async def purge(context: BotContext, data: Any) -> None:
    await context.services.privacy.purge()


def next_purge(now: datetime, tz: Any) -> datetime:
    local = now.astimezone(tz)
    first = datetime.combine(local.date(), PURGE_AT, tzinfo=tz)
    return (
        first
        if first > local
        else datetime.combine(local.date() + timedelta(days=1), PURGE_AT, tzinfo=tz)
    )


async def on_startup(application: App) -> None:
    services = services_of(application)
    services.scheduler.every(
        PURGE_JOB, next_purge(services.clock.now(), services.config.tz), timedelta(days=1), purge
    )


# -- coordinators ---------------------------------------------------------------------------
async def audit_command(update: Update, context: BotContext) -> None:
    message = update.effective_message
    assert message is not None
    t = context.t
    entries = await context.storage.audit.recent(30)
    if not entries:
        await message.reply_text(t._(N_("No staff actions recorded yet.")))
        return
    lines = [t._(N_("Latest staff actions (newest first):"))]
    for entry in entries:
        whom = f" → {entry.resident_id}" if entry.resident_id is not None else ""
        detail = f" ({entry.detail})" if entry.detail else ""
        lines.append(f"{t.datetime(entry.at)} · {entry.actor_id} · {entry.action}{whom}{detail}")
    text = "\n".join(lines)
    await message.reply_text(text[:4000])


def handlers(services: Services, application: App) -> list[Handler]:
    # The note in an erased resident's topic is rendered here (set once, at build).
    services.privacy.staff = ErasureNotice(services)
    services.staffpost.redacts(("copy",), CopyRedactions(services))
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("mydata", mydata_command, filters=private),
        CommandHandler("delete", delete_command, filters=private),
        CommandHandler(
            "audit",
            audit_command,
            filters=filters.UpdateType.MESSAGES & coordinator_here(services.config),
        ),
        CommandHandler("audit", refuse),
        on_callback(CB_DELETE, on_delete),
    ]


CAPABILITY = Capability(
    name="privacy",
    handlers=handlers,
    commands=(
        Command("mydata", N_("See everything stored about you")),
        Command("delete", N_("Delete all your data")),
        Command("audit", N_("Latest staff actions"), scope="admin"),
    ),
    on_start=(on_startup,),
)
