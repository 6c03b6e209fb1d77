"""The resident side of :class:`bot.services.appointments.AppointmentNotifier`: what the
appointments service has to tell a resident outside their own taps, in their language."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime
from typing import Any

from telegram import InlineKeyboardMarkup, InputFile
from telegram.error import TelegramError
from telegram.ext import Application

from bot.context import Services, services_of
from bot.delivery.errors import classify
from bot.i18n import N_, Translator
from bot.services.calendar import ics
from handlers.booking import views
from handlers.common import office_note
from storage import StoredClosure
from storage.bookings import Booking

log = logging.getLogger(__name__)


def not_delivered(exc: TelegramError, what: str, user_id: int) -> None:
    """A resident who blocked the bot, left Telegram, or whose message Telegram refuses is
    skipped and logged, not an error; anything else (a network failure) is raised."""
    failure = classify(exc)
    if not (failure.unreachable or failure.refused):
        raise exc
    log.info("%s not delivered to %s (%s): %s", what, user_id, failure.kind.value, failure.message)


async def send_to_resident(
    application: Application[Any, Any, Any, Any, Any, Any],
    user_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None = None,
) -> bool:
    """Outside a direct reply: a resident who blocked the bot is skipped, not an error.
    True if the message was delivered."""
    try:
        await application.bot.send_message(user_id, text[:4096], reply_markup=markup)
    except TelegramError as exc:
        not_delivered(exc, "message", user_id)
        return False
    return True


async def send_calendar_file(
    application: Application[Any, Any, Any, Any, Any, Any],
    t: Translator,
    booking: Booking,
    *,
    cancelled: bool = False,
) -> None:
    """The event (same UID for the booking's whole life, SEQUENCE up with each move), or
    with ``cancelled`` its cancellation, so calendar apps remove it."""
    services = services_of(application)
    rules = services.appointments.rules_of(booking.offer_id)
    event = views.calendar_event(t, services.directory, booking, rules, cancelled=cancelled)
    data = ics(event, t.tz, services.clock.now())
    caption = (
        t._(N_("Open this file to remove the appointment from your calendar."))
        if cancelled
        else t._(N_("Add the appointment to your calendar."))
    )
    try:
        await application.bot.send_document(
            booking.user_id,
            InputFile(data, filename=views.calendar_file_name(t, booking)),
            caption=caption,
        )
    except TelegramError as exc:
        not_delivered(exc, "calendar file", booking.user_id)


class ResidentNotifier:
    """Installed on the appointments service by :func:`handlers.booking.handlers`."""

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        self.application = application

    @property
    def services(self) -> Services:
        return services_of(self.application)

    async def t_for(self, user_id: int) -> Translator:
        resident = await self.services.storage.residents.get(user_id)
        return self.services.i18n.get(resident.language if resident else None)

    async def _send(self, user_id: int, text: str, markup: InlineKeyboardMarkup) -> bool:
        return await send_to_resident(self.application, user_id, text, markup)

    async def reminder_due(self, booking: Booking) -> None:
        t = await self.t_for(booking.user_id)
        rules = self.services.appointments.rules_of(booking.offer_id)
        today = self.services.clock.now().astimezone(t.tz).date()
        text = views.reminder_text(t, self.services.directory, booking, rules, today)
        await self._send(booking.user_id, text, views.reminder_markup(t, booking))

    async def hold_offered(self, hold: Booking, until: datetime) -> bool:
        t = await self.t_for(hold.user_id)
        text = views.hold_offer_text(t, self.services.directory, hold, until)
        return await self._send(hold.user_id, text, views.hold_markup(t, hold))

    async def hold_expired(self, released: Booking) -> None:
        t = await self.t_for(released.user_id)
        markup = views.rebook_markup(t, released.offer_id)
        await self._send(released.user_id, views.hold_expired_text(t), markup)

    async def confirmed_by_staff(self, booking: Booking) -> None:
        t = await self.t_for(booking.user_id)
        rules = self.services.appointments.rules_of(booking.offer_id)
        text = views.confirmed_by_staff_text(t, self.services.directory, booking, rules)
        await self._send(booking.user_id, text, InlineKeyboardMarkup([[views.mine_button(t)]]))
        await send_calendar_file(self.application, t, booking)

    async def declined_by_staff(self, booking: Booking) -> None:
        t = await self.t_for(booking.user_id)
        text = views.declined_by_staff_text(t, self.services.directory, booking)
        await self._send(booking.user_id, text, views.rebook_markup(t, booking.offer_id))

    async def cancelled_by_staff(self, booking: Booking, reason: str, note: str = "") -> None:
        t = await self.t_for(booking.user_id)
        # Staff's own words: machine translated where configured, else announced as German.
        line = await office_note(self.services, t, booking.user_id, note)
        text = views.cancelled_by_staff_text(t, self.services.directory, booking, reason, line)
        await self._send(booking.user_id, text, views.rebook_markup(t, booking.offer_id))
        await self.calendar_cancelled(t, booking)

    async def cancelled_by_closure(self, booking: Booking, closure: StoredClosure) -> None:
        t = await self.t_for(booking.user_id)
        # The reason as this resident reads it; the staff's own words follow as a note.
        as_read = replace(closure, reason=t.closure_reason(closure.reason_key))
        text = views.cancelled_by_closure_text(t, self.services.directory, booking, as_read)
        note = await office_note(self.services, t, booking.user_id, closure.reason)
        if note:
            text += "\n\n📝 " + note
        await self._send(booking.user_id, text, views.rebook_markup(t, booking.offer_id))
        await self.calendar_cancelled(t, booking)

    async def calendar_cancelled(self, t: Translator, booking: Booking) -> None:
        """Only a booking that was confirmed had a calendar file to take back."""
        if booking.previous_status == "confirmed":
            await send_calendar_file(self.application, t, booking, cancelled=True)
