-- Figures for the project (/stats, /export).

-- When staff first answered a request. answered_at moves with every later answer, so the
-- time to first answer needs its own column; for requests answered before this migration
-- the latest answer is the best we know.
ALTER TABLE requests ADD COLUMN first_answered_at TEXT;
UPDATE requests SET first_answered_at = answered_at WHERE answered_at IS NOT NULL;

-- Ranges over time for the period of a report; language rides along so counting new
-- residents per language never touches the table.
CREATE INDEX residents_created ON residents (created_at, language);
CREATE INDEX residents_last_seen ON residents (last_seen);
CREATE INDEX requests_opened ON requests (opened_at, first_answered_at, user_id);
CREATE INDEX requests_last_message ON requests (last_message, user_id);
CREATE INDEX bookings_created ON bookings (created_at, user_id);
-- Covers the appointment counts by week, offer and place: no table lookups.
CREATE INDEX bookings_stats ON bookings
    (starts_at, status, cancelled_by, offer_id, place_id, user_id);
CREATE INDEX broadcasts_started ON broadcasts (started_at);
