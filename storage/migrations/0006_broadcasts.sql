-- Broadcasts: announcements to residents who subscribed to a topic.

-- Set when Telegram refuses to deliver to a resident (blocked the bot, account gone);
-- cleared as soon as they write again. No broadcast goes to an unreachable resident.
ALTER TABLE residents ADD COLUMN unreachable_since TEXT;

-- What a resident chose to hear about: an offer id of the directory, or 'general'.
-- Removed with the resident.
CREATE TABLE subscriptions (
    user_id     INTEGER NOT NULL REFERENCES residents (user_id) ON DELETE CASCADE,
    topic       TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (user_id, topic)
) STRICT, WITHOUT ROWID;
CREATE INDEX subscriptions_topic ON subscriptions (topic, user_id);

-- One announcement. texts is a JSON object {language: text}; German is always there.
-- report_* says where the coordinator confirmed it: progress and report go there.
CREATE TABLE broadcasts (
    id               INTEGER PRIMARY KEY,
    topic            TEXT NOT NULL,
    texts            TEXT NOT NULL,
    media_kind       TEXT CHECK (media_kind IN ('photo', 'document')),
    media_file_id    TEXT,
    created_by       INTEGER NOT NULL,
    created_at       TEXT NOT NULL,
    send_at          TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('scheduled', 'sending', 'done', 'cancelled')),
    started_at       TEXT,
    finished_at      TEXT,
    lang             TEXT NOT NULL,
    report_chat      INTEGER NOT NULL,
    report_thread    INTEGER,
    progress_message INTEGER,
    CHECK ((media_kind IS NULL) = (media_file_id IS NULL))
) STRICT;
CREATE INDEX broadcasts_status ON broadcasts (status, send_at);

-- The durable outbox: one row per recipient, written when the broadcast starts. The sender
-- claims a row ('sending') right before the request leaves and marks the outcome after it;
-- a row left 'sending' by a crash is never sent again ('unknown').
CREATE TABLE outbox (
    broadcast_id  INTEGER NOT NULL REFERENCES broadcasts (id) ON DELETE CASCADE,
    user_id       INTEGER NOT NULL REFERENCES residents (user_id) ON DELETE CASCADE,
    status        TEXT NOT NULL DEFAULT 'pending' CHECK (status IN
                  ('pending', 'sending', 'sent', 'failed', 'blocked', 'left', 'skipped', 'unknown')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    error         TEXT,
    PRIMARY KEY (broadcast_id, user_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX outbox_status ON outbox (broadcast_id, status, user_id);

-- A coordinator's announcement while it is being composed, step by step (one per
-- coordinator); it survives a restart and is deleted when confirmed or discarded.
CREATE TABLE broadcast_drafts (
    user_id        INTEGER PRIMARY KEY,
    chat_id        INTEGER NOT NULL,
    thread_id      INTEGER,
    step           TEXT NOT NULL,
    topic          TEXT,
    texts          TEXT NOT NULL DEFAULT '{}',
    media_kind     TEXT,
    media_file_id  TEXT,
    send_at        TEXT,
    updated_at     TEXT NOT NULL
) STRICT;
