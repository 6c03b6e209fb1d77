"""The directory of offers, places and opening hours ("when and where can I get help?").

- :mod:`bot.directory.model`: the frozen dataclasses (no I/O),
- :mod:`bot.directory.loader`: the YAML file, validated with line numbers,
- :mod:`bot.directory.hours`: opening periods, holidays and closures applied.

The public names are re-exported here, so ``from bot.directory import X`` is the one
import path for the rest of the code base.
"""

from bot.directory.hours import (
    DEFAULT_HORIZON,
    next_open,
    occurrences,
    open_between,
    public_holiday,
    status_now,
)
from bot.directory.loader import DirectoryError, Problem, load_directory
from bot.directory.model import (
    CLOSURE_REASONS,
    DEFAULT_PATH,
    DEFAULT_TZ,
    FALLBACK_LANG,
    LANGS,
    OFFICE_ID,
    WEEKDAYS,
    Address,
    ClosedReason,
    Closure,
    ClosureLike,
    Contact,
    Directory,
    FieldOfAction,
    Occurrence,
    Offer,
    OneOff,
    Partner,
    Place,
    Project,
    Session,
    Status,
    Text,
    Topic,
    WeeklyHours,
)

__all__ = [
    "CLOSURE_REASONS",
    "DEFAULT_HORIZON",
    "DEFAULT_PATH",
    "DEFAULT_TZ",
    "FALLBACK_LANG",
    "LANGS",
    "OFFICE_ID",
    "WEEKDAYS",
    "Address",
    "ClosedReason",
    "Closure",
    "ClosureLike",
    "Contact",
    "Directory",
    "DirectoryError",
    "FieldOfAction",
    "Occurrence",
    "Offer",
    "OneOff",
    "Partner",
    "Place",
    "Problem",
    "Project",
    "Session",
    "Status",
    "Text",
    "Topic",
    "WeeklyHours",
    "load_directory",
    "next_open",
    "occurrences",
    "open_between",
    "public_holiday",
    "status_now",
]
