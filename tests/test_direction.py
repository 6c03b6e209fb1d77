"""Every line and button of an Arabic or Farsi message lays out right to left; other
messages pass untouched."""

from __future__ import annotations

from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.delivery.direction import fix_direction, reads_right_to_left
from bot.i18n import FSI, PDI, RLM, first_strong

NEWS = "ℹ️ هذه الرسالة متوفرة باللغة الألمانية فقط.\nJobmesse am Freitag in der Fabrik Heeder."
PLACE = "موعدك:\n📍 Kom.ZFB في Fabrik Heeder\nVirchowstraße 128C, 47805 Krefeld"


def test_lines_of_an_arabic_message_start_right_to_left() -> None:
    data: dict[str, Any] = {"chat_id": 1, "text": NEWS}
    fix_direction(data)
    note, body = data["text"].split("\n")
    assert note == RLM + "ℹ️ هذه الرسالة متوفرة باللغة الألمانية فقط."  # ℹ is left to right
    # German text inside an Arabic message is isolated, so its full stop stays at its end.
    assert body == f"{RLM}{FSI}Jobmesse am Freitag in der Fabrik Heeder.{PDI}"
    data = {"chat_id": 1, "text": PLACE}
    fix_direction(data)
    lines = data["text"].split("\n")
    assert lines[1] == RLM + "📍 Kom.ZFB في Fabrik Heeder"  # mixed: an RLM, no isolate
    assert all(first_strong(line) == "R" for line in lines)


def test_buttons_of_an_arabic_message_and_untouched_other_messages() -> None:
    markup = InlineKeyboardMarkup(
        [[InlineKeyboardButton("📍 Kom.ZFB في Fabrik Heeder", callback_data="1:x")]]
    )
    data: dict[str, Any] = {"chat_id": 1, "text": "اختر مكانًا:", "reply_markup": markup}
    fix_direction(data)
    [[button]] = data["reply_markup"].inline_keyboard
    assert button.text == RLM + "📍 Kom.ZFB في Fabrik Heeder"
    assert button.callback_data == "1:x"
    german = {"chat_id": 1, "text": "Neue Anfrage von Omar: وصلتني رسالة", "reply_markup": markup}
    fix_direction(german)
    assert german["text"] == "Neue Anfrage von Omar: وصلتني رسالة"
    assert german["reply_markup"] is markup


def test_markup_and_entities() -> None:
    html: dict[str, Any] = {
        "chat_id": 1,
        "text": "ترجمة\n<blockquote expandable>Bitte kommen Sie.</blockquote>",
        "parse_mode": "HTML",
    }
    fix_direction(html)
    assert (
        html["text"].split("\n")[1] == RLM + "<blockquote expandable>Bitte kommen Sie.</blockquote>"
    )
    entities = {
        "chat_id": 1,
        "text": NEWS,
        "entities": [{"type": "bold", "offset": 0, "length": 2}],
    }
    fix_direction(entities)
    assert entities["text"] == NEWS  # offsets would shift: left alone
    assert reads_right_to_left("ℹ️ هذه") and not reads_right_to_left("ℹ️ Hinweis هذه")
