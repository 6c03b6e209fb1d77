-- Who answered a request last, apart from who took it (/claim): answering no longer takes a
-- request, so /queue can say "answered by Aylin" without "taken by Aylin" (issue 22).
-- A staff first name like claimed_name; anonymised with it by retention and erasure.
ALTER TABLE requests ADD COLUMN answered_name TEXT;

-- Which staff-group messages carry the buttons of one thing (a booking notice: "booking:12"),
-- so that the buttons go when it is moved or cancelled (issue 22). Only the tag and message
-- ids, no content; the rows go when the buttons are removed, or after 90 days.
ALTER TABLE staff_outbox ADD COLUMN tag TEXT;
CREATE TABLE staff_buttons (
    tag TEXT NOT NULL,
    message_id INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (tag, message_id)
);
