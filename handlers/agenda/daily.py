"""The daily agenda: each day at ``QUARTIERBOT_AGENDA_AT`` (Berlin time) the day's
appointments go into the staff group's General topic, per place, with interpreter needs and
who confirmed, and the deadlines of residents' letters this week ("Fristen diese Woche", by
reference). Nothing on a day without either; the posted day is stored, so a
restart never posts it twice (a bot started late that day still posts it while an
appointment is ahead)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from bot.capability import App
from bot.context import BotContext, Services, services_of
from bot.i18n import N_
from bot.slots import day_bounds
from handlers.agenda.notify import mention
from handlers.agenda.views import LEGEND, agenda_lines, day_markup
from handlers.common import STAFF_LANGUAGE
from handlers.common.views import deadlines_this_week

JOB = "agenda-daily"


def next_run(services: Services, after: datetime, *, today_too: bool) -> datetime | None:
    at = services.config.agenda_at
    if at is None:
        return None
    tz = services.config.tz
    local = after.astimezone(tz)
    today = datetime.combine(local.date(), at, tzinfo=tz)
    if today_too or today > local:
        return today
    return datetime.combine(local.date() + timedelta(days=1), at, tzinfo=tz)


async def post_day(services: Services, day: date) -> bool:
    """Post ``day``'s agenda once; False if there was nothing (or it was posted before)."""
    if services.config.staff_chat is None:
        return False
    now = services.clock.now()
    start, end = day_bounds(day, services.config.tz)
    bookings = await services.storage.bookings.between(start, end)
    ahead = any(b.ends_at > now for b in bookings)
    due = await services.deadlines.this_week()
    if not ahead and not due:
        return False
    if not await services.storage.bookings.claim_agenda_day(day.isoformat(), now):
        return False
    t = services.i18n.get(STAFF_LANGUAGE)
    parts = []
    markup = None
    translated = False
    mentions = []
    if ahead:
        head = "📅 " + t._(N_("Today's appointments: {date}"), date=t.date_long(day))
        lines, translated = await agenda_lines(services, t, bookings)
        parts.append(head + "\n" + "\n".join(lines).rstrip() + "\n\n" + t._(LEGEND))
        markup = day_markup(t, bookings)
        mentions = [mention(b, "agenda_daily", day.isoformat()) for b in bookings]
    if due:
        parts.append(deadlines_this_week(t, due, day))
    text = "\n\n".join(parts)
    lane = services.staffpost
    if translated:  # a machine translation of a note is in it: never in SQLite
        await lane.send_from_memory(text, markup=markup, priority=True, mentions=mentions)
    else:
        await lane.send_text(text[:4096], markup=markup, priority=True, mentions=mentions)
    return True


async def run(context: BotContext, data: Any) -> None:
    services = context.services
    today = services.clock.now().astimezone(services.config.tz).date()
    await post_day(services, today)
    schedule(services, today_too=False)


def schedule(services: Services, *, today_too: bool) -> None:
    when = next_run(services, services.clock.now(), today_too=today_too)
    if when is not None:
        services.scheduler.at(JOB, when, run)


async def on_startup(application: App) -> None:
    """Today's run too if its moment has passed: :func:`post_day` posts it only once."""
    schedule(services_of(application), today_too=True)
