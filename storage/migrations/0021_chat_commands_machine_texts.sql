-- Issue 23. Which command list was published for a resident's private chat (language and a
-- digest of the lists), so that it follows /language and a new version's commands; it goes
-- with the resident's row.
ALTER TABLE residents ADD COLUMN commands TEXT;

-- Broadcast texts drafted by machine translation from the German one: the languages whose
-- text is such a draft (JSON list). The coordinator sees them marked and can replace them;
-- residents read them with a note that a machine translated them.
ALTER TABLE broadcast_drafts ADD COLUMN machine TEXT NOT NULL DEFAULT '[]';
ALTER TABLE broadcasts ADD COLUMN machine TEXT NOT NULL DEFAULT '[]';
