-- Replies that matter (receipts, confirmations, staff answers): written down before they
-- are sent, so that a 429 storm of any length or a restart never loses one. The replies
-- lane sends them in order per chat and marks them 'sent' only after Telegram accepted
-- them. A row is claimed ('sending') right before its request leaves; a row a crash left
-- 'sending' may have arrived and is never sent again ('unknown').
-- after_kind/after_arg name what to record once Telegram accepted the message (e.g. that
-- the resident was given the receipt); a dedupe_key is sent at most once (while its row is
-- kept: a week after it was done).
CREATE TABLE replies (
    id          INTEGER PRIMARY KEY,
    chat_id     INTEGER NOT NULL,
    text        TEXT,
    parse_mode  TEXT,
    markup      TEXT,
    -- a copy of a message (e.g. a staff answer) instead of a text; text is then its caption
    from_chat_id     INTEGER,
    from_message_id  INTEGER,
    after_kind  TEXT,
    after_arg   TEXT,
    dedupe_key  TEXT,
    status      TEXT NOT NULL DEFAULT 'pending' CHECK (status IN
                ('pending', 'sending', 'sent', 'failed', 'unknown')),
    attempts    INTEGER NOT NULL DEFAULT 0,
    error       TEXT,
    message_id  INTEGER,
    created_at  TEXT NOT NULL,
    done_at     TEXT,
    CHECK (text IS NOT NULL OR from_message_id IS NOT NULL)
) STRICT;
CREATE INDEX replies_open ON replies (status, chat_id, id);
CREATE UNIQUE INDEX replies_key ON replies (dedupe_key) WHERE dedupe_key IS NOT NULL;
