"""German test letters made on the spot: rendered with Pillow in matplotlib's bundled fonts (so
nothing depends on the machine's fonts), "photographed" (tilted, upside down, noisy, blurred,
JPEG-compressed, down-scaled), and as PDFs with and without a text layer; plus the bad files and
the pictures that are not letters. Used by the OCR tests and by bench/letters.py.

Every letter knows its source text, its date and the deadline a reader should find (None for a
letter without one, e.g. one that only names an appointment).
"""

from __future__ import annotations

import io
import random
import textwrap
import zipfile
from dataclasses import dataclass, replace
from datetime import date, timedelta
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageFont

from bot.letters.deadlines import POSTAL_DAYS, add_months, next_working_day

FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
FACES = ("DejaVuSans.ttf", "DejaVuSerif.ttf", "STIXGeneral.ttf", "DejaVuSansMono.ttf")
BOLD = {
    "DejaVuSans.ttf": "DejaVuSans-Bold.ttf",
    "DejaVuSerif.ttf": "DejaVuSerif-Bold.ttf",
    "STIXGeneral.ttf": "STIXGeneralBol.ttf",
    "DejaVuSansMono.ttf": "DejaVuSansMono-Bold.ttf",
}
WIDTH, HEIGHT = 1240, 1754  # A4 at 150 dpi
MONTHS = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
]

SENDERS = (
    ("jobcenter", "Jobcenter Krefeld", "Philadelphiastraße 2", "47799 Krefeld", "BG-Nummer"),
    (
        "familienkasse",
        "Bundesagentur für Arbeit\nFamilienkasse NRW West",
        "Postfach 10 05 71",
        "47705 Krefeld",
        "Kindergeldnummer",
    ),
    (
        "auslaenderbehoerde",
        "Stadt Krefeld\nAusländerbehörde",
        "Konrad-Adenauer-Platz 17",
        "47803 Krefeld",
        "Aktenzeichen",
    ),
    (
        "krankenkasse",
        "AOK Rheinland/Hamburg\nDie Gesundheitskasse",
        "Ostwall 108",
        "47798 Krefeld",
        "Versicherungsnummer",
    ),
    ("vermieter", "Wohnstätte Krefeld AG", "Königstraße 192", "47798 Krefeld", "Vertragsnummer"),
    (
        "bamf",
        "Bundesamt für Migration und Flüchtlinge",
        "Frankenstraße 210",
        "90461 Nürnberg",
        "Geschäftszeichen",
    ),
    (
        "rentenversicherung",
        "Deutsche Rentenversicherung Rheinland",
        "Königsallee 71",
        "40215 Düsseldorf",
        "Versicherungsnummer",
    ),
    ("finanzamt", "Finanzamt Krefeld", "Grenzstraße 100", "47799 Krefeld", "Steuernummer"),
    (
        "arbeitsagentur",
        "Agentur für Arbeit Krefeld",
        "Philadelphiastraße 2",
        "47799 Krefeld",
        "Kundennummer",
    ),
    (
        "schule",
        "Städtische Gesamtschule Kaiserplatz",
        "Kaiserplatz 20",
        "47800 Krefeld",
        "Aktenzeichen",
    ),
)
RESIDENTS = (
    "Frau Ayşe Yılmaz",
    "Herrn Olexandr Koval",
    "Frau Fatima Haddad",
    "Herrn Dariusz Nowak",
)
STREETS = ("Südwall 12", "Lewerentzstraße 5", "Marktstraße 88", "Hubertusstraße 41")


@dataclass(frozen=True)
class TestLetter:
    name: str
    sender: str
    text: str
    """The source text: what a perfect reader returns (lines as printed)."""
    letter_date: date
    deadline: date | None
    estimated: bool
    image: Image.Image
    face: str


def _fmt(day: date, style: int) -> str:
    if style == 0:
        return day.strftime("%d.%m.%Y")
    if style == 1:
        return day.strftime("%d.%m.%y")
    return f"{day.day}. {MONTHS[day.month - 1]} {day.year}"


