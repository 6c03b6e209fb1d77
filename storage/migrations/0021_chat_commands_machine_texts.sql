-- Issue 23. Which command list was published for a resident's private chat (language and a
-- digest of the lists), so that it follows /language and a new version's commands; it goes
-- with the resident's row.
ALTER TABLE residents ADD COLUMN commands TEXT;

-- Broadcast texts drafted by machine translation from the German one: the languages whose
-- text is such a draft (JSON list). The coordinator sees them marked and can replace them;
-- residents read them with a note that a machine translated them.
ALTER TABLE broadcast_drafts ADD COLUMN machine TEXT NOT NULL DEFAULT '[]';
ALTER TABLE broadcasts ADD COLUMN machine TEXT NOT NULL DEFAULT '[]';

-- The card that opened a resident's topic, so that its name and card follow /language.
ALTER TABLE staff_topics ADD COLUMN card_message_id INTEGER;

-- The staff lane renames a topic and edits its card ('retitle_topic'). SQLite cannot change
-- a CHECK in place: rebuild the table with the new kind (as 0012 did).
CREATE TABLE staff_outbox_new (
    id            INTEGER PRIMARY KEY,
    kind          TEXT NOT NULL CHECK (kind IN ('text', 'copy', 'forward', 'close_topic',
                                                'reopen_topic', 'delete_topic', 'delete_messages',
                                                'retitle_topic')),
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
    failed        TEXT,
    memo          TEXT              -- key of a text held in memory only (0011)
) STRICT;
INSERT INTO staff_outbox_new (id, kind, priority, user_id, thread_id, text, markup,
    from_chat_id, message_ids, group_key, reply_to_resident_message, reply_to, created_at,
    due_at, attempts, sent_at, cost, failed, memo)
    SELECT id, kind, priority, user_id, thread_id, text, markup, from_chat_id, message_ids,
    group_key, reply_to_resident_message, reply_to, created_at, due_at, attempts, sent_at,
    cost, failed, memo FROM staff_outbox;
DROP TABLE staff_outbox;
ALTER TABLE staff_outbox_new RENAME TO staff_outbox;
CREATE INDEX staff_outbox_pending ON staff_outbox (sent_at, priority, id);
