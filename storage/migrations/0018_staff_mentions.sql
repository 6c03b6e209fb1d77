-- Which of the bot's posts in the staff group name a resident or quote them (booking
-- notices, reason pickers, closure notices, agendas, /queue answers), so that /delete and
-- the retention purge can delete them, or edit them down to the appointment's reference
-- where Telegram no longer lets a bot delete them (48 hours). Only ids and the kind of
-- post, never text. A resident's rows go with them: turned into redactions, which go once
-- done.

-- Whom a post still queued in staff_outbox names (a table of its own, so that a migration
-- rebuilding staff_outbox keeps it); moved to staff_mentions when the post is sent.
CREATE TABLE staff_outbox_mentions (
    item_id     INTEGER NOT NULL,   -- staff_outbox.id
    user_id     INTEGER NOT NULL,
    booking_id  INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    about       TEXT
) STRICT;
CREATE INDEX staff_outbox_mentions_item ON staff_outbox_mentions (item_id);
CREATE INDEX staff_outbox_mentions_user ON staff_outbox_mentions (user_id);

CREATE TABLE staff_mentions (
    message_id  INTEGER NOT NULL,   -- the bot's post in the staff group
    user_id     INTEGER NOT NULL,   -- the resident it names
    booking_id  INTEGER NOT NULL,   -- the appointment ("Termin #12"); queue: the request
    kind        TEXT NOT NULL CHECK (kind IN ('notice', 'picker', 'closure', 'agenda_daily',
                                              'agenda_day', 'agenda_week', 'queue')),
    about       TEXT,               -- agenda: the day of the line; closure: its number
    posted_at   TEXT NOT NULL,
    buttons     INTEGER NOT NULL DEFAULT 0 CHECK (buttons IN (0, 1)),
                                    -- a notice that still shows its buttons: they go when a
                                    -- later notice of the appointment (moved, cancelled) is posted
    PRIMARY KEY (message_id, booking_id)
) STRICT;
CREATE INDEX staff_mentions_user ON staff_mentions (user_id);
CREATE INDEX staff_mentions_booking ON staff_mentions (booking_id);

-- A post still to be deleted or edited down (durable: a crash mid-erasure resumes). No
-- resident: only the post, its kind and the appointment numbers to show as references.
CREATE TABLE staff_redactions (
    id          INTEGER PRIMARY KEY,
    message_id  INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    why         TEXT NOT NULL CHECK (why IN ('erased', 'expired')),
    bookings    TEXT NOT NULL,      -- JSON [[appointment number, about], ...]; copy: [[0, refs]]
    posted_at   TEXT NOT NULL,
    due_at      TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0
) STRICT;
