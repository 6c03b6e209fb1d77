-- Residents: only what serves the conversation. Telegram user id (to answer), the chosen
-- language, when consent was given, and when we first and last heard from them (for
-- retention). No names, no phone numbers.
CREATE TABLE residents (
    user_id     INTEGER PRIMARY KEY,
    language    TEXT NOT NULL,
    consent_at  TEXT,
    created_at  TEXT NOT NULL,
    last_seen   TEXT NOT NULL
) STRICT;
