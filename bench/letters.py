"""How well and how fast the bot reads letters, over the generated set (tests/letters.py).

    .venv/bin/python bench/letters.py [--count 32] [--variant default|no-deskew|no-osd|
        no-flatten|no-scale] [--workers 2] [--quick]

Measures, on this machine:
- character accuracy (difflib ratio of the recognised text to the source, whitespace
  collapsed) on photos tilted up to ±5° with noise, blur, uneven light, JPEG quality 60–90 and
  down-scaling (goal ≥ 97 %), and on upside-down photos and scanned PDFs;
- deadlines: the right date found in letters that have one (goal ≥ 95 %), a date found in
  letters that have none (goal ≤ 2 %), both after OCR and on the source text;
- seconds per page (one at a time) and pages per second with every worker busy (six letters
  at once, as when six residents send a letter in the same minute);
- that a room, a drawing and a chat screenshot give nothing.

``--variant`` switches one preprocessing step off, to show what it is worth.
"""

from __future__ import annotations

import argparse
import asyncio
import difflib
import os
import resource
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.engines.ocr import TesseractOCR
from bot.letters import reader as reader_module
from bot.letters.deadlines import find_deadline, find_letter_date
from bot.letters.model import Page, PageKind, Reading
from bot.letters.reader import TesseractLetterReader
from tests import letters as make


@dataclass
class Outcome:
    name: str
    accuracy: float
    line_accuracy: float
    seconds: float
    cpu: float
    """CPU seconds (this process and its Tesseract children): what a page costs on an idle
    core, whatever else the machine is doing."""
    want: object
    got: object
    has_deadline: bool


def line_accuracy(expected: str, got: str) -> float:
    """Each printed line against the recognised line most like it, weighted by length: blind
    to reading order (Tesseract may read a right-aligned header block after the left one)."""
    lines = [line for line in got.splitlines() if line.strip()]
    total = matched = 0.0
    for line in (line for line in expected.splitlines() if line.strip()):
        best = max(
            (difflib.SequenceMatcher(None, line, other, autojunk=False).ratio() for other in lines),
            default=0.0,
        )
        total += len(line)
        matched += best * len(line)
    return matched / total if total else 1.0


def _cpu() -> float:
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def accuracy(expected: str, got: str) -> float:
    return difflib.SequenceMatcher(
        None, " ".join(expected.split()), " ".join(got.split()), autojunk=False
    ).ratio()


async def read_one(reader: TesseractLetterReader, letter: make.TestLetter, page: Page) -> Outcome:
    started, cpu = time.perf_counter(), _cpu()
    reading = await reader.read([page], today=letter.letter_date)
    seconds, cpu = time.perf_counter() - started, _cpu() - cpu
    text = reading.letter.text if reading.letter else ""
    deadline = reading.letter.deadline if reading.letter else None
    return Outcome(
        letter.name,
        accuracy(letter.text, text),
        line_accuracy(letter.text, text),
        seconds,
        cpu,
        letter.deadline,
        deadline.due if deadline else None,
        letter.deadline is not None,
    )


def deadline_figures(outcomes: list[Outcome]) -> str:
    having = [o for o in outcomes if o.has_deadline]
    without = [o for o in outcomes if not o.has_deadline]
    right = sum(o.got == o.want for o in having)
    wrong = sum(o.got is not None for o in without)
    misses = [f"{o.name}: want {o.want} got {o.got}" for o in having if o.got != o.want]
    line = (
        f"deadline right in {right}/{len(having)} ({100 * right / max(1, len(having)):.1f} %) "
        f"of letters with one; a date found in {wrong}/{len(without)} "
        f"({100 * wrong / max(1, len(without)):.1f} %) of letters without"
    )
    return line + ("\n    misses: " + "; ".join(misses) if misses else "")


