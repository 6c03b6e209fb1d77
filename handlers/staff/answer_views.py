"""What staff and residents read about prepared answers (the library, suggestions, offers)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks
from bot.i18n import LANGUAGES, N_, Translator
from bot.services.answers import InLanguage
from storage.answers import StoredAnswer

CB_SEND = callbacks.kind("ans", 1)
"""Staff: send the suggested answer (``1:ans:<key>``), as /reply <key> would."""
CB_OFFER = callbacks.kind("aof", 2)
"""Resident: ✅ / 💬 under an offered answer (``1:aof:<token>:y|n``)."""
HELPED, TALK = "y", "n"
FIRST_LINE = 80


def first_line(text: str, limit: int = FIRST_LINE) -> str:
    line = text.strip().split("\n", 1)[0]
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


# -- staff --------------------------------------------------------------------------------------
def listing(t: Translator, entries: list[StoredAnswer]) -> str:
    if not entries:
        return t._(
            N_(
                "There are no prepared answers yet. Add one with /answer add <key> as a reply "
                "to a message with the answer."
            )
        )
    lines = [t._(N_("Prepared answers: /reply <key> sends one in the resident's language."))]
    for entry in entries:
        line = f"• {entry.key}: {first_line(entry.text)}"
        if entry.translations:
            line += f" [{', '.join(sorted(entry.translations))}]"
        lines.append(line)
    return "\n".join(lines)


def entry_text(t: Translator, entry: StoredAnswer) -> str:
    lines = [f"📚 {entry.key}", "", entry.text, ""]
    lines.append(t._(N_("Ways residents ask it:")))
    lines += [f"• {p}" for p in entry.phrases] or ["–"]
    lines.append("")
    lines.append(
        t._(N_("Human translations:")) + " " + (", ".join(sorted(entry.translations)) or "–")
    )
    return "\n".join(lines)


def usage(t: Translator) -> str:
    return t._(
        N_(
            "Prepared answers:\n"
            "/answers – list them\n"
            "/answer <key> – show one\n"
            "/answer add <key> – as a reply to the answer's text; the lines after the command "
            "are the ways residents ask it, one per line\n"
            "/answer del <key> – delete one\n"
            "/answer translate <key> <language> – as a reply to a translation by a person\n"
            "/answers export – the library as a file\n"
            "/answers import – as the caption of such a file, or as a reply to it"
        )
    )


def unknown_key(t: Translator, key: str) -> str:
    return t._(N_("There is no prepared answer “{key}”. /answers lists them."), key=key)


def bad_key(t: Translator) -> str:
    return t._(N_("A key is one short word: lower-case letters, digits, - and _."))


def saved(t: Translator, key: str, replaced: bool) -> str:
    if replaced:
        return "✅ " + t._(N_("Prepared answer “{key}” replaced."), key=key)
    return "✅ " + t._(N_("Prepared answer “{key}” saved."), key=key)


def deleted(t: Translator, key: str) -> str:
    return "🗑 " + t._(N_("Prepared answer “{key}” deleted."), key=key)


def translation_saved(t: Translator, key: str, language: str) -> str:
    return "✅ " + t._(N_("Translation of “{key}” ({language}) saved."), key=key, language=language)


def unknown_language(t: Translator, code: str) -> str:
    return t._(
        N_("Unknown language “{code}”. Our languages: {codes}"),
        code=code,
        codes=", ".join(LANGUAGES),
    )


def export_caption(t: Translator, count: int) -> str:
    return t.n_(
        "The answer library ({count} entry). Send this file with the caption /answers import"
        " to restore it.",
        "The answer library ({count} entries). Send this file with the caption /answers import"
        " to restore it.",
        count,
        count=count,
    )


def imported(t: Translator, count: int) -> str:
    return "✅ " + t.n_(
        "Imported {count} prepared answer.",
        "Imported {count} prepared answers.",
        count,
        count=count,
    )


def not_imported(t: Translator, problem: str) -> str:
    return "⚠️ " + t._(
        N_("This file cannot be imported ({problem}); the library is unchanged."),
        problem=problem,
    )


def suggestion(t: Translator, entry: StoredAnswer) -> str:
    return "💡 " + t._(
        N_("Prepared answer may fit: {key} — {text}"), key=entry.key, text=first_line(entry.text)
    )


def suggestion_markup(t: Translator, key: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "📨 " + t._(N_("Send “{key}”"), key=key),
                    callback_data=callbacks.make(CB_SEND, key),
                )
            ]
        ]
    )


def tapped_note(t: Translator, key: str, helped: bool) -> str:
    if helped:
        return "✅ " + t._(N_("Prepared answer ‚{key}' helped; the request is closed."), key=key)
    return "💬 " + t._(
        N_(
            "The resident read the prepared answer ‚{key}' and still wants to talk to a counsellor."
        ),
        key=key,
    )


# -- residents ----------------------------------------------------------------------------------
def offer_text(t: Translator, shown: InLanguage, machine_note: bool, german_note: bool) -> str:
    parts = [t._(N_("While you wait, this answer from the office may help:")), shown.text]
    if machine_note:
        parts.append("🌐 " + t._(N_("This answer was translated by a machine.")))
    if german_note:
        parts.append("ℹ️ " + t._(N_("This message is only available in German.")))
    return "\n\n".join(parts)


def offer_markup(t: Translator, token: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    "✅ " + t._(N_("That answers my question")),
                    callback_data=callbacks.make(CB_OFFER, token, HELPED),
                )
            ],
            [
                InlineKeyboardButton(
                    "💬 " + t._(N_("I still want to talk to a counsellor")),
                    callback_data=callbacks.make(CB_OFFER, token, TALK),
                )
            ],
        ]
    )


def offer_helped(t: Translator) -> str:
    return "✅ " + t._(
        N_("Good that it helped! Your request is closed. You can write here again at any time.")
    )


def offer_talk(t: Translator) -> str:
    return "💬 " + t._(N_("All right: a counsellor will answer you."))
