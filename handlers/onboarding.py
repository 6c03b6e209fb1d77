"""First contact: greeting, privacy notice and consent, language choice, help, main menu.

Nothing a person writes is stored or forwarded before they agree. A language chosen before
consent lives only in memory (``user_data``) and is saved together with the consent.
"""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import CommandHandler, filters

from bot import callbacks
from bot.callbacks import Callback
from bot.capability import App, Capability, Command, Handler, MenuEntry
from bot.context import BotContext, Services
from bot.i18n import LANGUAGES, N_, Translator
from handlers.common import (
    CB_CONSENT,
    CB_DELETE,
    CB_LANG,
    CB_LANG_MENU,
    CB_MENU,
    PENDING_LANGUAGE,
    answer_query,
    back_to_menu_button,
    bilingual,
    consent_markup,
    consent_question,
    emergency_note,
    has_consent,
    language_rows,
    main_menu,
    menu_text,
    on_callback,
    reply,
    show_menu,
    write_here,
)

OFFICE = "Kom.ZFB, Fabrik Heeder"
OFFICE_ADDRESS = "Virchowstraße 128C, 47805 Krefeld"
OFFICE_PHONE = "02151 86 34 63"

CB_HELP = callbacks.kind("help")
CB_PRIVACY = callbacks.kind("privacy")


# -- texts ----------------------------------------------------------------------------------
def retention_text(t: Translator, days: int) -> str:
    return t._(
        N_(
            "• Also stored: your first name, your appointments, your questions to the "
            "counsellors (the messages themselves are kept in the counsellors' Telegram group) "
            "and the news you subscribed to.\n"
            "• Closed questions and past appointments are deleted {after}.\n"
            "• /mydata shows everything we store about you, /delete erases it."
        ),
        after=t.n_("after {n} day", "after {n} days", days),
    )


def greeting(t: Translator, name: str) -> str:
    hello = t._(
        N_(
            "Hello {name}! I am Quartierbot, the digital front door of the BIWAQ neighbourhood "
            "project in Krefeld-Süd (Dießem and Lehmheide). The counselling office Kom.ZFB helps "
            "you on your way into work and supports small local businesses."
        ),
        name=name,
    )
    return f"{hello}\n{write_here(t)}"


def privacy_notice(t: Translator, retention_days: int) -> str:
    main = t._(
        N_(
            "Privacy notice\n"
            "• What we store: your Telegram user number, your language and when you agreed.\n"
            "• Why: so that the bot can answer you in your language and pass your messages "
            "on to the counsellors.\n"
            "• Who sees it: only the counsellors of Kom.ZFB.\n"
            "• How long: until you withdraw your consent or ask us to delete it.\n"
            "• Contact: {office}, {address}, phone {phone}."
        ),
        office=OFFICE,
        address=OFFICE_ADDRESS,
        phone=t.ltr(OFFICE_PHONE),
    )
    staff_group = t._(
        N_(
            "• /delete also removes your messages from the counsellors' Telegram group. "
            "If the bot cannot delete some older messages there itself, the counsellors "
            "delete them by hand."
        )
    )
    engines = t._(
        N_(
            "• Translation: a machine on our own server may translate your messages and "
            "write down your voice messages. Nothing is sent elsewhere."
        )
    )
    letters = t._(
        N_(
            "• Letters: photos and PDFs of letters you send are read automatically on our own "
            "server, so that the counsellors see the text and any deadline at once. We store "
            "only the deadline and who sent the letter, never its text."
        )
    )
    return f"{main}\n{engines}\n{letters}\n{retention_text(t, retention_days)}\n{staff_group}"


def language_markup(current: str | None) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(language_rows(current))


async def send_consent_request(update: Update, context: BotContext, *, name: str) -> None:
    days = context.config.retention_days
    text = bilingual(
        context,
        lambda t: (
            f"{greeting(t, name)}\n\n{privacy_notice(t, days)}\n\n{consent_question(t)}"
            f"\n\n{emergency_note(t)}"
        ),
    )
    await reply(update, context, text, consent_markup(context))


# -- commands -------------------------------------------------------------------------------
async def start(update: Update, context: BotContext) -> None:
    user = update.effective_user
    assert user is not None
    if has_consent(context):
        t = context.t
        welcome = t._(N_("Welcome back, {name}!"), name=user.first_name)
        await reply(update, context, f"{welcome}\n\n{menu_text(t)}", main_menu(context))
        return
    await send_consent_request(update, context, name=user.first_name)


async def language_command(update: Update, context: BotContext) -> None:
    await reply(update, context, choose_language_text(context), language_markup(context.lang))


def choose_language_text(context: BotContext) -> str:
    return bilingual(context, lambda t: t._(N_("Please choose your language:")))


async def privacy_command(update: Update, context: BotContext) -> None:
    t = context.t
    if has_consent(context):
        assert context.resident is not None and context.resident.consent_at is not None
        text = f"{privacy_notice(t, context.config.retention_days)}\n\n" + t._(
            N_("You agreed on {date}."), date=t.date(context.resident.consent_at, "yMMMd")
        )
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        t._(N_("Withdraw consent")),
                        callback_data=callbacks.make(CB_CONSENT, "withdraw"),
                    )
                ],
                [back_to_menu_button(t)],
            ]
        )
        await reply(update, context, text, markup)
    else:
        days = context.config.retention_days
        text = bilingual(context, lambda t: f"{privacy_notice(t, days)}\n\n{consent_question(t)}")
        await reply(update, context, text, consent_markup(context))


