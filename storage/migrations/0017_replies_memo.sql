-- A reply whose text must not be stored (a machine translation of a staff answer, issue 16)
-- keeps it in the process only: the row carries a random key (memo) and an empty text.
ALTER TABLE replies ADD COLUMN memo TEXT;
