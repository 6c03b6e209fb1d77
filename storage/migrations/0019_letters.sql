-- Letters (issue 24). A resident's letter is read on arrival; its text goes to the staff
-- group and to the resident and is never stored. A request keeps only what the queue needs:
-- the date to act by (found in the letter or set by staff with /deadline), whether it is an
-- estimate, the sender category (a key of bot/data/senders.yaml), and for which deadline a
-- reminder was already posted (so a restart posts it once).
ALTER TABLE requests ADD COLUMN deadline TEXT;            -- ISO date, Europe/Berlin
ALTER TABLE requests ADD COLUMN deadline_estimated INTEGER NOT NULL DEFAULT 0;
ALTER TABLE requests ADD COLUMN sender TEXT;
ALTER TABLE requests ADD COLUMN deadline_reminded TEXT;   -- the deadline reminded of
CREATE INDEX requests_deadline ON requests (deadline) WHERE deadline IS NOT NULL;

-- Staff's follow-ups ("Wiedervorlage"): at due_at, the note is posted in the resident's
-- topic, never to the resident. The note is staff's, about the resident: it goes with them
-- (/delete, /mydata), and the row goes once it is posted.
CREATE TABLE followups (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES residents (user_id) ON DELETE CASCADE,
    due_at      TEXT NOT NULL,
    note        TEXT NOT NULL,
    created_by  INTEGER NOT NULL,
    created_at  TEXT NOT NULL
) STRICT;
CREATE INDEX followups_due ON followups (due_at);
CREATE INDEX followups_user ON followups (user_id);
