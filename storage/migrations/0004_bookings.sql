-- Appointments. One row per seat taken; a seat is held by a resident's request, a confirmed
-- booking, or a waiting-list hold. The partial unique indexes are the last line of defence
-- against double booking: the booking transaction picks a free seat number (1..seats of the
-- offer) after counting, and two rows can never share a seat of a slot, nor can one resident
-- hold the same slot twice, whatever the Python above does.
CREATE TABLE bookings (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL,
    offer_id      TEXT NOT NULL,
    place_id      TEXT NOT NULL,
    starts_at     TEXT NOT NULL,
    ends_at       TEXT NOT NULL,
    seat          INTEGER NOT NULL CHECK (seat >= 1),
    status        TEXT NOT NULL CHECK (status IN
                    ('held', 'requested', 'confirmed', 'attended', 'no_show',
                     'cancelled', 'declined', 'expired')),
    -- a short note on the topic, written by the resident for the counsellor
    note          TEXT NOT NULL DEFAULT '' CHECK (length(note) <= 200),
    hold_until    TEXT,
    coming_at     TEXT,
    cancelled_by  TEXT CHECK (cancelled_by IN ('resident', 'staff', 'closure', 'moved')),
    cancel_reason TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    CHECK (starts_at < ends_at),
    CHECK ((status = 'held') = (hold_until IS NOT NULL) OR status = 'expired')
) STRICT;
CREATE UNIQUE INDEX bookings_one_per_seat ON bookings (offer_id, place_id, starts_at, seat)
    WHERE status IN ('held', 'requested', 'confirmed', 'attended', 'no_show');
CREATE UNIQUE INDEX bookings_one_per_resident_and_slot ON bookings (user_id, offer_id, starts_at)
    WHERE status IN ('held', 'requested', 'confirmed', 'attended', 'no_show');
CREATE INDEX bookings_by_time ON bookings (starts_at);
CREATE INDEX bookings_by_user ON bookings (user_id, starts_at);

-- Reminders still to send survive restarts here; sent_at is set before sending, so a
-- reminder is never sent twice.
CREATE TABLE booking_reminders (
    id            INTEGER PRIMARY KEY,
    booking_id    INTEGER NOT NULL REFERENCES bookings (id) ON DELETE CASCADE,
    offset_s      INTEGER NOT NULL CHECK (offset_s > 0),
    due_at        TEXT NOT NULL,
    sent_at       TEXT,
    UNIQUE (booking_id, offset_s)
) STRICT;
CREATE INDEX booking_reminders_unsent ON booking_reminders (due_at) WHERE sent_at IS NULL;

-- Residents waiting for a seat of an offer (place NULL: any place). A freed seat is held
-- for the first in line (a 'held' booking) until they take it or the hold expires.
CREATE TABLE booking_waitlist (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL,
    offer_id      TEXT NOT NULL,
    place_id      TEXT,
    status        TEXT NOT NULL CHECK (status IN ('waiting', 'offered', 'done')),
    booking_id    INTEGER REFERENCES bookings (id) ON DELETE SET NULL,
    created_at    TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX booking_waitlist_once ON booking_waitlist (user_id, offer_id)
    WHERE status IN ('waiting', 'offered');

-- Where a resident is in the booking flow, so a restart mid-flow loses nothing and old
-- buttons can be recognised (flow is a counter, carried in every button of the flow).
CREATE TABLE booking_drafts (
    user_id       INTEGER PRIMARY KEY,
    flow          INTEGER NOT NULL,
    offer_id      TEXT NOT NULL,
    place_id      TEXT,
    day           TEXT,
    starts_at     TEXT,
    note          TEXT NOT NULL DEFAULT '',
    step          TEXT NOT NULL CHECK (step IN ('place', 'day', 'time', 'note', 'summary', 'done')),
    replaces      INTEGER,
    booking_id    INTEGER,
    updated_at    TEXT NOT NULL
) STRICT;
