"""What staff and the resident read about a letter read on arrival
(``bot.services.letters.LetterViews``).

Staff get the recognised text in an expandable block quote (Telegram HTML), split so that no
message passes Telegram's 4096 characters, and one line of what was found. The resident
gets the machine translation to read while they wait, announced as not legally binding,
and the deadline the letter names, in their language and date format; nothing that tells
them what to do.
"""

from __future__ import annotations

import html
from datetime import date

from bot.context import Services
from bot.i18n import N_, Translator
from bot.letters.model import Letter, Problem
from handlers.common import STAFF_LANGUAGE
from handlers.common.views import deadline_phrase, staff_date

CHUNK = 3200
"""Characters of (escaped) text per message: with the heading and the found line, a message
stays within Telegram's 4096."""
SENTENCE = 300
"""At most this much of the sentence a deadline came from."""

PROBLEMS = {
    Problem.UNREADABLE: N_(
        "📄 This file could not be read as a letter (damaged, empty, or not what its name says)."
    ),
    Problem.ENCRYPTED: N_("📄 This PDF is protected with a password and could not be read."),
    Problem.TOO_LARGE: N_(
        "📄 This file is larger than 20 MB: Telegram does not let the bot download it, so it "
        "was not read."
    ),
}


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


def _cut(line: str, size: int) -> int:
    """Where to cut a line too long for one message: its escaped head fits ``size``, at a
    space if there is one in its second half."""
    cut = min(len(line), size)
    while len(_esc(line[:cut])) > size:
        cut -= 1
    space = line.rfind(" ", 0, cut)
    return space if space > cut // 2 else cut


def chunks(text: str, size: int = CHUNK) -> list[str]:
    """The text HTML-escaped, in pieces of at most ``size`` characters, cut at line ends
    where it can be."""
    pieces: list[str] = []
    current = ""
    for line in text.strip().split("\n"):
        while len(_esc(line)) > size:
            cut = _cut(line, size)
            if current:
                pieces.append(current)
                current = ""
            pieces.append(_esc(line[:cut]))
            line = line[cut:].lstrip()
        escaped = _esc(line)
        joined = f"{current}\n{escaped}" if current else escaped
        if current and len(joined) > size:
            pieces.append(current)
            current = escaped
        else:
            current = joined
    if current:
        pieces.append(current)
    return pieces


def quoted(piece: str) -> str:
    return f"<blockquote expandable>{piece}</blockquote>"


class LetterTexts:
    def __init__(self, services: Services) -> None:
        self.i18n = services.i18n
        self.staff = services.i18n.get(STAFF_LANGUAGE)

    # -- staff ----------------------------------------------------------------------------------
    def for_staff(self, letter: Letter, today: date) -> list[str]:
        t = self.staff
        head = t.n_(
            "📄 Letter text (recognised automatically, {n} page)",
            "📄 Letter text (recognised automatically, {n} pages)",
            letter.pages,
        )
        if letter.pages_skipped:
            head += " " + t.n_(
                "{n} more page was not read.", "{n} more pages were not read.", letter.pages_skipped
            )
        pieces = chunks(letter.text) or [""]
        found = self.found(t, letter, today)
        messages = []
        for index, piece in enumerate(pieces):
            parts = [_esc(head)] if index == 0 else []
            if piece:
                parts.append(quoted(piece))
            if index == len(pieces) - 1 and found:
                parts.append(found)
            messages.append("\n".join(parts))
        return messages

    @staticmethod
    def found(t: Translator, letter: Letter, today: date) -> str:
        """One line of what was found (escaped HTML): sender, date, reference; the deadline
        with the sentence it came from."""
        facts = []
        if letter.sender_name:
            facts.append(t._(N_("Sender: {name}"), name=letter.sender_name))
        if letter.letter_date:
            facts.append(t._(N_("Letter of {date}"), date=staff_date(t, letter.letter_date)))
        if letter.reference:
            facts.append(t._(N_("Reference: {reference}"), reference=letter.reference))
        lines = [_esc(" · ".join(facts))] if facts else []
        deadline = letter.deadline
        if deadline is not None:
            phrase = deadline_phrase(t, deadline.due, today, estimated=deadline.estimated)
            line = "⏰ " + t._(N_("Deadline: {deadline}"), deadline=phrase)
            lines.append(_esc(line))
            sentence = " ".join(deadline.sentence.split())
            if len(sentence) > SENTENCE:
                sentence = sentence[: SENTENCE - 1].rstrip() + "…"
            if sentence:
                lines.append(f"<i>{_esc(sentence)}</i>")
        return "\n".join(lines)

    def problem(self, problem: Problem) -> str:
        return self.staff._(PROBLEMS[problem])

    # -- the resident ---------------------------------------------------------------------------
    def for_resident(
        self, language: str, translation: str | None, letter: Letter, today: date
    ) -> list[str]:
        t = self.i18n.get(language)
        messages = []
        if translation:
            intro = t._(
                N_(
                    "Here is a machine translation of your letter to help you understand it "
                    "while you wait. It is not legally binding; a counsellor will look at it."
                )
            )
            for index, piece in enumerate(chunks(translation)):
                text = quoted(piece)
                if index == 0:
                    text = _esc(t.paragraph(intro)) + "\n" + text
                messages.append(text)
        deadline = letter.deadline
        if deadline is not None and not deadline.estimated:
            line = t._(N_("The letter names a deadline: {date}."), date=t.date_long(deadline.due))
            messages.append(_esc(t.paragraph(line)))
        return messages
