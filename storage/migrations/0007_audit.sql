-- Staff actions that touch a resident. resident_id is kept as a number only (no foreign
-- key): when a resident deletes their data, their audit entries are anonymised, not lost.
CREATE TABLE audit (
    id          INTEGER PRIMARY KEY,
    at          TEXT NOT NULL,
    actor_id    INTEGER NOT NULL,
    action      TEXT NOT NULL,
    resident_id INTEGER,
    detail      TEXT NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_at ON audit (at);
CREATE INDEX audit_resident ON audit (resident_id);
