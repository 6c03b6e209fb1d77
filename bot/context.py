"""The typed context every handler receives: services, and the current resident's language."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from telegram.ext import Application, CallbackContext, ExtBot

from bot.clock import Clock
from bot.config import Config
from bot.delivery.outbox import Outbox
from bot.delivery.staff_lane import StaffLane
from bot.directory import Directory
from bot.engines.voice import Transcriber
from bot.flows import Flows
from bot.health import Probe
from bot.i18n import I18n, Translator
from bot.letters.model import LetterReader
from bot.menu import Command, MenuEntry, Scope
from bot.scheduler import Scheduler
from bot.services.answers import AnswerService
from bot.services.appointments import AppointmentsService
from bot.services.command_menus import CommandMenus
from bot.services.deadlines import Deadlines
from bot.services.feedback import FeedbackService
from bot.services.intake import Intake
from bot.services.interpreting import Interpreter
from bot.services.privacy import PrivacyService
from bot.services.requests import RequestsService
from bot.services.topics import Topics
from bot.services.translation import ConversationTranslator
from storage import Resident, Storage

SERVICES = "services"

Hook = Callable[[Application[Any, Any, Any, Any, Any, Any]], Awaitable[None]]
"""Start-up or shutdown work of a capability (e.g. schedule stored reminders again); runs
after the database is opened, or before it is closed."""


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
    scheduler: Scheduler[BotContext]
    outbox: Outbox
    """The one durable delivery layer: the staff-group lane and the broadcast lane."""
    topics: Topics
    """The residents' forum topics in the staff group, and their names and cards."""
    appointments: AppointmentsService
    """Booking, moving, cancelling, the waiting list, reminders and the cascades."""
    requests: RequestsService
    """Residents' requests as staff handle them: claim, close, reopen, bans, answers."""
    privacy: PrivacyService
    """A resident's export and erasure, and the retention purge."""
    feedback: FeedbackService
    """"Did we help you?" after a request is closed, counted without a link to anyone."""
    flows: Flows
    """Who awaits typed input in which conversation (booking note, broadcast texts)."""
    translator: ConversationTranslator
    """Machine translation between residents and staff (``enabled`` False when off)."""
    transcriber: Transcriber | None
    """Voice transcription; None when off (no model configured or faster-whisper missing)."""
    interpreter: Interpreter
    """Translations and transcripts posted into the topic beside a resident's copy."""
    command_menus: CommandMenus
    """The "/" list of each resident's chat in the language they chose."""
    intake: Intake
    """What happens to a resident's message (``bot.services.intake``)."""
    deadlines: Deadlines
    """Letters' deadlines on requests, their reminders, and staff's follow-ups."""
    answers: AnswerService
    """The office's prepared answers: the library, suggestions to staff, offers to residents."""
    letters: LetterReader | None = None
    """Reads letters (OCR and deadline finding); None when reading is off."""
    health_probes: list[Probe] = field(default_factory=list)
    """Pluggable checks for ``/healthz`` (the configured engines add theirs)."""
    # Collected from the capabilities by the app factory (``bot.app.CAPABILITIES``), in
    # handler order; empty until the factory has wired them.
    commands: tuple[Command, ...] = ()
    menu: tuple[MenuEntry, ...] = ()
    """Main-menu entries, sorted by ``order``."""
    on_start: tuple[Hook, ...] = ()
    on_stop: tuple[Hook, ...] = ()

    @property
    def staffpost(self) -> StaffLane:
        """Everything posted into the staff group goes through this lane."""
        return self.outbox.staff

    def commands_for(self, scope: Scope) -> list[Command]:
        return [c for c in self.commands if c.scope == scope]


def services_of(application: Application[Any, Any, Any, Any, Any, Any]) -> Services:
    """The typed services of an application built by ``bot.app.build_application``."""
    services = application.bot_data[SERVICES]
    assert isinstance(services, Services)
    return services


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
        return services_of(self.application)

    @property
    def storage(self) -> Storage:
        return self.services.storage

    @property
    def clock(self) -> Clock:
        return self.services.clock

    @property
    def scheduler(self) -> Scheduler[BotContext]:
        return self.services.scheduler

    @property
    def config(self) -> Config:
        return self.services.config

    @property
    def t(self) -> Translator:
        return self.services.i18n.get(self.lang)
