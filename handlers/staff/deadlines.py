"""Deadlines and follow-ups, the staff side: ``/deadline`` and ``/followup`` in a resident's
topic, and the texts staff read about them (reminders, follow-ups posted, /queue's ⏰).

The rules (working days, restarts, the audit trail) are ``bot.services.deadlines``; here
what staff typed is parsed and what happened is said, in the staff language.
"""

from __future__ import annotations

from datetime import date

from bot.context import BotContext, Services
from bot.i18n import N_, Translator
from bot.services.deadlines import parse_date, parse_when
from bot.services.requests import Target
from handlers.common import STAFF_LANGUAGE
from handlers.common.views import deadline_phrase, staff_date
from storage.requests import Request

CLEAR = ("clear", "löschen", "weg", "-")


class DeadlineTexts:
    """What the deadlines service posts (``bot.services.deadlines.DeadlineViews``)."""

    def __init__(self, services: Services) -> None:
        self.t = services.i18n.get(STAFF_LANGUAGE)

    def reminder(self, request: Request, today: date) -> str:
        assert request.deadline is not None
        return "⏰ " + self.t._(
            N_("Reminder: the deadline of #{ref} is {deadline}."),
            ref=request.ref,
            deadline=deadline_phrase(
                self.t, request.deadline, today, estimated=request.deadline_estimated
            ),
        )

    def followup(self, note: str) -> str:
        return "🔔 " + self.t._(N_("Follow-up: {note}"), note=note)


# -- the commands -----------------------------------------------------------------------------
def deadline_usage(t: Translator) -> str:
    return t._(
        N_(
            "Usage: /deadline 2027-02-01 (or 01.02.2027) sets or corrects the deadline of "
            "this request; /deadline clear removes it."
        )
    )


def followup_usage(t: Translator) -> str:
    return t._(
        N_(
            "Usage: /followup 14d <text> (or 30m, 2h, 2w, or a date such as 2027-01-05 or "
            "05.01.2027). The text is posted in this topic at that time. It is not sent to the "
            "resident, but /mydata shows it to them."
        )
    )


async def set_deadline(context: BotContext, target: Target, args: list[str], staff_id: int) -> str:
    """``/deadline <date>`` or ``/deadline clear``; returns what staff are told."""
    t = context.services.i18n.get(STAFF_LANGUAGE)
    request = target.request
    if request is None or len(args) != 1:
        return deadline_usage(t)
    service = context.services.deadlines
    if args[0].lower() in CLEAR:
        cleared = await service.set(request, None, staff_id=staff_id)
        if cleared is None:
            return deadline_usage(t)
        return t._(N_("The deadline of #{ref} was removed."), ref=cleared.ref)
    day = parse_date(args[0])
    if day is None:
        return deadline_usage(t)
    updated = await service.set(request, day, staff_id=staff_id)
    if updated is None:
        return deadline_usage(t)
    return "⏰ " + t._(
        N_("Deadline of #{ref}: {deadline}."),
        ref=updated.ref,
        deadline=deadline_phrase(t, day, service.today()),
    )


async def follow_up(context: BotContext, target: Target, args: list[str], staff_id: int) -> str:
    """``/followup <when> <text>``; returns what staff are told."""
    t = context.services.i18n.get(STAFF_LANGUAGE)
    if len(args) < 2:
        return followup_usage(t)
    now = context.clock.now()
    due = parse_when(args[0], now, context.config.tz)
    note = " ".join(args[1:]).strip()
    if due is None or due <= now or not note:
        return followup_usage(t)
    await context.services.deadlines.follow_up(target.user_id, due, note, staff_id)
    local = due.astimezone(context.config.tz)
    return "🔔 " + t._(
        N_("Follow-up set for {date}, {time}."),
        date=staff_date(t, local.date()),
        time=t.time(local),
    )
