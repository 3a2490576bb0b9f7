-- Timeline events carry structured data: what happened (kind), who did it (actor), to
-- whom (subject) and its fields as a JSON object of strings; the reader's app puts them
-- in the reader's language. detail stays for older events and free text.
ALTER TABLE case_events ADD COLUMN fields TEXT NOT NULL DEFAULT '';
