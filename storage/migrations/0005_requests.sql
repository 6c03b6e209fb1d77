-- Questions to counsellors (issue 6).
--
-- A request is one conversation of a resident with the counselling staff, from their first
-- message until staff close it. Its queue state: open -> claimed -> answered -> closed; a
-- new message from the resident makes it wait again. Content is never stored here: the
-- messages live in Telegram and are copied by reference.
CREATE TABLE requests (
    id            INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES residents (user_id) ON DELETE CASCADE,
    state         TEXT NOT NULL CHECK (state IN ('open', 'claimed', 'answered', 'closed')),
    opened_at     TEXT NOT NULL,
    waiting_since TEXT,            -- the oldest message nobody has answered yet
    last_message  TEXT NOT NULL,   -- the resident's latest message (receipt, retention)
    receipt_at    TEXT,            -- when the resident was last told we got it
    claimed_by    INTEGER,         -- staff user id
    claimed_name  TEXT,            -- staff first name, for /queue
    answered_at   TEXT,
    closed_at     TEXT
) STRICT;
CREATE INDEX requests_user ON requests (user_id, id);
CREATE INDEX requests_waiting ON requests (state, waiting_since);

-- Forum topics in the staff group, one current topic per resident. Older topics (deleted
-- or replaced) keep their row so that staff answering there still reach the resident.
-- In a group without topics there are no rows here: relay_map does the mapping.
CREATE TABLE staff_topics (
    thread_id     INTEGER PRIMARY KEY,
    user_id       INTEGER NOT NULL REFERENCES residents (user_id) ON DELETE CASCADE,
    name          TEXT NOT NULL,
    is_current    INTEGER NOT NULL DEFAULT 1 CHECK (is_current IN (0, 1)),
    closed        INTEGER NOT NULL DEFAULT 0 CHECK (closed IN (0, 1)),
    created_at    TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX staff_topics_current ON staff_topics (user_id) WHERE is_current = 1;

-- Which message in the staff group stands for which resident (and which of their
-- messages): staff answer by replying in groups without topics; edits find their original.
CREATE TABLE relay_map (
    staff_message_id    INTEGER PRIMARY KEY,
    user_id             INTEGER NOT NULL REFERENCES residents (user_id) ON DELETE CASCADE,
    resident_message_id INTEGER,
    created_at          TEXT NOT NULL
) STRICT;
CREATE INDEX relay_map_resident ON relay_map (user_id, resident_message_id);

-- Residents whose messages are no longer passed on (abuse). No FK: a ban outlives the
-- resident's other data.
CREATE TABLE bans (
    user_id     INTEGER PRIMARY KEY,
    reason      TEXT NOT NULL,
    banned_by   INTEGER NOT NULL,
    banned_at   TEXT NOT NULL,
    notified_at TEXT
) STRICT;

-- The one durable, paced outbox for everything the bot posts into the staff group.
-- Resident messages are stored as references (from_chat_id + message ids), never their
-- content; texts written by the bot are cleared once sent. Sent rows stay for a day so the
-- pacing window survives a restart.
CREATE TABLE staff_outbox (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('text', 'copy', 'forward', 'close_topic', 'reopen_topic')),
    priority      INTEGER NOT NULL DEFAULT 0,
    user_id       INTEGER,          -- goes into this resident's topic
    thread_id     INTEGER,          -- or into this thread (NULL: the general chat)
    text          TEXT,
    markup        TEXT,             -- inline keyboard as JSON
    from_chat_id  INTEGER,
    message_ids   TEXT,             -- JSON list, more than one for an album
    group_key     TEXT,             -- media_group_id: album parts are sent together
    reply_to_resident_message INTEGER,  -- reply to the staff copy of this resident message
    reply_to      INTEGER,          -- reply to this staff group message
    created_at    TEXT NOT NULL,
    due_at        TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    sent_at       TEXT,
    cost          INTEGER NOT NULL DEFAULT 0,   -- messages it took (topic, card, header)
    failed        TEXT
) STRICT;
CREATE INDEX staff_outbox_pending ON staff_outbox (sent_at, priority, id);
