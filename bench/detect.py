"""How often is a resident's message taken for the wrong language?

    .venv/bin/python bench/detect.py [low|high]

Runs the detection rules (bot/engines/detect.py) with lingua in low-accuracy mode (the
bot's) or high-accuracy mode over tests/data/detect/messages.tsv, where every message says
the language it is really in and the one the resident chose, and prints: the load time and
memory of the models, the wrong-language rate per language, which languages were taken for
which, every wrong message, and the same for lingua alone (its best reading at 0.8, no rules)
and for the rules without their letter checks (what the letters add).
Then a harder view: every message as if sent by a resident who chose each other language —
"kept" counts messages left in the (wrong) chosen language, "other" those taken for a third
language.
"""

from __future__ import annotations

import resource
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.engines import OUR_LANGUAGES, detect, engine_code
from bot.engines.detect import LinguaDetector
from tests.detect_set import Figures, Message, measure, messages


def report(title: str, figures: Figures) -> None:
    total = sum(figures.total.values())
    print(f"\n{title}: {len(figures.wrong)} of {total} wrong ({figures.wrong_rate:.1%})")
    print(f"  Arabic taken for Farsi or the reverse: {figures.mixed_up('ar', 'fa')}")
    for language, count in sorted(figures.total.items()):
        wrong = count - figures.confusion[(language, language)]
        taken = ", ".join(
            f"{used} {n}"
            for (true, used), n in sorted(figures.confusion.items())
            if true == language and used != language
        )
        print(f"  {language}: {wrong:2} of {count:3} wrong ({wrong / count:5.1%}) {taken}")
    for message, used in figures.wrong:
        print(f"  ✗ {message.language} (chose {message.chosen}) taken for {used}: {message.text}")


def main() -> None:
    mode = sys.argv[1] if len(sys.argv) > 1 else "low"
    started = time.process_time()
    detector = LinguaDetector(low_accuracy=mode == "low")
    detector.warm_up()
    loaded = time.process_time() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    found = messages()
    print(f"lingua, {mode}-accuracy mode: models loaded in {loaded:.2f} s CPU, process peak")
    print(f"{peak:.0f} MB; {len(found)} messages")
    started = time.process_time()
    report("The rules", measure(detector.detect, found))
    per_message = (time.process_time() - started) / len(found) * 1000
    print(f"  ({per_message:.2f} ms CPU per message)")

    def lingua_alone(text: str, chosen: str) -> str | None:
        ranked = detector.confidences(text)
        return ranked[0][0] if ranked and ranked[0][1] >= 0.8 else None

    report("lingua alone (its best reading at 0.8 or more, no rules)", measure(lingua_alone, found))
    every_choice("Every message under every other choice", detector, found)

    # What the letters add: the same rules with no letter ruling a language out or in.
    kept = dict(detect.FOREIGN), dict(detect.OWN)
    detect.FOREIGN.clear()
    detect.OWN.clear()
    try:
        report("The rules without the letter checks", measure(detector.detect, found))
        every_choice("The same, every message under every other choice", detector, found)
    finally:
        detect.FOREIGN.update(kept[0])
        detect.OWN.update(kept[1])


def every_choice(title: str, detector: LinguaDetector, found: list[Message]) -> None:
    outcomes: Counter[str] = Counter()
    codes = sorted({engine_code(code) for code in OUR_LANGUAGES})
    for message in (m for m in found if detect.worth_translating(m.text)):
        true = engine_code(message.language)
        for chosen in codes:
            if chosen == true:
                continue
            used = engine_code(detector.detect(message.text, chosen) or chosen)
            outcomes["right" if used == true else "kept" if used == chosen else "other"] += 1
            if {true, used} == {"ar", "fa"}:
                outcomes["ar/fa"] += 1
                if detect.focus(message.text)[0] == "ARABIC":
                    outcomes["ar/fa in Arabic script"] += 1
    print(
        f"\n{title}: {outcomes['right']} right, {outcomes['kept']} kept in the chosen"
        f" language, {outcomes['other']} taken for a third language;"
        f" Arabic and Farsi mixed up {outcomes['ar/fa']} times"
        f" ({outcomes['ar/fa in Arabic script']} in Arabic script, the rest romanised)"
    )


if __name__ == "__main__":
    main()
