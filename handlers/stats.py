"""Figures for the project: what the coordinators report to the funders (ESF Plus and
the federal government), as text, a chart and a spreadsheet.

``/stats [period]`` and ``/export [period]`` are for coordinators, in a private chat or in
the staff group. Everything comes from one suppressed set of aggregates
(:mod:`bot.figures`): no name, Telegram id or message ever appears, and counts below the
configured minimum are shown as ``<3``.
"""

from __future__ import annotations

import asyncio
from datetime import date

from telegram import InputFile, Message, Update
from telegram.ext import CommandHandler, filters

from bot.capability import App, Capability, Command, Handler
from bot.context import BotContext, Services
from bot.directory import Directory
from bot.figures import (
    HIDDEN_MARK,
    ChartLabels,
    Figures,
    Period,
    PeriodError,
    build_figures,
    day_span,
    export_rows,
    parse_period,
    render_chart,
    to_csv,
    to_xlsx,
)
from bot.filters import coordinator_here
from bot.i18n import N_, Translator
from handlers.common import refuse_coordinator
from storage.stats import UNKNOWN_LANGUAGE

# -- texts ----------------------------------------------------------------------------------
USAGE = N_(
    "Which period? /stats week, /stats month (the default), /stats 2026-11 for a month,"
    " /stats all for the funding period so far. /export takes the same."
)
FUTURE = N_("That period has not begun yet.")
EXPORT_LABELS = {
    "first_day": N_("First day"),
    "last_day": N_("Last day"),
    "min_cell": N_("Smallest number shown"),
    "new": N_("New residents"),
    "active": N_("Active residents"),
    "received": N_("Requests received"),
    "answered": N_("Requests answered"),
    "median_minutes": N_("Time to first answer, median (minutes)"),
    "p90_minutes": N_("Time to first answer, 90% within (minutes)"),
    "open_now": N_("Requests waiting for an answer now"),
    "booked": N_("Appointments booked"),
    "made": N_("Appointments booked during the period (by booking date)"),
    "interpreter": N_("Appointments with interpreting asked for"),
    "cancelled": N_("Appointments cancelled"),
    "attended": N_("Appointments attended"),
    "no_show": N_("Appointments missed"),
    "broadcasts": N_("Broadcasts"),
    "sent": N_("Broadcast messages delivered"),
    "blocked": N_("Broadcast recipients who blocked the bot"),
    "waiting_list": N_("Residents on a waiting list now"),
    "helped": N_("Did we help? Yes"),
    "not_helped": N_("Did we help? No"),
    "prepared_suggested": N_("Prepared answers suggested to staff"),
    "prepared_offered": N_("Prepared answers offered to residents"),
    "prepared_helped": N_("Requests answered by a prepared answer (✅)"),
    "prepared_talk": N_("Prepared answer read, still wanted a counsellor (💬)"),
    "prepared_sent": N_("Prepared answers sent by staff"),
}


def coordinator_translator(context: BotContext) -> Translator:
    """The coordinator's language if they use the bot as a resident too, else German."""
    resident = context.resident
    return context.services.i18n.get(resident.language if resident is not None else "de")


def chart_translator(context: BotContext, t: Translator) -> Translator:
    """matplotlib neither joins Arabic letters nor orders right-to-left text, so the few
    words on the chart are German for Arabic and Farsi coordinators (the text summary
    stays in their language)."""
    return context.services.i18n.get("de") if t.language.rtl else t


def language_name(t: Translator, code: str) -> str:
    if code == UNKNOWN_LANGUAGE:
        return t._(N_("unknown (no longer linked)"))
    if code == "de_easy":
        return t._(N_("Easy German"))
    name = t.locale.languages.get(code.split("_")[0])
    return str(name) if name else code


def period_title(t: Translator, period: Period) -> str:
    first, last = t.date(period.first, "yMMMd"), t.date(period.last, "yMMMd")
    if period.kind == "week":
        return t._(
            N_("Week {week}: {first} – {last}"),
            week=period.first.isocalendar().week,
            first=first,
            last=last,
        )
    if period.kind == "month":
        return t.date(period.first, "yMMMM")
    return t._(N_("Funding period so far: {first} – {last}"), first=first, last=last)


def duration(t: Translator, seconds: float) -> str:
    return t.duration(round(seconds / 60))


def offer_place(t: Translator, directory: Directory, offer_id: str, place_id: str) -> str:
    """Names from the directory; the id if it was removed from the file meanwhile."""
    try:
        offer = directory.offer(offer_id).title.get(t.code)[0]
    except KeyError:
        offer = offer_id
    try:
        place = directory.place(place_id).name.get(t.code)[0]
    except KeyError:
        place = place_id
    return t._(N_("{offer} at {place}"), offer=offer, place=place)


