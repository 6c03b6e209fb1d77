-- Issue 18 (appointments as an office lives them). A move changes the booking in place:
-- its id (and the calendar UID) stay, sequence counts the changes for calendar apps.
-- interpreter: the language a resident asked for an interpreter or language support in.
ALTER TABLE bookings ADD COLUMN sequence INTEGER NOT NULL DEFAULT 0;
ALTER TABLE bookings ADD COLUMN interpreter TEXT;
ALTER TABLE booking_drafts ADD COLUMN interpreter TEXT;

-- The daily agenda posted into the staff group: one row per day, so a restart never
-- posts it twice.
CREATE TABLE agenda_posts (
    day        TEXT PRIMARY KEY,
    posted_at  TEXT NOT NULL
) STRICT;