def _body(
    rng: random.Random, kind: str, letter_day: date, sender: str
) -> tuple[list[str], date | None, bool]:
    """Paragraphs of the body, the deadline and whether it is an estimate."""
    style = rng.randrange(3)
    earlier = letter_day - timedelta(days=rng.randint(10, 60))
    due = letter_day + timedelta(days=rng.randint(7, 35))
    appointment = letter_day + timedelta(days=rng.randint(3, 20))
    time_of_day = rng.choice(("09:00", "10:30", "13:15", "8.45"))
    opening = rng.choice(
        (
            f"wir haben Ihren Antrag vom {_fmt(earlier, style)} erhalten und bearbeiten ihn zurzeit.",
            f"vielen Dank für Ihr Schreiben vom {_fmt(earlier, style)}.",
            "zu Ihrem Anliegen teilen wir Ihnen Folgendes mit.",
        )
    )
    paragraphs = [opening]
    deadline: date | None = None
    estimated = False
    if kind in ("explicit", "both"):
        phrase = rng.choice(
            (
                f"Bitte reichen Sie die fehlenden Unterlagen bis zum {_fmt(due, style)} bei uns ein.",
                f"Bitte senden Sie uns die Nachweise spätestens am {_fmt(due, style)} zurück.",
                f"Die Unterlagen müssen uns bis spätestens {_fmt(due, style)} vorliegen, sonst kann über Ihren Antrag nicht entschieden werden.",
                f"Bitte zahlen Sie den offenen Betrag von 84,50 Euro bis {_fmt(due, style)} auf das unten genannte Konto.",
            )
        )
        paragraphs.append(
            "Für die weitere Bearbeitung benötigen wir noch Kontoauszüge der letzten drei Monate "
            "und eine Kopie Ihres Mietvertrags. " + phrase
        )
        deadline = due
    if kind in ("appointment", "both"):
        paragraphs.append(
            rng.choice(
                (
                    f"Wir laden Sie zu einem persönlichen Gespräch am {_fmt(appointment, style)} um {time_of_day} Uhr in Zimmer 214 ein.",
                    f"Ihr Termin: {_fmt(appointment, style)}, {time_of_day} Uhr. Bitte bringen Sie Ihren Ausweis mit.",
                )
            )
        )
        if kind == "both" and appointment < due:
            pass  # the deadline stays the date to act by, whichever comes first
    if kind == "relative":
        paragraphs.append(
            "Bitte reichen Sie die angeforderten Nachweise innerhalb von zwei Wochen ein."
        )
        deadline = next_working_day(letter_day + timedelta(weeks=2))
        estimated = True
    if kind == "remedy":
        paragraphs.append(
            "Rechtsbehelfsbelehrung: Gegen diesen Bescheid kann innerhalb eines Monats nach "
            "Bekanntgabe Widerspruch erhoben werden."
        )
        deadline = next_working_day(add_months(letter_day + timedelta(days=POSTAL_DAYS), 1))
        estimated = True
    if kind == "none":
        start = letter_day + timedelta(days=rng.randint(20, 40))
        paragraphs.append(
            f"Ihre Leistungen werden für die Zeit vom {_fmt(start, style)} bis "
            f"{_fmt(add_months(start, 6), style)} bewilligt. Sie müssen nichts weiter tun."
        )
    paragraphs.append(
        "Bei Fragen erreichen Sie uns montags bis freitags von 8 bis 12 Uhr unter der "
        "Telefonnummer 02151 86-0."
    )
    return paragraphs, deadline, estimated


KINDS = ("explicit", "explicit", "explicit", "both", "appointment", "none", "relative", "remedy")


