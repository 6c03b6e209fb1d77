-- A closure's reason as a key from a short list (illness, training, holiday, building,
-- other) that residents read in their language; the free-text column `reason` now holds
-- only the staff's extra words, shown to residents as a note from the office. Closures
-- stored before this migration keep their free text as that note.
ALTER TABLE closures ADD COLUMN reason_key TEXT NOT NULL DEFAULT 'other';
