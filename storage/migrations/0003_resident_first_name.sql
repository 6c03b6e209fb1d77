-- Staff see a first name (agenda, topic names); Telegram's first name, nothing more.
ALTER TABLE residents ADD COLUMN first_name TEXT NOT NULL DEFAULT '';
