"""What a capability offers a person besides its handlers: commands for Telegram's command
menu and /help, and entries of the main menu.

These records sit below :mod:`bot.context` so that ``Services`` can carry the collected,
typed lists; :mod:`bot.capability` re-exports them next to the ``Capability`` record."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Scope = Literal["private", "staff", "admin"]


@dataclass(frozen=True)
class MenuEntry:
    order: int
    icon: str
    label: str
    """msgid of the button label; the icon stays out of the catalogs."""
    callback_data: str
    needs_consent: bool = False


@dataclass(frozen=True)
class Command:
    name: str
    description: str
    """msgid of the description shown in Telegram's command menu and in /help."""
    scope: Scope = "private"
    """``private`` for residents, ``staff`` for the staff group, ``admin`` for coordinators."""
