-- Issue 16: machine translation and voice transcription (the lead may renumber this file).
--
-- No translation or transcript text is stored here. A translation posted into the staff
-- group is kept in the bot's memory only; its outbox row carries a key to it ("memo"),
-- and a row whose text was lost in a restart is not posted.
ALTER TABLE staff_outbox ADD COLUMN memo TEXT;

-- Voice messages waiting to be transcribed: the Telegram file id and which resident message
-- it was (to reply to its copy in the topic), never the audio or its text. Retried at start.
CREATE TABLE voice_pending (
    id                  INTEGER PRIMARY KEY,
    user_id             INTEGER NOT NULL REFERENCES residents (user_id) ON DELETE CASCADE,
    resident_message_id INTEGER NOT NULL,
    file_id             TEXT NOT NULL,
    duration            INTEGER,
    language            TEXT NOT NULL,
    created_at          TEXT NOT NULL,
    attempts            INTEGER NOT NULL DEFAULT 0
) STRICT;

-- /stats: residents' messages per day and language, and how many of them were machine
-- translated or transcribed. Counters only: no link to a resident or a message.
CREATE TABLE language_counts (
    day         TEXT NOT NULL,   -- YYYY-MM-DD (UTC)
    language    TEXT NOT NULL,
    messages    INTEGER NOT NULL DEFAULT 0,
    translated  INTEGER NOT NULL DEFAULT 0,
    transcribed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (day, language)
) STRICT;
