"""The one typed record through which a handler module joins the bot.

Each handler module exposes ``CAPABILITY: Capability``; ``bot.app.CAPABILITIES`` lists them in
the order their handlers see an update. The factory builds every capability's handlers from
the typed ``Services`` (so filters can use configuration such as the staff chat id), adds
them in that order, and collects commands, menu entries and start/stop hooks into typed
fields of ``Services`` (``services.commands``, ``services.menu``, ``services.on_start``,
``services.on_stop``). Nothing about wiring lives in ``bot_data`` any more.

Converting a module that still has ``register(application)`` (booking, agenda)
---------------------------------------------------------------------------------
Done for onboarding, hours, news, broadcast, privacy, stats, staff, questions, fallback; look
at handlers/staff/__init__.py (staff filter + refusal) and handlers/broadcast.py (filtered buttons +
refusing button) for complete examples.

1. Turn the body of ``register`` into a handler factory that *returns* the handlers instead
   of adding them (same order). E.g. for agenda::

       def handlers(services: Services, application: App) -> list[Handler]:
           in_staff_group = filters.UpdateType.MESSAGES & staff_chat(services.config)
           return [
               CommandHandler("agenda", agenda_command, filters=in_staff_group),
               CommandHandler("cancelbooking", cancel_command, filters=in_staff_group),
               CommandHandler(["agenda", "cancelbooking"], refuse),  # refused case, after
               MessageHandler(
                   filters.ChatType.GROUPS & filters.TEXT & ~filters.COMMAND
                   & staff_chat(services.config) & _CancelPrompt(),
                   on_cancel_reason,
               ),
               on_callback(STAFF_KINDS, on_staff_button, filters=staff_chat(services.config)),
               on_callback(STAFF_KINDS, refuse_staff_button),  # answer_query + refuse
           ]

   ``filters.UpdateType.MESSAGES &`` keeps CommandHandler's default (messages and edits)
   when a filter is given. ``application`` is there only for filters that read state
   mirrored in ``bot_data`` (``booking._AwaitingNote``, ``broadcast.AwaitingInput``); a
   factory never adds handlers itself.
2. Move ``add_commands`` / ``add_menu_entry`` / ``add_startup`` / ``add_shutdown`` into
   the record::

       CAPABILITY = Capability(
           name="agenda",
           handlers=handlers,
           commands=(Command("agenda", N_("Appointments of a day or the week"), scope="staff"),
                     Command("cancelbooking", N_("Cancel an appointment with a reason"),
                             scope="staff")),
       )
       # booking: menu=(MenuEntry(20, ...), MenuEntry(25, ...)), on_start=(on_startup,)
3. Replace inline checks by filters on the handler plus a refusal handler right after the
   allowed one (agenda's ``in_staff_chat`` copy goes: ``handlers.common.in_staff_chat`` is
   the one left, for code that only *branches* on the chat), and every
   ``cb = callbacks.parse(query.data); assert cb is not None`` by ``on_callback(kinds, fn)``
   with ``async def fn(update, context, cb: Callback)``. Callback data stays byte-identical.
4. In ``bot.app.CAPABILITIES`` replace the bare module by ``module.CAPABILITY``. Once no bare
   module is left, delete ``bot.app._transitional``, the ``ModuleType`` in ``CAPABILITIES``,
   the TRANSITIONAL block in ``handlers.common`` (``add_*``, the ``bot_data`` keys, the
   ``Command``/``MenuEntry`` re-exports) and ``callbacks.matches`` if nothing uses it; add
   the modules to the ``capabilities`` contract in pyproject.toml.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from telegram.ext import Application, BaseHandler

from bot.context import BotContext, Hook, Services
from bot.menu import Command, MenuEntry, Scope

App = Application[Any, BotContext, Any, Any, Any, Any]
Handler = BaseHandler[Any, BotContext, Any]
HandlerFactory = Callable[[Services, App], Sequence[Handler]]


def no_handlers(services: Services, application: App) -> Sequence[Handler]:
    """For a capability that only contributes commands, menu entries or hooks."""
    return ()


@dataclass(frozen=True)
class Capability:
    """What one handler module brings: its handlers, the commands and main-menu entries it
    offers, and the work it does at start-up and shutdown."""

    name: str
    """Short module name (``"booking"``); used in logs and tests."""
    handlers: HandlerFactory = no_handlers
    """Builds the PTB handlers, in the order they get to see an update."""
    commands: tuple[Command, ...] = ()
    menu: tuple[MenuEntry, ...] = ()
    on_start: tuple[Hook, ...] = ()
    on_stop: tuple[Hook, ...] = ()
    group: int = 0
    """PTB handler group: lower groups run first, and every group gets its own chance."""


__all__ = [
    "App",
    "Capability",
    "Command",
    "Handler",
    "HandlerFactory",
    "Hook",
    "MenuEntry",
    "Scope",
    "no_handlers",
]
