-- "Did we help you?": answers are kept only as counts per month and language, never
-- linked to a resident or a request.
CREATE TABLE feedback_counts (
    month    TEXT NOT NULL,  -- local month, 'YYYY-MM'
    language TEXT NOT NULL,
    helped   INTEGER NOT NULL CHECK (helped IN (0, 1)),
    count    INTEGER NOT NULL CHECK (count > 0),
    PRIMARY KEY (month, language, helped)
) STRICT;

-- The one-time token behind the buttons of a question not answered yet: random, naming
-- nobody, deleted when used (so a second tap counts nothing) or after a while.
CREATE TABLE feedback_tokens (
    token      TEXT PRIMARY KEY,
    language   TEXT NOT NULL,
    created_on TEXT NOT NULL  -- local day only
) STRICT;
