-- 007: guest speakers of lectures (issue 15): invited by name, no account; the link's
-- code is kept only as a hash.

CREATE TABLE lecture_guests (
    id         INTEGER PRIMARY KEY,
    lecture_id INTEGER NOT NULL REFERENCES lectures (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    code_hash  TEXT NOT NULL UNIQUE,
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    joined_at  INTEGER,          -- first time the guest took a token
    revoked_at INTEGER
);
CREATE INDEX lecture_guests_lecture ON lecture_guests (lecture_id);
