"""Broadcast recipients in doubt after a crash, and the coordinator's choice about them.

Telegram has no idempotency key: when the bot dies between sending a broadcast to a
resident and hearing back, nobody can know whether the message arrived. The broadcast lane
keeps that window to one round trip; the rows it leaves behind are not sent again on their
own. The coordinator's progress and report say "unknown — the bot stopped while sending
(N)", the report has a button to send those N again (a duplicate for whoever did get it is
then the coordinator's informed choice), and ``/broadcasts`` lists them with the same
button. The broadcast capability only routes the button (:data:`CB_SEND_AGAIN`) to
:func:`send_again` and adds :func:`overview` to its list.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot import callbacks
from bot.delivery.broadcast_lane import BroadcastLane
from bot.i18n import N_, I18n, Translator
from storage import Storage
from storage.broadcasts import INTERRUPTED, Broadcast

CB_SEND_AGAIN = callbacks.kind("bcagain", 1)


def unknown_line(t: Translator, n: int) -> str:
    return "❓ " + t._(N_("unknown — the bot stopped while sending ({n})"), n=n)


def send_again_button(t: Translator, broadcast_id: int, n: int) -> InlineKeyboardButton:
    return InlineKeyboardButton(
        "🔁 " + t.n_("Send again to {n} recipient", "Send again to {n} recipients", n),
        callback_data=callbacks.make(CB_SEND_AGAIN, broadcast_id),
    )


class ReportNote:
    """The broadcast lane's :class:`~bot.delivery.broadcast_lane.ReportNote`, in the
    language the coordinator confirmed the broadcast in."""

    def __init__(self, i18n: I18n) -> None:
        self.i18n = i18n

    def note(
        self, broadcast: Broadcast, counts: dict[str, int], final: bool
    ) -> tuple[str | None, InlineKeyboardMarkup | None]:
        n = counts.get(INTERRUPTED, 0)
        if not n:
            return None, None
        t = self.i18n.get(broadcast.lang)
        buttons = InlineKeyboardMarkup([[send_again_button(t, broadcast.id, n)]])
        return unknown_line(t, n), buttons if final else None


async def overview(
    storage: Storage, t: Translator
) -> tuple[list[str], list[list[InlineKeyboardButton]]]:
    """Lines and buttons for ``/broadcasts``: every broadcast with recipients in doubt."""
    lines, rows = [], []
    for broadcast, n in await storage.broadcasts.interrupted():
        lines.append(f"#{broadcast.id}: {unknown_line(t, n)}")
        rows.append([send_again_button(t, broadcast.id, n)])
    return lines, rows


async def send_again(
    storage: Storage, lane: BroadcastLane, broadcast_id: int | None, t: Translator
) -> str | None:
    """The coordinator tapped "send again": those rows go out again with a new report.
    None when there is nothing (left) to send again."""
    if broadcast_id is None:
        return None
    again = await storage.broadcasts.send_again(broadcast_id)
    if not again:
        return None
    lane.wake()
    return "🔁 " + t._(N_("Broadcast #{id}: sending again ({n})."), id=broadcast_id, n=again)