async def help_command(update: Update, context: BotContext) -> None:
    t = context.t
    lines = [t._(N_("This is what I can do:"))]
    lines += [f"/{c.name} — {t._(c.description)}" for c in context.services.commands_for("private")]
    lines.append("")
    lines.append(write_here(t))
    lines.append(
        t._(
            N_("You can also call or visit the office: {office}, {address}, phone {phone}."),
            office=OFFICE,
            address=OFFICE_ADDRESS,
            phone=t.ltr(OFFICE_PHONE),
        )
    )
    await reply(update, context, "\n".join(lines), InlineKeyboardMarkup([[back_to_menu_button(t)]]))


# -- callbacks ------------------------------------------------------------------------------
async def on_consent(update: Update, context: BotContext, choice: Callback) -> None:
    assert update.effective_user is not None
    user_id = update.effective_user.id
    residents = context.storage.residents
    now = context.clock.now()
    if choice.arg(0) == "yes":
        language = context.lang or context.user_data.get(PENDING_LANGUAGE) or "de"  # type: ignore[union-attr]
        await residents.give_consent(user_id, language, update.effective_user.first_name, now)
        context.resident = await residents.get(user_id)
        context.lang = language
        await answer_query(update)
        await context.services.command_menus.publish(user_id, language)
        t = context.t
        thanks = t._(N_("Thank you! You can change your language at any time."))
        text = f"{thanks}\n\n{choose_language_text(context)}"
        await reply(update, context, text, language_markup(context.lang))
    elif choice.arg(0) == "no":
        await answer_query(update)
        text = bilingual(
            context,
            lambda t: t._(
                N_(
                    "All right, nothing has been stored. Without your consent I cannot pass your "
                    "messages on to the counsellors. You can agree at any time with /start."
                )
            ),
        )
        await reply(update, context, text, main_menu(context))
    elif choice.arg(0) == "withdraw":
        await residents.withdraw_consent(user_id)
        context.resident = await residents.get(user_id)
        await answer_query(update)
        t = context.t
        text = t._(
            N_(
                "Your consent is withdrawn. From now on nothing you write is passed on. "
                "You can agree again at any time with /start."
            )
        )
        markup = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        "🗑 " + t._(N_("Delete my data")),
                        callback_data=callbacks.make(CB_DELETE, "ask"),
                    )
                ],
                *main_menu(context).inline_keyboard,
            ]
        )
        await reply(update, context, text, markup)
    else:
        await answer_query(update)


async def on_language_menu(update: Update, context: BotContext, cb: Callback) -> None:
    await answer_query(update)
    await language_command(update, context)


async def on_language(update: Update, context: BotContext, choice: Callback) -> None:
    assert update.effective_user is not None
    code = choice.arg(0)
    if code not in LANGUAGES:
        await answer_query(update, context.t._(N_("This button is no longer valid.")), alert=True)
        return
    context.lang = code
    changed = context.resident is not None and context.resident.language != code
    if context.resident is not None:
        await context.storage.residents.save_language(
            context.resident.user_id, code, context.clock.now()
        )
        context.resident = await context.storage.residents.get(context.resident.user_id)
    else:
        context.user_data[PENDING_LANGUAGE] = code  # type: ignore[index]
    t = context.t
    await answer_query(update, t._(N_("Language: {language}"), language=t.language_name(code)))
    if context.resident is not None and context.resident.consented:
        await context.services.command_menus.publish(context.resident.user_id, code)
        if changed:
            await context.services.requests.language_changed(context.resident.user_id)
    if has_consent(context):
        await show_menu(update, context)
    else:
        await send_consent_request(update, context, name=update.effective_user.first_name)


async def on_menu(update: Update, context: BotContext, cb: Callback) -> None:
    await answer_query(update)
    await show_menu(update, context)


async def on_help(update: Update, context: BotContext, cb: Callback) -> None:
    await answer_query(update)
    await help_command(update, context)


async def on_privacy(update: Update, context: BotContext, cb: Callback) -> None:
    await answer_query(update)
    await privacy_command(update, context)


def handlers(services: Services, application: App) -> list[Handler]:
    private = filters.ChatType.PRIVATE
    return [
        CommandHandler("start", start, filters=private),
        CommandHandler("language", language_command, filters=private),
        CommandHandler("privacy", privacy_command, filters=private),
        CommandHandler("help", help_command, filters=private),
        on_callback(CB_CONSENT, on_consent),
        on_callback(CB_LANG_MENU, on_language_menu),
        on_callback(CB_LANG, on_language),
        on_callback(CB_MENU, on_menu),
        on_callback(CB_HELP, on_help),
        on_callback(CB_PRIVACY, on_privacy),
    ]


CAPABILITY = Capability(
    name="onboarding",
    handlers=handlers,
    commands=(
        Command("start", N_("Start and main menu")),
        Command("language", N_("Change language")),
        Command("help", N_("What this bot can do")),
        Command("privacy", N_("Privacy and your consent")),
    ),
    menu=(
        MenuEntry(80, "🌐", N_("Language"), callbacks.make(CB_LANG_MENU)),
        MenuEntry(90, "❓", N_("Help"), callbacks.make(CB_HELP)),
        MenuEntry(95, "🔒", N_("Privacy"), callbacks.make(CB_PRIVACY)),
    ),
)
