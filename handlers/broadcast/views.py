"""What the broadcast capability shows: the coordinator's prompts and progress report, and
(:class:`Views`) what the broadcast lane sends, as residents and the coordinator see it."""

from __future__ import annotations

from datetime import datetime, timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks
from bot.context import Services
from bot.i18n import LANGUAGES, N_, Translator
from handlers.common import render_broadcast, topic_title
from storage.broadcasts import BLOCKED, FAILED, LEFT, SENT, SKIPPED, UNKNOWN, Broadcast, Draft

CB_TOPIC = callbacks.kind("bct", 1)
CB_LANG = callbacks.kind("bcl", 1)
CB_STEP = callbacks.kind("bcs", 1)
CB_CONFIRM = callbacks.kind("bcok")
CB_DISCARD = callbacks.kind("bcno")
CB_CANCEL = callbacks.kind("bcx", 1)


# -- texts ----------------------------------------------------------------------------------
def discard_row(t: Translator) -> list[InlineKeyboardButton]:
    return [
        InlineKeyboardButton("✖ " + t._(N_("Discard")), callback_data=callbacks.make(CB_DISCARD))
    ]


def stale(t: Translator) -> str:
    return t._(N_("This button is no longer valid."))


def moment(t: Translator, when: datetime) -> str:
    """Date with year and "at" the time, in the reader's date style."""
    return t.when(when, skeleton="yMMMEd")


def text_prompt(t: Translator, code: str) -> str:
    if code == "de":
        return t._(N_("Now send me the text of the announcement in German."))
    return t._(N_("Send me the text in {language}."), language=t.language_name(code))


def langs_prompt(t: Translator, draft: Draft) -> tuple[str, InlineKeyboardMarkup]:
    text = t._(
        N_(
            "Texts so far: {languages}.\n\nAdd the announcement in another language? Residents "
            "whose language is missing get the German text with a short note in their language."
        ),
        languages=human_languages(t, draft),
    )
    if draft.machine:
        text += "\n\n🌐 " + t._(
            N_(
                "Machine-translated drafts: {languages}. Residents read them with a note that a "
                "machine translated them. Check them in the preview; to replace one, tap its "
                "language and send your own text."
            ),
            languages=machine_languages(t, draft),
        )
    missing = [
        InlineKeyboardButton(
            f"✎ {t.language_name(c)} 🌐" if c in draft.machine else f"+ {t.language_name(c)}",
            callback_data=callbacks.make(CB_LANG, c),
        )
        for c in LANGUAGES
        if c not in draft.texts or c in draft.machine
    ]
    rows = [missing[i : i + 3] for i in range(0, len(missing), 3)]
    rows.append(
        [
            InlineKeyboardButton(
                t._(N_("Continue »")), callback_data=callbacks.make(CB_STEP, "media")
            )
        ]
    )
    rows.append(discard_row(t))
    return text, InlineKeyboardMarkup(rows)


def human_languages(t: Translator, draft: Draft) -> str:
    return ", ".join(
        t.language_name(c) for c in LANGUAGES if c in draft.texts and c not in draft.machine
    )


def machine_languages(t: Translator, draft: Draft) -> str:
    return ", ".join(t.language_name(c) for c in LANGUAGES if c in draft.machine)


def media_prompt(t: Translator) -> tuple[str, InlineKeyboardMarkup]:
    text = t._(N_("Send a photo or a document to go with the announcement, or continue without."))
    rows = [
        [
            InlineKeyboardButton(
                t._(N_("No attachment »")), callback_data=callbacks.make(CB_STEP, "nomedia")
            )
        ],
        discard_row(t),
    ]
    return text, InlineKeyboardMarkup(rows)


def when_prompt(t: Translator) -> tuple[str, InlineKeyboardMarkup]:
    rows = [
        [
            InlineKeyboardButton(
                "▶ " + t._(N_("Send now")), callback_data=callbacks.make(CB_STEP, "now")
            )
        ],
        [
            InlineKeyboardButton(
                "🕒 " + t._(N_("At a set time…")), callback_data=callbacks.make(CB_STEP, "later")
            )
        ],
        discard_row(t),
    ]
    return t._(N_("When should it be sent?")), InlineKeyboardMarkup(rows)