def summary(
    t: Translator, figures: Figures, directory: Directory, today: date | None = None
) -> str:
    c = figures.cell
    lines = ["📊 " + t._(N_("Figures: {period}"), period=period_title(t, figures.period)), ""]
    if today is not None and figures.period.first > today:
        lines += [
            "ℹ️ "
            + t._(
                N_(
                    "This period has not begun yet: the figures show the appointments already "
                    "booked for it."
                )
            ),
            "",
        ]
    lines.append(
        "👥 "
        + t._(
            N_("Residents reached — new: {new}, active: {active}"),
            new=c("new").text,
            active=c("active").text,
        )
    )
    for lang in figures.languages:
        lines.append(
            "   • "
            + t._(
                N_("{language} — new: {new}, active: {active}"),
                language=language_name(t, lang),
                new=c("new", lang).text,
                active=c("active", lang).text,
            )
        )
    lines.append("")
    lines.append(
        "💬 "
        + t._(
            N_("Requests: {received} received, {answered} of them answered; {open} waiting now"),
            received=c("requests").text,
            answered=c("answered").text,
            open=c("open_now").text,
        )
    )
    if figures.answer_median is not None and figures.answer_p90 is not None:
        lines.append(
            "   "
            + t._(
                N_("Time to first answer: median {median}, 90% within {p90}"),
                median=duration(t, figures.answer_median),
                p90=duration(t, figures.answer_p90),
            )
        )
    lines.append(
        "   "
        + t._(
            N_("Did we help? 👍 {yes} · 👎 {no} (counted per month)"),
            yes=c("helped").text,
            no=c("not_helped").text,
        )
    )
    lines += conversation_lines(t, figures)
    lines += prepared_lines(t, figures)
    lines.append("")
    lines.append(
        "📅 "
        + t._(
            N_(
                "Appointments in the period: {booked} booked, {cancelled} cancelled, {attended} attended, {no_show} missed"
            ),
            booked=c("booked").text,
            cancelled=c("cancelled").text,
            attended=c("attended").text,
            no_show=c("no_show").text,
        )
    )
    for offer, place in figures.places:
        lines.append(
            "   • "
            + t._(
                N_(
                    "{where}: {booked} booked, {cancelled} cancelled, {attended} attended, {no_show} missed"
                ),
                where=offer_place(t, directory, offer, place),
                booked=c("booked", offer, place).text,
                cancelled=c("cancelled", offer, place).text,
                attended=c("attended", offer, place).text,
                no_show=c("no_show", offer, place).text,
            )
        )
    lines.append(
        "🆕 "
        + t._(
            N_("Appointments booked during the period (by booking date): {n}"),
            n=c("made").text,
        )
    )
    if figures.interpreter_languages:
        lines.append(
            "🗣 "
            + t._(
                N_("Interpreting asked for (appointments in the period): {n}"),
                n=c("interpreter").text,
            )
        )
        # Two values, no words of our own: nothing to translate.
        lines.extend(
            f"   • {language_name(t, lang)}: {c('interpreter', lang).text}"
            for lang in figures.interpreter_languages
        )
    lines.append("")
    lines.append(
        "📣 "
        + t._(
            N_(
                "Broadcasts started: {count}; messages delivered: {sent}; recipients who had blocked the bot: {blocked}"
            ),
            count=figures.broadcasts,
            sent=c("sent").text,
            blocked=c("blocked").text,
        )
    )
    lines.append("⏳ " + t._(N_("Residents on waiting lists now: {n}"), n=c("waiting_list").text))
    lines.append("")
    lines.append(
        t._(
            N_("Numbers below {min} are shown as <{min} so that nobody can be singled out."),
            min=figures.min_cell,
        )
    )
    if any(mark == "hidden" for mark in figures.marks.values()):
        lines.append(
            t._(
                N_(
                    "{x} = hidden as well, so that a small number cannot be worked out from the totals."
                ),
                x=HIDDEN_MARK,
            )
        )
    return "\n".join(lines)


def prepared_lines(t: Translator, figures: Figures) -> list[str]:
    """What the office's prepared answers did, per language (counters that know no one)."""
    if not figures.prepared_languages:
        return []
    c = figures.cell

    def line(lang: str | None) -> str:
        key = (lang,) if lang else ()
        return t._(
            N_(
                "answered by a prepared answer (✅): {helped}, still wanted a counsellor "
                "(💬): {talk}, offered: {offered}, sent by staff: {sent}"
            ),
            helped=c("prepared_helped", *key).text,
            talk=c("prepared_talk", *key).text,
            offered=c("prepared_offered", *key).text,
            sent=c("prepared_sent", *key).text,
        )

    lines = ["💡 " + t._(N_("Prepared answers:")) + " " + line(None)]
    lines += [f"   • {language_name(t, lang)}: {line(lang)}" for lang in figures.prepared_languages]
    return lines


