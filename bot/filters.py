"""Who may use a handler, as PTB filters built from the configuration.

They look at ``update.effective_chat`` / ``update.effective_user`` (not at the message's
sender), so they work for a command as well as for a button tapped under a message: for a
callback query the chat is the one of the message the button belongs to, and the user is the
person who tapped.

A refused command still needs an answer: put the filtered handler first and a handler for
the same command without the filter (``handlers.common.refuse``) right after it.

PTB's own filters only look at updates that carry a message (``BaseFilter.check_update`` is
False for a callback query), so the rules here are :class:`Rule` filters that judge any
update; combined with each other (``&``, ``|``, ``~``) they stay rules, which is what
``handlers.common.on_callback(..., filters=...)`` takes. Combined with PTB's message filters
(``filters.ChatType.GROUPS & staff_chat(config)``) they work on message handlers as usual.

There is no ``Consented`` filter: whether a resident agreed is a database row, read once per
update by ``handlers.common.resolve_resident``; PTB filters are synchronous and run before
that context exists, so consent stays an ``if has_consent(context)`` in the handler.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import overload

from telegram import Update
from telegram.ext import filters

from bot.config import Config


class Rule(filters.UpdateFilter):
    """A filter on the chat or the person of any update, including a tapped button.
    ``&``, ``|`` and ``~`` between rules give rules again (PTB's own combinations would
    reject a callback query before asking their parts)."""

    __slots__ = ()

    def check_update(self, update: Update) -> bool:
        return isinstance(update, Update) and bool(self.filter(update))

    @overload
    def __and__(self, other: Rule) -> Rule: ...
    @overload
    def __and__(self, other: filters.BaseFilter) -> filters.BaseFilter: ...
    def __and__(self, other: filters.BaseFilter) -> filters.BaseFilter:
        return _All(self, other) if isinstance(other, Rule) else super().__and__(other)

    @overload
    def __or__(self, other: Rule) -> Rule: ...
    @overload
    def __or__(self, other: filters.BaseFilter) -> filters.BaseFilter: ...
    def __or__(self, other: filters.BaseFilter) -> filters.BaseFilter:
        return _Any(self, other) if isinstance(other, Rule) else super().__or__(other)

    def __invert__(self) -> Rule:
        return _Not(self)


class _All(Rule):
    __slots__ = ("rules",)

    def __init__(self, *rules: Rule) -> None:
        super().__init__(name="<" + " and ".join(r.name for r in rules) + ">")
        self.rules = rules

    def filter(self, update: Update) -> bool:
        return all(rule.filter(update) for rule in self.rules)


class _Any(Rule):
    __slots__ = ("rules",)

    def __init__(self, *rules: Rule) -> None:
        super().__init__(name="<" + " or ".join(r.name for r in rules) + ">")
        self.rules = rules

    def filter(self, update: Update) -> bool:
        return any(rule.filter(update) for rule in self.rules)


class _Not(Rule):
    __slots__ = ("rule",)

    def __init__(self, rule: Rule) -> None:
        super().__init__(name=f"<not {rule.name}>")
        self.rule = rule

    def filter(self, update: Update) -> bool:
        return not self.rule.filter(update)


class PrivateChat(Rule):
    """The private chat of the person with the bot."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(name="PrivateChat")

    def filter(self, update: Update) -> bool:
        chat = update.effective_chat
        return chat is not None and chat.type == chat.PRIVATE


class StaffChat(Rule):
    """The update comes from the staff group of the configuration (never, if none is set)."""

    __slots__ = ("chat_id",)

    def __init__(self, chat_id: int | None) -> None:
        super().__init__(name=f"StaffChat({chat_id})")
        self.chat_id = chat_id

    def filter(self, update: Update) -> bool:
        chat = update.effective_chat
        return self.chat_id is not None and chat is not None and chat.id == self.chat_id


class Coordinator(Rule):
    """Coordinators are named by user id in the configuration; nothing else counts."""

    __slots__ = ("user_ids",)

    def __init__(self, user_ids: Iterable[int]) -> None:
        super().__init__(name="Coordinator")
        self.user_ids = frozenset(user_ids)

    def filter(self, update: Update) -> bool:
        user = update.effective_user
        return user is not None and user.id in self.user_ids


class Human(Rule):
    """A person, not a bot (nor an anonymous group admin, whom Telegram shows as a bot)."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(name="Human")

    def filter(self, update: Update) -> bool:
        user = update.effective_user
        return user is not None and not user.is_bot


HUMAN = Human()
PRIVATE = PrivateChat()


def staff_chat(config: Config) -> Rule:
    """Written in the staff group (being a member is the permission)."""
    return StaffChat(config.staff_chat)


def staff(config: Config) -> Rule:
    """Staff: people writing in the staff group, and coordinators in their private chat with
    the bot. Other bots never count."""
    return HUMAN & (StaffChat(config.staff_chat) | (PRIVATE & Coordinator(config.admins)))


def coordinator_here(config: Config) -> Rule:
    """A coordinator, in a private chat or in the staff group — never in some other group,
    where residents' data would be exposed."""
    return Coordinator(config.admins) & (PRIVATE | StaffChat(config.staff_chat))
