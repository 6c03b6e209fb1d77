-- One row the health check rewrites: proof that the database accepts writes right now
-- (a full disk or a read-only file shows here before a resident's booking fails).
CREATE TABLE health_probe (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    checked_at  TEXT NOT NULL
) STRICT;
