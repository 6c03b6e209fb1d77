"""What Telegram may throw at the bot: updates its library cannot read, errors in a loop."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from telegram.error import BadRequest, Forbidden

from bot.updates import Throttled
from tests.conftest import ADMIN_ID, STAFF_CHAT, Harness

# A poll that lacks what python-telegram-bot requires (as when a new Bot API version changes
# a type), and a member update whose "kicked" status lacks until_date.
BAD_POLL = {"poll": {"id": "5000000001", "question": "Secret question text"}}
BAD_MEMBER = {
    "my_chat_member": {
        "chat": {"id": 100000001, "type": "private", "first_name": "X"},
        "from": {"id": 100000001, "is_bot": False, "first_name": "X"},
        "date": 1764000000,
        "old_chat_member": {
            "status": "member",
            "user": {"id": 1, "is_bot": True, "first_name": "Q"},
        },
        "new_chat_member": {
            "status": "kicked",
            "user": {"id": 1, "is_bot": True, "first_name": "Q"},
        },
    }
}


@pytest.mark.parametrize("bad", [BAD_POLL, BAD_MEMBER], ids=["poll", "my_chat_member"])
async def test_an_unreadable_update_is_skipped_and_the_others_are_answered(
    bot: Harness, caplog: pytest.LogCaptureFixture, bad: dict[str, Any]
) -> None:
    user = await bot.onboard("Aylin", "en")
    before = len(bot.sandbox.bot_messages(user["id"]))
    caplog.set_level(logging.INFO)
    bot.sandbox.send_text(user, "/help")
    skipped = bot.sandbox.send_raw_update(bad)
    bot.sandbox.send_text(user, "/today")
    await bot.idle()
    answers = bot.sandbox.bot_messages(user["id"])[before:]
    assert len(answers) == 2, answers
    assert "/hours" in answers[0]["text"]  # the help text names the commands
    # Nothing waits any more: the offset moved past the bad update.
    assert bot.sandbox.world.updates == []
    lines = [r for r in caplog.records if "skipped update" in r.getMessage()]
    assert len(lines) == 1
    line = lines[0].getMessage()
    kind = next(k for k in bad)
    assert str(skipped["update_id"]) in line and kind in line
    assert "Secret question" not in caplog.text  # ids and types only, never content
    assert bot.app is not None
    assert bot.app.bot.update_stats.unreadable == 1


def test_a_repeating_error_is_logged_once_per_interval_with_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("test.throttled")
    throttled = Throttled(logger, interval=3600)
    with caplog.at_level(logging.WARNING, logger="test.throttled"):
        for _ in range(1000):
            throttled.warning("poll", "polling failed: %s", "TimedOut")
    assert [r.getMessage() for r in caplog.records] == ["polling failed: TimedOut"]
    throttled.interval = 0
    with caplog.at_level(logging.WARNING, logger="test.throttled"):
        throttled.warning("poll", "polling failed: %s", "TimedOut")
    assert caplog.records[-1].getMessage() == (
        "polling failed: TimedOut (1000 times in the last 0 s)"
    )


async def test_the_bot_leaves_groups_that_are_not_the_staff_group_and_says_nothing(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="handlers.groups")
    admin = bot.sandbox.add_user("Koordination", language_code="de", user_id=ADMIN_ID)
    # Someone adds the bot to the neighbourhood group.
    neighbours = bot.sandbox.add_group("Nachbarschaft Dießem", is_forum=False)
    bot.sandbox.world.group(neighbours["id"]).bot_member = False
    bot.sandbox.add_bot_to_group(neighbours["id"], by=admin)
    await bot.idle()
    assert not bot.sandbox.in_group(neighbours["id"])
    # A group it was in before: staff and coordinator commands, a question, a button.
    old = bot.sandbox.add_group("Altes Team", is_forum=True)
    for text in ("/stats", "/queue", "/help", "Hallo Bot"):
        bot.sandbox.send_text(admin, text, chat_id=old["id"])
    await bot.idle()
    assert not bot.sandbox.in_group(old["id"])
    for chat_id in (neighbours["id"], old["id"]):
        assert bot.sandbox.bot_messages(chat_id) == []
    assert len(bot.sandbox.calls("leaveChat")) == 2
    left = [r.getMessage() for r in caplog.records if r.name == "handlers.groups"]
    assert left == [
        f"left supergroup {neighbours['id']}: it is not the staff group",
        f"left supergroup {old['id']}: it is not the staff group",
    ]
    # The staff group itself is where the bot stays and answers.
    bot.sandbox.send_text(admin, "/queue", chat_id=STAFF_CHAT)
    await bot.idle()
    await bot.sandbox.wait_bot_messages(STAFF_CHAT)
    assert bot.sandbox.in_group(STAFF_CHAT)


async def test_a_refused_request_is_logged_as_one_line_without_content(
    bot: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    user = await bot.onboard("Aylin", "en")
    caplog.set_level(logging.INFO)
    bot.expect(BadRequest)
    bot.sandbox.fail_next("sendMessage", 400, "Bad Request: message is too long")
    bot.sandbox.send_text(user, "/help")
    update_id = bot.sandbox.world.next_update_id - 1
    await bot.idle()
    lines = [r for r in caplog.records if r.name == "bot.app"]
    assert len(lines) == 1, [r.getMessage() for r in lines]
    [line] = lines
    assert line.levelno == logging.WARNING
    assert line.exc_info is None  # no traceback
    assert line.getMessage() == (
        f"Telegram did not accept sendMessage in chat {user['id']} for update "
        f"{update_id}: bad_request: Message is too long"
    )
    assert "Aylin" not in caplog.text and "/help" not in caplog.text
    # Blocked residents: one line at INFO, the same reference.
    bot.expect(Forbidden)
    bot.sandbox.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    bot.sandbox.send_text(user, "/help")
    update_id = bot.sandbox.world.next_update_id - 1
    await bot.idle()
    [blocked] = [r for r in caplog.records if r.name == "bot.app"][1:]
    assert blocked.levelno == logging.INFO and blocked.exc_info is None
    assert blocked.getMessage() == (
        f"resident unreachable: sendMessage in chat {user['id']} for update "
        f"{update_id}: Forbidden: bot was blocked by the user"
    )