def make_letter(seed: int) -> TestLetter:
    """One letter, straight, as printed (``seed`` chooses everything)."""
    rng = random.Random(seed)
    key, name, street, city, label = SENDERS[seed % len(SENDERS)]
    kind = KINDS[seed % len(KINDS)]
    letter_day = date(2026, 1, 5) + timedelta(days=rng.randint(0, 540))
    paragraphs, deadline, estimated = _body(rng, kind, letter_day, key)
    reference = (
        f"{label}: {rng.randint(100, 999)}-{rng.randint(10000, 99999)}/{letter_day.year % 100}"
    )
    resident = rng.choice(RESIDENTS)
    place = city.split()[-1]
    date_line = rng.choice(
        (
            f"{place}, den {_fmt(letter_day, 0)}",
            f"Datum: {_fmt(letter_day, 0)}",
            f"{place}, {_fmt(letter_day, 2)}",
        )
    )
    salutation = "Sehr geehrte Frau" if resident.startswith("Frau") else "Sehr geehrter Herr"
    surname = resident.split()[-1]
    blocks = [
        [*name.split("\n"), street, city],
        [resident, rng.choice(STREETS), "47798 Krefeld"],
        [date_line, reference],
        [
            rng.choice(
                (
                    "Ihr Antrag auf Leistungen",
                    "Mitwirkungspflicht",
                    "Ihre Nachricht",
                    "Information zu Ihrem Vertrag",
                )
            )
        ],
        [f"{salutation} {surname},"],
        *([p] for p in paragraphs),
        ["Mit freundlichen Grüßen", "Im Auftrag", "M. Schneider"],
    ]
    face = FACES[seed % len(FACES)]
    size = rng.choice((24, 25, 26, 28))
    font = ImageFont.truetype(str(FONTS / face), size)
    bold = ImageFont.truetype(str(FONTS / BOLD[face]), size)
    image = Image.new("L", (WIDTH, HEIGHT), 255)
    draw = ImageDraw.Draw(image)
    left = rng.randint(100, 150)
    width = WIDTH - left - 110
    y = rng.randint(80, 130)
    lines_out: list[list[str]] = []
    for number, block in enumerate(blocks):
        printed: list[str] = []
        for paragraph in block:
            printed.extend(_wrap(paragraph, font, width))
        right = number in (0, 2) and rng.random() < 0.5
        for line in printed:
            use = bold if number == 3 else font
            x = WIDTH - 110 - int(use.getlength(line)) if right else left
            draw.text((x, y), line, font=use, fill=rng.randint(0, 40))
            y += int(size * 1.45)
        y += int(size * 1.2)
        lines_out.append(printed)
    text = "\n\n".join("\n".join(lines) for lines in lines_out)
    return TestLetter(f"letter{seed:02d}", key, text, letter_day, deadline, estimated, image, face)


def _wrap(paragraph: str, font: ImageFont.FreeTypeFont, width: int) -> list[str]:
    words = paragraph.split()
    lines: list[str] = []
    for word in words:
        if lines and font.getlength(lines[-1] + " " + word) <= width:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


@dataclass(frozen=True)
class Camera:
    """How a letter is photographed."""

    tilt: float = 0.0
    upside_down: bool = False
    quarter: bool = False
    noise: float = 0.0
    blur: float = 0.0
    dim: float = 1.0
    quality: int = 85
    scale: float = 1.0


def camera_for(seed: int, *, max_tilt: float = 6.0) -> Camera:
    rng = random.Random(seed * 7919)
    return Camera(
        tilt=rng.uniform(-max_tilt, max_tilt),
        noise=rng.uniform(0, 12),
        blur=rng.choice((0.0, 0.5, 0.8)),
        dim=rng.uniform(0.75, 1.0),
        quality=rng.randint(60, 90),
        scale=rng.uniform(0.75, 1.0),
    )


def photograph(image: Image.Image, camera: Camera, seed: int = 0) -> bytes:
    """A phone photo of the page as JPEG bytes."""
    rng = np.random.default_rng(seed)
    picture = image.convert("L")
    if camera.scale != 1.0:
        picture = picture.resize(
            (int(picture.width * camera.scale), int(picture.height * camera.scale)),
            Image.Resampling.LANCZOS,
        )
    if camera.tilt:
        picture = picture.rotate(
            camera.tilt, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=200
        )
    if camera.upside_down:
        picture = picture.rotate(180)
    if camera.quarter:
        picture = picture.rotate(90, expand=True)
    if camera.blur:
        picture = picture.filter(ImageFilter.GaussianBlur(camera.blur))
    pixels = np.asarray(picture, dtype=np.float32)
    if camera.noise:
        pixels = pixels + rng.normal(0, camera.noise, pixels.shape).astype(np.float32)
    # Uneven light: darker towards one corner.
    ramp = np.linspace(1.0, camera.dim, pixels.shape[1], dtype=np.float32)
    pixels = pixels * ramp[None, :]
    picture = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).convert("RGB")
    picture = ImageEnhance.Color(picture).enhance(1.0)
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=camera.quality)
    return out.getvalue()


