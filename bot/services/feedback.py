""" "Did we help you?": one question to the resident when staff close their request, with
👍 / 👎 and nothing else (``QUARTIERBOT_FEEDBACK=no`` turns it off).

The answer must not say who gave it. So it is kept only as a count per month and language
(``storage.feedback``), and the buttons carry a random one-time token that names nobody:
it is stored (with the language) until the first tap, which deletes it in the same
transaction that counts the answer — a second tap finds nothing and counts nothing. Unused
tokens expire after :data:`TOKEN_DAYS`. The question is rendered and sent by the feedback
capability, which sets a :class:`FeedbackAsker` on the service at build time.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Protocol

from bot.clock import Clock
from bot.config import Config
from storage import Storage

TOKEN_DAYS = 30


class FeedbackAsker(Protocol):
    async def ask(self, user_id: int, language: str, token: str) -> None:
        """Send the question with the two buttons carrying ``token``."""
        ...


class FeedbackService:
    def __init__(self, *, storage: Storage, clock: Clock, config: Config) -> None:
        self.storage = storage
        self.clock = clock
        self.config = config
        self.asker: FeedbackAsker | None = None

    async def request_closed(self, user_id: int) -> bool:
        """Staff closed the resident's request: ask once (if they still agree to the
        exchange). False if nothing was asked."""
        if not self.config.feedback or self.asker is None:
            return False
        resident = await self.storage.residents.get(user_id)
        if resident is None or not resident.consented:
            return False
        today = self.clock.now().astimezone(self.config.tz).date()
        await self.storage.feedback.expire((today - timedelta(days=TOKEN_DAYS)).isoformat())
        token = secrets.token_urlsafe(9)
        await self.storage.feedback.issue(token, resident.language, today.isoformat())
        await self.asker.ask(user_id, resident.language, token)
        return True

    async def answer(self, token: str, helped: bool) -> bool:
        """Count one answer; False if the token was used (or expired) already."""
        month = self.clock.now().astimezone(self.config.tz).strftime("%Y-%m")
        return await self.storage.feedback.answer(token, helped, month)
