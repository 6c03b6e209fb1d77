"""All SQL lives in this package: the connection owner, migrations and repositories."""

from __future__ import annotations

from pathlib import Path

from storage.answers import Answers
from storage.audit import Audit
from storage.bookings import Bookings, Drafts, Reminders, Waitlist
from storage.broadcasts import BroadcastDrafts, Broadcasts, Subscriptions
from storage.closures import Closures, StoredClosure
from storage.db import Database
from storage.feedback import Feedback
from storage.letters import Letters
from storage.mentions import StaffMentions
from storage.privacy import Privacy
from storage.replies import Replies
from storage.requests import Requests, StaffOutbox
from storage.residents import Resident, Residents
from storage.stats import Stats
from storage.voice import LanguageCounts, VoicePending

__all__ = ["Closures", "Database", "Resident", "Residents", "Storage", "StoredClosure"]


class Storage:
    """The database and its repositories, opened and closed together."""

    def __init__(self, path: Path | str) -> None:
        self.db = Database(path)
        self.residents = Residents(self.db)
        self.closures = Closures(self.db)
        self.requests = Requests(self.db)
        self.outbox = StaffOutbox(self.db)
        self.mentions = StaffMentions(self.db)
        self.bookings = Bookings(self.db)
        self.booking_reminders = Reminders(self.db)
        self.waitlist = Waitlist(self.db)
        self.booking_drafts = Drafts(self.db)
        self.subscriptions = Subscriptions(self.db)
        self.broadcasts = Broadcasts(self.db)
        self.broadcast_drafts = BroadcastDrafts(self.db)
        self.stats = Stats(self.db)
        self.audit = Audit(self.db)
        self.feedback = Feedback(self.db)
        self.privacy = Privacy(self.db, self.residents, self.requests)
        self.voice_pending = VoicePending(self.db)
        self.language_counts = LanguageCounts(self.db)
        self.replies = Replies(self.db)
        self.letters = Letters(self.db)
        self.answers = Answers(self.db)

    async def open(self) -> None:
        # What was remembered from an earlier opening may have been changed meanwhile.
        self.residents.forget_all()
        self.closures.forget()
        self.requests.forget_bans()
        await self.db.open()

    async def close(self) -> None:
        await self.db.close()
        self.residents.forget_all()
        self.closures.forget()
        self.requests.forget_bans()
