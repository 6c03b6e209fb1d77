"""News for residents: they choose the topics they want to hear about, and get the
coordinators' announcements on those topics in their language.

Topics are the directory's offers plus "general news". Nobody gets a broadcast without
having subscribed (and consented); every broadcast carries a "stop these messages" button.
A resident who blocks the bot is unreachable until they write again.
"""

from __future__ import annotations

from telegram import ChatMember, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatType
from telegram.ext import ChatMemberHandler, CommandHandler, filters

from bot import callbacks
from bot.callbacks import Callback
from bot.capability import App, Capability, Command, Handler, MenuEntry
from bot.context import BotContext, Services
from bot.i18n import N_, Translator
from handlers.common import (
    CB_STOP,
    answer_query,
    back_to_menu_button,
    consent_markup,
    has_consent,
    news_topics,
    on_callback,
    reply,
    topic_title,
)

CB_NEWS = callbacks.kind("nws")
CB_TOGGLE = callbacks.kind("nwt", 1)
CB_ALL_OFF = callbacks.kind("nwoff")


# -- views ----------------------------------------------------------------------------------
async def news_view(update: Update, context: BotContext, notice: str | None = None) -> None:
    t = context.t
    assert context.resident is not None
    directory = context.services.directory
    chosen = await context.storage.subscriptions.topics(context.resident.user_id)
    german_only = False
    rows = []
    for topic in news_topics(directory):
        title, fell_back = topic_title(t, directory, topic)
        german_only |= fell_back
        mark = "✅" if topic in chosen else "▫️"
        rows.append(
            [
                InlineKeyboardButton(
                    f"{mark} {title}", callback_data=callbacks.make(CB_TOGGLE, topic)
                )
            ]
        )
    if chosen:
        rows.append(
            [
                InlineKeyboardButton(
                    "🔕 " + t._(N_("Unsubscribe from everything")),
                    callback_data=callbacks.make(CB_ALL_OFF),
                )
            ]
        )
    rows.append([back_to_menu_button(t)])
    lines = [notice] if notice else []
    lines.append(
        t._(
            N_(
                "News from the neighbourhood project: choose what you would like to hear about. "
                "Tap a topic to switch it on or off. I only send you news on the topics you "
                "switched on, and you can stop them at any time."
            )
        )
    )
    if german_only:
        lines.append(t._(N_("Some of these texts are only available in German.")))
    await reply(update, context, "\n\n".join(lines), InlineKeyboardMarkup(rows))


async def ask_consent_first(update: Update, context: BotContext) -> None:
    text = context.t._(N_("To receive news, please agree to the privacy notice first (/privacy)."))
    await reply(update, context, text, consent_markup(context))


# -- commands -------------------------------------------------------------------------------
async def subscribe_command(update: Update, context: BotContext) -> None:
    if not has_consent(context):
        await ask_consent_first(update, context)
        return
    await news_view(update, context)


async def unsubscribe_command(update: Update, context: BotContext) -> None:
    if context.resident is not None:
        await context.storage.subscriptions.unsubscribe_all(context.resident.user_id)
    if not has_consent(context):
        await reply(update, context, context.t._(N_("You will receive no more news.")))
        return
    await news_view(update, context, notice=all_off_notice(context.t))


def all_off_notice(t: Translator) -> str:
    return "🔕 " + t._(
        N_("You will receive no more news. You can choose topics again at any time.")
    )


# -- callbacks ------------------------------------------------------------------------------
async def on_news(update: Update, context: BotContext, cb: Callback) -> None:
    await answer_query(update)
    await subscribe_command(update, context)


async def on_toggle(update: Update, context: BotContext, cb: Callback) -> None:
    topic = cb.arg(0)
    t = context.t
    if not has_consent(context):
        await answer_query(update)
        await ask_consent_first(update, context)
        return
    assert context.resident is not None
    if topic not in news_topics(context.services.directory):
        await answer_query(update, t._(N_("This button is no longer valid.")), alert=True)
        await news_view(update, context)
        return
    subscriptions = context.storage.subscriptions
    title, _ = topic_title(t, context.services.directory, topic)
    if await subscriptions.unsubscribe(context.resident.user_id, topic):
        await answer_query(update, t._(N_("Off: {topic}"), topic=title))
    else:
        await subscriptions.subscribe(context.resident.user_id, topic, context.clock.now())
        await answer_query(update, t._(N_("On: {topic}"), topic=title))
    await news_view(update, context)


async def on_all_off(update: Update, context: BotContext, cb: Callback) -> None:
    await answer_query(update)
    await unsubscribe_command(update, context)


async def on_stop(update: Update, context: BotContext, cb: Callback) -> None:
    """The button under every broadcast: works without consent too (stopping is always
    allowed); the broadcast itself stays readable."""
    query = update.callback_query
    assert query is not None
    topic = cb.arg(0)
    t = context.t
    if context.resident is not None:
        await context.storage.subscriptions.unsubscribe(context.resident.user_id, topic)
    title, _ = topic_title(t, context.services.directory, topic)
    await answer_query(
        update,
        t._(N_("You will no longer receive news about {topic}."), topic=title),
        alert=True,
    )
    if query.message is not None and query.message.is_accessible:
        settings = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        "📰 " + t._(N_("News settings")), callback_data=callbacks.make(CB_NEWS)
                    )
                ]
            ]
        )
        await query.edit_message_reply_markup(settings)


async def on_membership(update: Update, context: BotContext) -> None:
    """A resident who blocks the bot gets no broadcasts; unblocking (or writing) ends that."""
    change = update.my_chat_member
    if change is None or change.chat.type != ChatType.PRIVATE or context.resident is None:
        return
    residents = context.storage.residents
    status = change.new_chat_member.status
    if status == ChatMember.BANNED:
        await residents.mark_unreachable(context.resident.user_id, context.clock.now())
    elif status == ChatMember.MEMBER:
        await residents.mark_reachable(context.resident.user_id)


def handlers(services: Services, application: App) -> list[Handler]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("subscribe", subscribe_command, filters=private),
        CommandHandler("unsubscribe", unsubscribe_command, filters=private),
        on_callback(CB_NEWS, on_news),
        on_callback(CB_TOGGLE, on_toggle),
        on_callback(CB_ALL_OFF, on_all_off),
        on_callback(CB_STOP, on_stop),
        ChatMemberHandler(on_membership, ChatMemberHandler.MY_CHAT_MEMBER),
    ]


CAPABILITY = Capability(
    name="news",
    handlers=handlers,
    commands=(
        Command("subscribe", N_("Choose the news you want to receive")),
        Command("unsubscribe", N_("Stop all news")),
    ),
    menu=(MenuEntry(60, "📰", N_("News"), callbacks.make(CB_NEWS), needs_consent=True),),
)
