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
from bot.delivery.errors import Failure, classify
from bot.delivery.replies_lane import After
from bot.i18n import N_, Translator
from bot.services.calendar import ics
from bot.services.translation import ConversationTranslator
from handlers.booking import views
from handlers.common import office_note
from storage import StoredClosure
from storage.bookings import Booking

log = logging.getLogger(__name__)

CALENDAR = "booking-calendar"
"""The replies lane's record kind: a message about a booking was accepted; its calendar file
(the event, or its cancellation) follows, so it never overtakes the message."""
HOLD = "booking-hold-offer"
"""The replies lane's record kind for a held seat's offer: if it never arrives, the seat goes
to the next in line."""
NOTICE = "booking-notice"
"""The replies lane's record kind for a notice that only needs logging when it fails."""


def not_delivered(exc: TelegramError, what: str, user_id: int) -> None:
    """A resident who blocked the bot, left Telegram, or whose message Telegram refuses is
    skipped and logged, not an error; anything else (a network failure) is raised."""
    failure = classify(exc)
    if not (failure.unreachable or failure.refused):
        raise exc
    log.info("%s not delivered to %s (%s): %s", what, user_id, failure.kind.value, failure.message)


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
        replies = services_of(application).outbox.replies
        replies.on_sent(CALENDAR, self._calendar_file, failed=self._not_delivered)
        replies.on_sent(NOTICE, self._accepted, failed=self._not_delivered)
        replies.on_sent(HOLD, self._accepted, failed=self._hold_not_delivered)

    @property
    def services(self) -> Services:
        return services_of(self.application)

    async def t_for(self, user_id: int) -> Translator:
        resident = await self.services.storage.residents.get(user_id)
        return self.services.i18n.get(resident.language if resident else None)

    async def _queue(
        self,
        booking: Booking,
        what: str,
        text: str,
        markup: InlineKeyboardMarkup,
        *,
        calendar: bool | None = None,
        in_memory: bool = False,
    ) -> None:
        """Through the replies lane: the notice waits out any 429 storm and goes out in
        order with the resident's other replies. ``calendar``: then the calendar file
        (True: the event; False: its cancellation), once the notice was accepted."""
        arg: dict[str, Any] = {"what": what, "user": booking.user_id, "booking": booking.id}
        kind = NOTICE
        if calendar is not None:
            kind, arg["cancelled"] = CALENDAR, not calendar
        await self.services.outbox.replies.send(
            booking.user_id, text, markup, after=After(kind, arg), in_memory=in_memory
        )

    async def _accepted(self, arg: Any, at: datetime) -> None:
        pass

    async def _calendar_file(self, arg: Any, at: datetime) -> None:
        booking = await self.services.storage.bookings.get(int(arg["booking"]))
        if booking is None:  # erased meanwhile
            return
        t = await self.t_for(booking.user_id)
        await send_calendar_file(self.application, t, booking, cancelled=bool(arg["cancelled"]))

    async def _not_delivered(self, arg: Any, failure: Failure) -> None:
        log.info(
            "%s not delivered to %s (%s): %s",
            arg.get("what"),
            arg.get("user"),
            failure.kind.value,
            failure.message,
        )

    async def _hold_not_delivered(self, arg: Any, failure: Failure) -> None:
        await self._not_delivered(arg, failure)
        await self.services.appointments.hold_not_delivered(int(arg["booking"]))

    def _translated(self, t: Translator, note: str) -> bool:
        """Whether ``office_note`` may have machine-translated staff's note: such a text is
        never stored (issue 16), so it goes out from memory only."""
        translator = getattr(self.services, "translator", None)
        return (
            bool(note.strip())
            and t.code not in ("de", "de_easy")
            and isinstance(translator, ConversationTranslator)
        )

    async def reminder_due(self, booking: Booking) -> None:
        t = await self.t_for(booking.user_id)
        rules = self.services.appointments.rules_of(booking.offer_id)
        today = self.services.clock.now().astimezone(t.tz).date()
        text = views.reminder_text(t, self.services.directory, booking, rules, today)
        await self._queue(booking, "reminder", text, views.reminder_markup(t, booking))

    async def hold_offered(self, hold: Booking, until: datetime) -> bool:
        """Through the replies lane: always True here; an offer Telegram will never
        deliver passes the seat on from the lane's failure callback (``HOLD``)."""
        t = await self.t_for(hold.user_id)
        text = views.hold_offer_text(t, self.services.directory, hold, until)
        arg = {"what": "hold offer", "user": hold.user_id, "booking": hold.id}
        await self.services.outbox.replies.send(
            hold.user_id, text, views.hold_markup(t, hold), after=After(HOLD, arg)
        )
        return True

    async def hold_expired(self, released: Booking) -> None:
        t = await self.t_for(released.user_id)
        markup = views.rebook_markup(t, released.offer_id)
        await self._queue(released, "hold expired", views.hold_expired_text(t), markup)

    async def confirmed_by_staff(self, booking: Booking) -> None:
        t = await self.t_for(booking.user_id)
        rules = self.services.appointments.rules_of(booking.offer_id)
        text = views.confirmed_by_staff_text(t, self.services.directory, booking, rules)
        markup = InlineKeyboardMarkup([[views.mine_button(t)]])
        await self._queue(booking, "confirmation", text, markup, calendar=True)

    async def declined_by_staff(self, booking: Booking) -> None:
        t = await self.t_for(booking.user_id)
        text = views.declined_by_staff_text(t, self.services.directory, booking)
        await self._queue(booking, "decline", text, views.rebook_markup(t, booking.offer_id))

    async def cancelled_by_staff(self, booking: Booking, reason: str, note: str = "") -> None:
        t = await self.t_for(booking.user_id)
        # Staff's own words: machine translated where configured, else announced as German.
        line = await office_note(self.services, t, booking.user_id, note)
        text = views.cancelled_by_staff_text(t, self.services.directory, booking, reason, line)
        await self._cancelled(booking, text, in_memory=self._translated(t, note))

    async def cancelled_by_closure(self, booking: Booking, closure: StoredClosure) -> None:
        t = await self.t_for(booking.user_id)
        # The reason as this resident reads it; the staff's own words follow as a note.
        as_read = replace(closure, reason=t.closure_reason(closure.reason_key))
        text = views.cancelled_by_closure_text(t, self.services.directory, booking, as_read)
        note = await office_note(self.services, t, booking.user_id, closure.reason)
        if note:
            text += "\n\n📝 " + note
        await self._cancelled(booking, text, in_memory=self._translated(t, closure.reason))

    async def _cancelled(self, booking: Booking, text: str, *, in_memory: bool) -> None:
        """Only a booking that was confirmed had a calendar file to take back."""
        t = await self.t_for(booking.user_id)
        markup = views.rebook_markup(t, booking.offer_id)
        calendar = False if booking.previous_status == "confirmed" else None
        await self._queue(
            booking, "cancellation", text, markup, calendar=calendar, in_memory=in_memory
        )
