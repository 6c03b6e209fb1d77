"""The typed wiring: capabilities collected into Services, filters that work for buttons as
well as messages, and buttons parsed once."""

from __future__ import annotations

from typing import Any, cast

from telegram import Update

from bot import callbacks
from bot.app import CAPABILITIES, capability_names
from bot.callbacks import Callback
from bot.capability import Capability
from bot.config import Config
from bot.context import BotContext, services_of
from bot.filters import HUMAN, PRIVATE, Coordinator, Rule, StaffChat, coordinator_here, staff
from handlers.common import ButtonHandler, on_callback
from tests.conftest import ADMIN_ID, STAFF_CHAT, Harness

CB_TEST = callbacks.kind("wiretest", 1)


def message_update(user_id: int, chat_id: int, chat_type: str, *, is_bot: bool = False) -> Update:
    return Update.de_json(
        {
            "update_id": 1,
            "message": {
                "message_id": 5,
                "date": 0,
                "chat": {"id": chat_id, "type": chat_type},
                "from": {"id": user_id, "is_bot": is_bot, "first_name": "X"},
                "text": "/queue",
                "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
            },
        },
        None,
    )


def button_update(user_id: int, chat_id: int, chat_type: str, data: str) -> Update:
    return Update.de_json(
        {
            "update_id": 2,
            "callback_query": {
                "id": "9",
                "chat_instance": "c",
                "data": data,
                "from": {"id": user_id, "is_bot": False, "first_name": "X"},
                "message": {
                    "message_id": 6,
                    "date": 0,
                    "chat": {"id": chat_id, "type": chat_type},
                    "from": {"id": 4242, "is_bot": True, "first_name": "Bot"},
                    "text": "buttons",
                },
            },
        },
        None,
    )


CONFIG = Config(token="1:x", staff_chat=STAFF_CHAT, admins=frozenset({ADMIN_ID}))


def test_rules_judge_messages_and_buttons_alike() -> None:
    coordinator = coordinator_here(CONFIG)
    staff_rule = staff(CONFIG)
    assert isinstance(coordinator, Rule) and isinstance(staff_rule, Rule)
    # The person who tapped counts, not the bot that sent the message with the button.
    assert coordinator.check_update(button_update(ADMIN_ID, ADMIN_ID, "private", "1:x"))
    assert not coordinator.check_update(button_update(8, 8, "private", "1:x"))
    assert coordinator.check_update(button_update(ADMIN_ID, STAFF_CHAT, "supergroup", "1:x"))
    assert not coordinator.check_update(button_update(ADMIN_ID, -5, "supergroup", "1:x"))
    assert not (~coordinator).check_update(button_update(ADMIN_ID, ADMIN_ID, "private", "1:x"))
    # Staff: anybody in the staff group, coordinators in private, never a bot.
    assert staff_rule.check_update(message_update(8, STAFF_CHAT, "supergroup"))
    assert not staff_rule.check_update(message_update(8, STAFF_CHAT, "supergroup", is_bot=True))
    assert staff_rule.check_update(message_update(ADMIN_ID, ADMIN_ID, "private"))
    assert not staff_rule.check_update(message_update(8, 8, "private"))
    assert not staff_rule.check_update(message_update(ADMIN_ID, -5, "group"))
    # No staff group configured: nobody is in it.
    assert not StaffChat(None).check_update(message_update(8, STAFF_CHAT, "supergroup"))
    assert (HUMAN & PRIVATE & Coordinator({ADMIN_ID})).check_update(
        message_update(ADMIN_ID, ADMIN_ID, "private")
    )


async def test_a_button_is_parsed_once_and_handed_over() -> None:
    seen: list[tuple[Update, Any, Callback]] = []

    async def on_test(update: Update, context: BotContext, cb: Callback) -> None:
        seen.append((update, context, cb))

    handler = on_callback(CB_TEST, on_test, filters=coordinator_here(CONFIG))
    assert isinstance(handler, ButtonHandler)
    data = callbacks.make(CB_TEST, "abc")
    assert data == "1:wiretest:abc"  # the wire format is unchanged
    tapped = button_update(ADMIN_ID, ADMIN_ID, "private", data)
    parsed = handler.check_update(tapped)
    assert parsed == Callback(CB_TEST, ("abc",))
    context = cast(BotContext, object())
    await handler.handle_update(tapped, cast(Any, None), parsed, context)
    assert seen == [(tapped, context, parsed)]
    # Forged, stale, other kinds, or somebody else: not this handler's.
    for update in (
        button_update(ADMIN_ID, ADMIN_ID, "private", "1:wiretest"),
        button_update(ADMIN_ID, ADMIN_ID, "private", "0:wiretest:abc"),
        button_update(ADMIN_ID, ADMIN_ID, "private", "1:menu"),
        button_update(8, 8, "private", data),
        message_update(ADMIN_ID, ADMIN_ID, "private"),
    ):
        assert handler.check_update(update) is None


async def test_capabilities_are_collected_into_services(bot: Harness) -> None:
    assert bot.app is not None
    services = services_of(bot.app)
    assert capability_names()[:2] == ("groups", "common") and capability_names()[-1] == "fallback"
    records = [c for c in CAPABILITIES if isinstance(c, Capability)]
    # Commands in handler order.
    names = [c.name for c in services.commands]
    assert names[:4] == ["start", "language", "help", "privacy"]
    assert {"book", "appointments", "agenda", "queue", "stats"} <= set(names)
    assert len(names) == len(set(names))
    # The main menu is sorted by order (booking's entries are 20 and 25).
    orders = [e.order for e in services.menu]
    assert orders == sorted(orders) and 20 in orders and 80 in orders
    assert len(services.on_start) >= 4
    assert all(h in services.on_start for c in records for h in c.on_start)
    # Stop hooks are collected the same way (the outboxes stop with the delivery layer,
    # so no capability needs one today).
    assert services.on_stop == tuple(h for c in records for h in c.on_stop)
    # Nothing about wiring is left in bot_data.
    for key in ("menu", "commands", "startup_hooks", "shutdown_hooks"):
        assert key not in bot.app.bot_data
