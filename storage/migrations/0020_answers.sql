-- The office's prepared answers (issue 25): kept by staff from the staff group, seeded once
-- from bot/data/answers.yaml. Nothing here names a resident except answer_offers.
CREATE TABLE answers (
    key        TEXT PRIMARY KEY,
    text       TEXT NOT NULL,            -- in the staff language
    phrases    TEXT NOT NULL DEFAULT '', -- how residents ask it, one per line
    updated_at TEXT NOT NULL
) STRICT;

-- Human translations of an answer, per resident language.
CREATE TABLE answer_translations (
    key      TEXT NOT NULL REFERENCES answers (key) ON DELETE CASCADE,
    language TEXT NOT NULL,
    text     TEXT NOT NULL,
    PRIMARY KEY (key, language)
) STRICT;

-- The search index: stemmed terms of every phrase (kind 'p') and answer (kind 'a'). Derived
-- from the tables above, rebuilt whenever the library changes.
CREATE VIRTUAL TABLE answer_terms USING fts5 (key UNINDEXED, kind UNINDEXED, terms);

-- Set once the shipped seed was loaded: an office that deletes an entry keeps it deleted.
CREATE TABLE answer_library (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    seeded_at TEXT NOT NULL
) STRICT;

-- An answer offered to a resident while they wait, until they tap a button (or it
-- expires): the one link between a resident and the library; goes with an erasure.
CREATE TABLE answer_offers (
    token      TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL,
    request_id INTEGER NOT NULL,
    key        TEXT NOT NULL,
    language   TEXT NOT NULL,
    created_on TEXT NOT NULL  -- local day only
) STRICT;
CREATE INDEX answer_offers_user ON answer_offers (user_id);

-- What prepared answers did, per month and language, naming nobody: 'suggested' (to staff),
-- 'offered' (to the resident), 'helped' (✅), 'talk' (💬), 'sent' (by staff: /reply or button).
CREATE TABLE answer_counts (
    month    TEXT NOT NULL,
    language TEXT NOT NULL,
    outcome  TEXT NOT NULL,
    count    INTEGER NOT NULL CHECK (count > 0),
    PRIMARY KEY (month, language, outcome)
) STRICT;