def conversation_lines(t: Translator, figures: Figures) -> list[str]:
    """Residents' messages by language, and how many were machine translated or
    transcribed (from counters that know no resident)."""
    if not figures.message_languages:
        return []
    c = figures.cell
    lines = [
        "🌐 "
        + t._(
            N_(
                "Messages from residents: {messages}; machine translated: {translated}; transcribed: {transcribed}"
            ),
            messages=c("messages").text,
            translated=c("translated").text,
            transcribed=c("transcribed").text,
        )
    ]
    for lang in figures.message_languages:
        lines.append(
            "   • "
            + t._(
                N_(
                    "{language} — messages: {messages}; machine translated: {translated}; transcribed: {transcribed}"
                ),
                language=language_name(t, lang),
                messages=c("messages", lang).text,
                translated=c("translated", lang).text,
                transcribed=c("transcribed", lang).text,
            )
        )
    return lines


def chart_labels(t: Translator, figures: Figures) -> ChartLabels:
    if figures.period.monthly:
        buckets = [t.date(b.first, "yMMM") for b in figures.buckets]
        requests, appointments = N_("Requests per month"), N_("Appointments per month")
    else:
        buckets = [t.date(b.first, "dMMM") for b in figures.buckets]
        requests, appointments = N_("Requests per week"), N_("Appointments per week")
    return ChartLabels(
        title=f"Quartierbot\n{period_title(t, figures.period)}",
        requests=t._(requests),
        appointments=t._(appointments),
        buckets=buckets,
        languages={lang: language_name(t, lang) for lang in figures.languages},
        hidden=t._(N_("hidden (small numbers)")),
        made=t._(N_("booked then (by booking date)")),
        footnote=t._(
            N_("By the resident's language. Numbers below {min} are not shown."),
            min=figures.min_cell,
        ),
    )


# -- commands -------------------------------------------------------------------------------
async def figures_for(
    update: Update, context: BotContext
) -> tuple[Message, Translator, Figures] | None:
    """Read the period, count. None when the period is wrong (the coordinator has been
    told why). Who may ask is the handlers' filter."""
    message = update.effective_message
    if message is None:
        return None
    t = coordinator_translator(context)
    config = context.config
    now = context.clock.now()
    args = context.args or []
    try:
        if len(args) > 1:
            raise PeriodError("invalid")
        period = parse_period(
            args[0] if args else None, now.astimezone(config.tz).date(), config.funding_start
        )
    except PeriodError as exc:
        problem = FUTURE if exc.reason == "future" else USAGE
        await message.reply_text(t.paragraph(t._(problem)))
        return None
    span = period.span(config.tz)
    buckets = [day_span(b.first, b.last, config.tz) for b in period.buckets()]
    raw = await context.storage.stats.collect(span, buckets, now, period.months())
    return message, t, build_figures(raw, period, config.min_cell)


async def stats_command(update: Update, context: BotContext) -> None:
    found = await figures_for(update, context)
    if found is None:
        return
    message, t, figures = found
    today = context.clock.now().astimezone(context.config.tz).date()
    text = summary(t, figures, context.services.directory, today)
    await message.reply_text(t.paragraph(text))
    labels = chart_labels(chart_translator(context, t), figures)
    # Drawing takes a noticeable moment of CPU: not on the event loop.
    png = await asyncio.to_thread(render_chart, figures, labels)
    await message.reply_photo(
        InputFile(png, filename=f"figures-{figures.period.slug()}.png"),
        caption=t.paragraph(labels.title),
    )


async def export_command(update: Update, context: BotContext) -> None:
    found = await figures_for(update, context)
    if found is None:
        return
    message, t, figures = found
    rows = export_rows(figures, {key: t._(label) for key, label in EXPORT_LABELS.items()})
    name = f"quartierbot-figures-{figures.period.slug()}"
    caption = t.paragraph(t._(N_("Figures: {period}"), period=period_title(t, figures.period)))
    await message.reply_document(InputFile(to_csv(rows), filename=f"{name}.csv"), caption=caption)
    xlsx = await asyncio.to_thread(to_xlsx, rows)
    await message.reply_document(InputFile(xlsx, filename=f"{name}.xlsx"))


def handlers(services: Services, application: App) -> list[Handler]:
    coordinator = filters.UpdateType.MESSAGES & coordinator_here(services.config)
    return [
        CommandHandler("stats", stats_command, filters=coordinator),
        CommandHandler("export", export_command, filters=coordinator),
        CommandHandler(["stats", "export"], refuse_coordinator),
    ]


CAPABILITY = Capability(
    name="stats",
    handlers=handlers,
    commands=(
        Command("stats", N_("Figures for the project report"), scope="admin"),
        Command("export", N_("Figures as a spreadsheet"), scope="admin"),
    ),
)


__all__ = ["CAPABILITY", "EXPORT_LABELS", "summary"]
