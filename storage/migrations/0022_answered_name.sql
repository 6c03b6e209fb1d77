-- Who answered a request last, apart from who took it (/claim): answering no longer takes a
-- request, so /queue can say "answered by Aylin" without "taken by Aylin" (issue 22).
-- A staff first name like claimed_name; anonymised with it by retention and erasure.
ALTER TABLE requests ADD COLUMN answered_name TEXT;
