-- Closures added by coordinators from the chat (the directory file holds the rest).
-- place_id NULL closes every place.
CREATE TABLE closures (
    id          INTEGER PRIMARY KEY,
    place_id    TEXT,
    first_day   TEXT NOT NULL,
    last_day    TEXT NOT NULL,
    reason      TEXT NOT NULL,
    created_by  INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    CHECK (first_day <= last_day)
) STRICT;
CREATE INDEX closures_days ON closures (last_day, first_day);