def summary(label: str, outcomes: list[Outcome]) -> None:
    scores = sorted(o.accuracy for o in outcomes)
    lines = sorted(o.line_accuracy for o in outcomes)
    times = sorted(o.seconds for o in outcomes)
    cpu = sorted(o.cpu for o in outcomes)
    print(
        f"{label}: {len(outcomes)} pages, character accuracy mean {100 * statistics.mean(scores):.2f} %"
        f", min {100 * scores[0]:.2f} %, ≥ 97 % in {sum(s >= 0.97 for s in scores)}/{len(scores)}"
        f"; by line (order-free) mean {100 * statistics.mean(lines):.2f} %, min {100 * lines[0]:.2f} %"
        f"; seconds/page mean {statistics.mean(times):.2f}, median {statistics.median(times):.2f}"
        f", max {times[-1]:.2f}; CPU s/page mean {statistics.mean(cpu):.2f}, max {cpu[-1]:.2f}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=32)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--variant",
        default="default",
        choices=["default", "no-deskew", "no-osd", "no-flatten", "no-scale"],
    )
    parser.add_argument("--quick", action="store_true", help="photos only, no PDFs or load")
    args = parser.parse_args()
    ocr = TesseractOCR()
    if not ocr.available:
        sys.exit(f"no OCR: {ocr.reason}")
    options: dict[str, object] = {}
    if args.variant == "no-deskew":
        options["deskew"] = False
    if args.variant == "no-osd":
        options["orientation"] = False
    if args.variant == "no-flatten":
        reader_module.flatten_light = lambda image: image
    reader = TesseractLetterReader(ocr, workers=args.workers, **options)  # type: ignore[arg-type]
    if args.variant == "no-scale":
        reader_module.scale_for_ocr = lambda image: image
    print(
        f"tesseract {ocr.version()}, variant {args.variant}, {args.workers} workers, "
        f"load average at start {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    batch = make.letters(args.count)

    # The deadline finder alone, on the source text (no OCR errors).
    source = []
    for letter in batch:
        letter_date = find_letter_date(letter.text)
        found = find_deadline(letter.text, letter_date=letter_date, today=letter.letter_date)
        source.append(
            Outcome(
                letter.name,
                1.0,
                1.0,
                0.0,
                0.0,
                letter.deadline,
                found.due if found else None,
                letter.deadline is not None,
            )
        )
    print("source text: " + deadline_figures(source))

    photos = []
    for seed, letter in enumerate(batch):
        camera = make.camera_for(seed, max_tilt=5.0)
        data = make.photograph(letter.image, camera, seed)
        photos.append(await read_one(reader, letter, Page(data, PageKind.IMAGE)))
    summary("photos tilted ≤ ±5°", photos)
    print("photos: " + deadline_figures(photos))
    low = [
        f"{o.name} {100 * o.accuracy:.1f} (by line {100 * o.line_accuracy:.1f})"
        for o in photos
        if o.accuracy < 0.97
    ]
    if low:
        print("    below 97 %: " + ", ".join(low))
    for side in (1280, 800):  # Telegram sends photos at most 1280 px (or 2560) long
        small = []
        for seed, letter in enumerate(batch[:16]):
            camera = make.camera_for(seed, max_tilt=5.0)
            camera = make.Camera(**{**camera.__dict__, "scale": side / make.HEIGHT})
            data = make.photograph(letter.image, camera, seed)
            small.append(await read_one(reader, letter, Page(data, PageKind.IMAGE)))
        summary(f"photos {side} px long, tilted ≤ ±5°", small)
        print(f"photos {side} px: " + deadline_figures(small))
    if args.quick:
        return

    upside = []
    for seed, letter in enumerate(batch[:6]):
        camera = make.camera_for(seed + 100, max_tilt=6.0)
        camera = make.Camera(**{**camera.__dict__, "upside_down": True})
        upside.append(
            await read_one(
                reader, letter, Page(make.photograph(letter.image, camera, seed), PageKind.IMAGE)
            )
        )
    summary("upside-down photos, tilt ≤ ±6°", upside)
    sideways = []
    for seed, letter in enumerate(batch[6:9]):
        camera = make.Camera(quarter=True, tilt=1.5, noise=5, scale=0.8)
        sideways.append(
            await read_one(
                reader, letter, Page(make.photograph(letter.image, camera, seed), PageKind.IMAGE)
            )
        )
    summary("photos turned 90°", sideways)

    scans = [
        await read_one(reader, letter, Page(make.scanned_pdf([letter.image]), PageKind.PDF))
        for letter in batch[:4]
    ]
    summary("scanned PDFs (no text layer)", scans)
    layered = [
        await read_one(reader, letter, Page(make.text_pdf(letter), PageKind.PDF))
        for letter in batch[:8]
    ]
    summary("PDFs with a text layer", layered)
    print("PDFs: " + deadline_figures(scans + layered))

    nothing = 0
    for data in (make.room_photo(), make.drawing(), make.chat_screenshot()):
        nothing += (
            await reader.read([Page(data, PageKind.IMAGE)], today=batch[0].letter_date)
        ) == Reading()
    print(f"not letters (room, drawing, chat screenshot): {nothing}/3 gave nothing")

    # Six letters at once: throughput with every worker busy, and the queue depth seen.
    pages = [
        Page(
            make.photograph(letter.image, make.camera_for(seed, max_tilt=5.0), seed), PageKind.IMAGE
        )
        for seed, letter in enumerate(batch[:6])
    ]
    started = time.perf_counter()
    tasks = [asyncio.create_task(reader.read([page], today=batch[0].letter_date)) for page in pages]
    await asyncio.sleep(0.5)
    depth = reader.queue_depth
    await asyncio.gather(*tasks)
    wall = time.perf_counter() - started
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    print(
        f"six letters at once: {wall:.1f} s wall, {wall / 6:.2f} s per page with {args.workers} "
        f"workers; queue depth after 0.5 s: {depth}"
    )
    await reader.close()


if __name__ == "__main__":
    asyncio.run(main())
