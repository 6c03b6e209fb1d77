"""The typed context every handler receives: services, and the current resident's language."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.clock import Clock
from bot.config import Config
from bot.directory import Directory
from bot.i18n import I18n, Translator
from bot.scheduler import Scheduler
from bot.services.appointments import AppointmentsService
from bot.staffpost import StaffPost
from storage import Resident, Storage

SERVICES = "services"


@dataclass
class Services:
    """What handlers need, built once by the app factory and kept in ``bot_data``."""

    config: Config
    storage: Storage
    clock: Clock
    i18n: I18n
    directory: Directory
    """Replaced as a whole by /reload; handlers read it once per update."""
    directory_path: Path
    scheduler: Scheduler
    staffpost: StaffPost
    """The one paced outbox for everything posted into the staff group."""
    # -- domain services (bot/services) --
    appointments: AppointmentsService


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], dict[Any, Any]]):
    """Adds typed access to services; ``resident`` and ``lang`` are set per update by the
    resolver in ``handlers.common`` before any other handler runs."""

    def __init__(
        self,
        application: Application[Any, Any, Any, Any, Any, Any],
        chat_id: int | None = None,
        user_id: int | None = None,
    ) -> None:
        super().__init__(application=application, chat_id=chat_id, user_id=user_id)
        self.resident: Resident | None = None
        self.lang: str | None = None

    @property
    def services(self) -> Services:
        services = self.application.bot_data[SERVICES]
        assert isinstance(services, Services)
        return services

    @property
    def storage(self) -> Storage:
        return self.services.storage

    @property
    def clock(self) -> Clock:
        return self.services.clock

    @property
    def scheduler(self) -> Scheduler:
        return self.services.scheduler

    @property
    def config(self) -> Config:
        return self.services.config

    @property
    def t(self) -> Translator:
        return self.services.i18n.get(self.lang)