def png(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def text_pdf(letter: TestLetter, pages: int = 1) -> bytes:
    """A PDF with a real text layer (as an office's software writes it), via matplotlib."""
    from matplotlib.backends.backend_pdf import PdfPages
    from matplotlib.figure import Figure

    out = io.BytesIO()
    with PdfPages(out) as pdf:
        for _ in range(pages):
            figure = Figure(figsize=(8.27, 11.69))
            lines = letter.text.split("\n")
            for number, line in enumerate(lines):
                figure.text(0.1, 0.95 - number * 0.016, line, fontsize=9, family="DejaVu Sans")
            pdf.savefig(figure)
    return out.getvalue()


def long_pdf(text: str, pages: int) -> bytes:
    """A PDF of many pages with a text layer, written directly (matplotlib takes seconds for
    sixty pages): each page carries ``text`` in Helvetica."""
    lines = [line.replace("\\", "").replace("(", "").replace(")", "") for line in text.splitlines()]
    stream = (
        b"BT /F1 10 Tf 60 800 Td 13 TL "
        + b" ".join(b"(" + line.encode("cp1252", "replace") + b") '" for line in lines)
        + b" ET"
    )
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids ["
        + b" ".join(f"{5 + n} 0 R".encode() for n in range(pages))
        + f"] /Count {pages} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        f"<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream",
    ]
    objects += [
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R"
        b" >> >> /Contents 4 0 R >>"
    ] * pages
    return _pdf(objects, b"/Root 1 0 R")


def _pdf(objects: list[bytes], trailer: bytes) -> bytes:
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    for offset in offsets:
        out.write(f"{offset:010d} 00000 n \n".encode())
    out.write(
        f"trailer\n<< /Size {len(objects) + 1} ".encode()
        + trailer
        + f" >>\nstartxref\n{xref}\n%%EOF\n".encode()
    )
    return out.getvalue()


def scanned_pdf(images: list[Image.Image]) -> bytes:
    """A PDF of page images only (a scan): no text layer."""
    out = io.BytesIO()
    first, *rest = [image.convert("RGB") for image in images]
    first.save(out, "PDF", resolution=150.0, save_all=True, append_images=rest)
    return out.getvalue()


def encrypted_pdf() -> bytes:
    """A PDF that asks for a password to open (standard security handler, unknown password)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        b"<< /Filter /Standard /V 1 /R 2 /O <"
        + b"ab" * 32
        + b"> /U <"
        + b"cd" * 32
        + b"> /P -4 >>",
    ]
    return _pdf(objects, f"/Root 1 0 R /Encrypt 4 0 R /ID [<{'11' * 16}> <{'11' * 16}>]".encode())


def zip_named_pdf() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("brief.txt", "Hallo")
    return out.getvalue()


def truncated_jpeg(letter: TestLetter) -> bytes:
    data = photograph(letter.image, Camera())
    return data[: len(data) // 3]


def room_photo(seed: int = 1) -> bytes:
    """A photo of a room: shapes, gradients and noise, no text."""
    rng = random.Random(seed)
    image = Image.new("RGB", (1280, 960), (180, 170, 150))
    draw = ImageDraw.Draw(image)
    for _ in range(30):
        x, y = rng.randint(0, 1200), rng.randint(0, 900)
        draw.rectangle(
            (x, y, x + rng.randint(40, 400), y + rng.randint(40, 300)),
            fill=tuple(rng.randint(0, 255) for _ in range(3)),
        )
    picture = image.filter(ImageFilter.GaussianBlur(2))
    pixels = np.asarray(picture, dtype=np.float32) + np.random.default_rng(seed).normal(
        0, 8, (960, 1280, 3)
    )
    out = io.BytesIO()
    Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(out, "JPEG", quality=80)
    return out.getvalue()


def drawing() -> bytes:
    """A child's drawing: lines and circles."""
    image = Image.new("RGB", (1000, 800), "white")
    draw = ImageDraw.Draw(image)
    draw.ellipse((300, 200, 700, 600), outline="red", width=8)
    draw.line((100, 700, 900, 650), fill="green", width=12)
    draw.rectangle((120, 400, 280, 650), outline="blue", width=6)
    draw.polygon(((120, 400), (200, 300), (280, 400)), outline="brown", width=6)
    return png(image)


def chat_screenshot() -> bytes:
    """A chat screenshot with three words."""
    image = Image.new("RGB", (720, 1280), (230, 221, 212))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((300, 500, 680, 580), radius=20, fill=(220, 248, 198))
    draw.text(
        (320, 520),
        "Hallo wie gehts",
        font=ImageFont.truetype(str(FONTS / "DejaVuSans.ttf"), 30),
        fill="black",
    )
    return png(image)


def letters(count: int = 32) -> list[TestLetter]:
    return [make_letter(seed) for seed in range(count)]


def with_text(letter: TestLetter, text: str) -> TestLetter:
    return replace(letter, text=text)


def source_words(text: str) -> str:
    return " ".join(text.split())


__all__ = ["Camera", "TestLetter", "camera_for", "letters", "make_letter", "photograph", "textwrap"]
