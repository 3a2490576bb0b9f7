-- 006: rule-of-law lectures (issue 15): sessions of their own kind, owned by a centre.

CREATE TABLE lectures (
    id           INTEGER PRIMARY KEY,
    centre       TEXT NOT NULL REFERENCES centres (code),
    title        TEXT NOT NULL,
    room         TEXT NOT NULL UNIQUE,
    state        TEXT NOT NULL CHECK (state IN ('scheduled', 'live', 'ended')),
    scheduled_at INTEGER NOT NULL,
    created_by   TEXT NOT NULL,
    created_at   INTEGER NOT NULL,
    started_at   INTEGER,
    ended_at     INTEGER,
    peak         INTEGER NOT NULL DEFAULT 0, -- most viewers at once
    archive      TEXT NOT NULL DEFAULT ''     -- the program recording, relative to the data dir
);
CREATE INDEX lectures_centre ON lectures (centre, scheduled_at);

CREATE TABLE lecture_speakers (
    lecture_id INTEGER NOT NULL REFERENCES lectures (id) ON DELETE CASCADE,
    username   TEXT NOT NULL REFERENCES staff (username),
    PRIMARY KEY (lecture_id, username)
);

-- One row per viewer token handed out; joined_at is set when it actually connected.
CREATE TABLE lecture_viewers (
    lecture_id INTEGER NOT NULL REFERENCES lectures (id) ON DELETE CASCADE,
    identity   TEXT NOT NULL,
    name       TEXT NOT NULL DEFAULT '',
    centre     TEXT NOT NULL DEFAULT '', -- a centre code, or what a viewer typed (a village)
    kind       TEXT NOT NULL CHECK (kind IN ('viewer', 'screen')),
    people     INTEGER NOT NULL DEFAULT 1 CHECK (people >= 1),
    token_hash TEXT NOT NULL,
    issued_at  INTEGER NOT NULL,
    joined_at  INTEGER,
    left_at    INTEGER,
    PRIMARY KEY (lecture_id, identity)
);

CREATE TABLE lecture_centre_peaks (
    lecture_id INTEGER NOT NULL REFERENCES lectures (id) ON DELETE CASCADE,
    centre     TEXT NOT NULL,
    peak       INTEGER NOT NULL,
    PRIMARY KEY (lecture_id, centre)
);

CREATE TABLE lecture_questions (
    id          INTEGER PRIMARY KEY,
    lecture_id  INTEGER NOT NULL REFERENCES lectures (id) ON DELETE CASCADE,
    identity    TEXT NOT NULL,
    name        TEXT NOT NULL DEFAULT '',
    centre      TEXT NOT NULL DEFAULT '',
    text        TEXT NOT NULL,
    hand        INTEGER NOT NULL DEFAULT 0, -- a raised hand rather than a written question
    asked_at    INTEGER NOT NULL,
    answered_at INTEGER
);
CREATE INDEX lecture_questions_lecture ON lecture_questions (lecture_id, id);