def time_prompt(t: Translator, now: datetime) -> str:
    example = (now + timedelta(days=1)).astimezone(t.tz).replace(hour=9, minute=0)
    return t._(
        N_("Send me the date and time, for example {example}."),
        example=example.strftime("%d.%m.%Y %H:%M"),
    )


def summary_prompt(
    t: Translator, draft: Draft, title: str, audience: int
) -> tuple[str, InlineKeyboardMarkup]:
    """After the preview: what happens next, and the button to confirm it."""
    lines = [
        t._(N_("Topic: {topic}"), topic=title),
        t._(N_("Subscribers now: {n}"), n=audience),
        t._(N_("Languages: {languages}"), languages=human_languages(t, draft)),
    ]
    if draft.machine:
        lines.append(
            "🌐 "
            + t._(N_("Machine translation: {languages}"), languages=machine_languages(t, draft))
        )
    if len(draft.texts) < len(LANGUAGES):
        lines.append(t._(N_("Everybody else gets the German text with a note in their language.")))
    if draft.send_at is None:
        lines.append(t._(N_("It will be sent right away.")))
        confirm = "✅ " + t._(N_("Send now"))
    else:
        lines.append(t._(N_("It will be sent on {when}."), when=moment(t, draft.send_at)))
        confirm = "✅ " + t._(N_("Schedule"))
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton(confirm, callback_data=callbacks.make(CB_CONFIRM))], discard_row(t)]
    )
    return "\n".join(lines), markup


def as_broadcast(draft: Draft, lang: str, now: datetime) -> Broadcast:
    """The draft as the broadcast it will become, for the preview."""
    assert draft.topic is not None
    return Broadcast(
        id=0,
        topic=draft.topic,
        texts=draft.texts,
        media_kind=draft.media_kind,
        media_file_id=draft.media_file_id,
        created_by=draft.user_id,
        created_at=now,
        send_at=draft.send_at or now,
        status="scheduled",
        started_at=None,
        finished_at=None,
        lang=lang,
        report_chat=draft.chat_id,
        report_thread=draft.thread_id,
        progress_message=None,
        machine=draft.machine,
    )


def progress_text(
    services: Services, broadcast: Broadcast, counts: dict[str, int], final: bool
) -> str:
    """The coordinator's progress message, edited as the broadcast goes, and the report."""
    t = services.i18n.get(broadcast.lang)
    title, _ = topic_title(t, services.directory, broadcast.topic)
    total = sum(counts.values())
    if final:
        header = "🏁 " + t._(N_("Broadcast #{id} finished: {topic}"), id=broadcast.id, topic=title)
    else:
        header = "📤 " + t._(
            N_("Broadcast #{id} is being sent: {topic}"), id=broadcast.id, topic=title
        )
    lines = [
        header,
        "✅ " + t._(N_("sent: {n} of {total}"), n=counts.get(SENT, 0), total=total),
        "⚠️ " + t._(N_("failed: {n}"), n=counts.get(FAILED, 0) + counts.get(UNKNOWN, 0)),
        "⛔ " + t._(N_("blocked the bot: {n}"), n=counts.get(BLOCKED, 0)),
        "👋 " + t._(N_("left Telegram: {n}"), n=counts.get(LEFT, 0)),
    ]
    if counts.get(SKIPPED):
        lines.append("🔕 " + t._(N_("unsubscribed meanwhile: {n}"), n=counts[SKIPPED]))
    if total == 0:
        lines.append(t._(N_("Nobody has subscribed to this topic.")))
    return "\n".join(lines)


class Views:
    """What the broadcast lane sends, as residents and the coordinator see it."""

    def __init__(self, services: Services) -> None:
        self.services = services

    def message(
        self, broadcast: Broadcast, language: str
    ) -> tuple[str, InlineKeyboardMarkup | None]:
        return render_broadcast(self.services, broadcast, language)

    def progress(self, broadcast: Broadcast, counts: dict[str, int], final: bool) -> str:
        return progress_text(self.services, broadcast, counts, final)
