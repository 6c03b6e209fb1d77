-- Retention keeps the project's figures: a closed request past the retention period loses
-- whom it was from (user_id NULL) instead of disappearing, so /stats for the funding
-- period still counts it. SQLite cannot relax NOT NULL in place: rebuild the table.
CREATE TABLE requests_new (
    id                INTEGER PRIMARY KEY,
    user_id           INTEGER REFERENCES residents (user_id) ON DELETE CASCADE,
    state             TEXT NOT NULL CHECK (state IN ('open', 'claimed', 'answered', 'closed')),
    opened_at         TEXT NOT NULL,
    waiting_since     TEXT,
    last_message      TEXT NOT NULL,
    receipt_at        TEXT,
    claimed_by        INTEGER,
    claimed_name      TEXT,
    answered_at       TEXT,
    closed_at         TEXT,
    first_answered_at TEXT,
    CHECK (user_id IS NOT NULL OR state = 'closed')
) STRICT;
INSERT INTO requests_new (id, user_id, state, opened_at, waiting_since, last_message,
    receipt_at, claimed_by, claimed_name, answered_at, closed_at, first_answered_at)
    SELECT id, user_id, state, opened_at, waiting_since, last_message,
    receipt_at, claimed_by, claimed_name, answered_at, closed_at, first_answered_at
    FROM requests;
DROP TABLE requests;
ALTER TABLE requests_new RENAME TO requests;
CREATE INDEX requests_user ON requests (user_id, id);
CREATE INDEX requests_waiting ON requests (state, waiting_since);
CREATE INDEX requests_opened ON requests (opened_at, first_answered_at, user_id);
CREATE INDEX requests_last_message ON requests (last_message, user_id);
