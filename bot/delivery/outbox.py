"""The one durable outbox: every lane of traffic that must reach Telegram, started and
stopped together. :mod:`bot.delivery.lane` says what a lane is and how to add one."""

from __future__ import annotations

from telegram import Bot

from bot.clock import Clock
from bot.config import Config
from bot.delivery.broadcast_lane import BroadcastLane
from bot.delivery.lane import Lane
from bot.delivery.pacing import RequestLog
from bot.delivery.replies_lane import RepliesLane
from bot.delivery.staff_lane import StaffLane, TopicBook
from storage import Storage


class Outbox:
    def __init__(
        self,
        bot: Bot,
        storage: Storage,
        clock: Clock,
        config: Config,
        topics: TopicBook,
        request_log: RequestLog | None = None,
    ) -> None:
        self.staff = StaffLane(bot, storage, clock, config, topics)
        """Everything posted into the staff group (20 a minute of clock time)."""
        self.replies = RepliesLane(bot, storage, clock, request_log)
        """Replies that matter (receipts, confirmations, staff answers): they wait out any
        429 storm, go out in order per chat, and what they record is written on success."""
        self.broadcasts = BroadcastLane(bot, storage, clock, request_log)
        """Announcements to subscribed residents (29 a second, yielding to replies)."""

    @property
    def lanes(self) -> tuple[Lane, ...]:
        return (self.staff, self.replies, self.broadcasts)

    async def start(self) -> None:
        """After the database is open and the capabilities have set their renderers."""
        for lane in self.lanes:
            await lane.start()

    async def stop(self) -> None:
        """Let sends in flight finish (so they are marked), then stop every lane."""
        for lane in reversed(self.lanes):
            await lane.stop()
