-- 004: the citizen's way in and the centre's loop (issue 11): network-wide case numbers,
-- boards and channels, assessment, alerts, departments, transfers, supervision items with
-- owners and notes, closing and reopening, follow-ups, citizen feedback, photos, leader
-- slots and bookings, and each centre's standing duty reception.

-- A centre's short name in case numbers: (2026)东城调字第0001号. Unique, so numbers are.
ALTER TABLE centres ADD COLUMN abbr TEXT NOT NULL DEFAULT '';
UPDATE centres SET abbr = rtrim(replace(replace(name, '综治中心', ''), '中心', ''), '镇村乡 ');
UPDATE centres SET abbr = code WHERE abbr = '';
UPDATE centres SET abbr = abbr || code WHERE abbr IN (SELECT abbr FROM centres GROUP BY abbr HAVING COUNT(*) > 1);
CREATE UNIQUE INDEX centres_abbr ON centres (abbr);

-- departments stationed at a centre (court, police, petitions bureau, ...)
CREATE TABLE departments (
    id     INTEGER PRIMARY KEY,
    centre TEXT NOT NULL REFERENCES centres (code),
    kind   TEXT NOT NULL CHECK (kind IN ('court', 'police', 'petitions', 'justice', 'labour', 'women', 'procuratorate', 'civil_affairs', 'other')),
    name   TEXT NOT NULL,
    UNIQUE (centre, name)
);

ALTER TABLE cases ADD COLUMN board TEXT NOT NULL DEFAULT 'dispute';
ALTER TABLE cases ADD COLUMN channel TEXT NOT NULL DEFAULT 'walk_in';
ALTER TABLE cases ADD COLUMN kind TEXT NOT NULL DEFAULT 'case';        -- 'reception': a reception day's holder, not a request
ALTER TABLE cases ADD COLUMN major INTEGER NOT NULL DEFAULT 0;          -- 重大信息直报
ALTER TABLE cases ADD COLUMN notes TEXT NOT NULL DEFAULT '';            -- the assessment's notes (staff only)
ALTER TABLE cases ADD COLUMN address TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN department INTEGER REFERENCES departments (id);
ALTER TABLE cases ADD COLUMN informed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN tracking_code TEXT;
ALTER TABLE cases ADD COLUMN due_at INTEGER;                            -- resolve by (on-time rate, overdue)
ALTER TABLE cases ADD COLUMN satisfaction INTEGER CHECK (satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5);
ALTER TABLE cases ADD COLUMN feedback TEXT NOT NULL DEFAULT '';
ALTER TABLE cases ADD COLUMN feedback_at INTEGER;
ALTER TABLE cases ADD COLUMN assessed_at INTEGER;

UPDATE cases SET number = '(' || year || ')' || (SELECT abbr FROM centres WHERE code = cases.centre) || '调字第' || printf('%04d', seq) || '号';
UPDATE cases SET due_at = created_at + 30 * 86400000;
UPDATE cases SET kind = 'reception' WHERE id IN (SELECT case_id FROM sessions WHERE kind = 'reception')
    AND NOT EXISTS (SELECT 1 FROM parties WHERE parties.case_id = cases.id);
CREATE UNIQUE INDEX cases_number_unique ON cases (number);
CREATE UNIQUE INDEX cases_tracking ON cases (tracking_code) WHERE tracking_code IS NOT NULL;
CREATE INDEX cases_created ON cases (created_at);
CREATE INDEX cases_status_risk ON cases (status, risk);

-- an alert on a parent centre's screen: a red case below it, a yellow case in its villages,
-- a major report; a leader acknowledges it before ack_by
CREATE TABLE alerts (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    centre     TEXT NOT NULL REFERENCES centres (code),
    kind       TEXT NOT NULL CHECK (kind IN ('red', 'yellow', 'major')),
    created_at INTEGER NOT NULL,
    ack_by     INTEGER NOT NULL,
    acked_by   TEXT NOT NULL DEFAULT '',
    acked_at   INTEGER,
    overdue    INTEGER NOT NULL DEFAULT 0        -- set by the timer once ack_by passed unacknowledged
);
CREATE INDEX alerts_centre ON alerts (centre, acked_at);
CREATE INDEX alerts_case ON alerts (case_id);

CREATE TABLE transfers (
    id            INTEGER PRIMARY KEY,
    case_id       INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    from_centre   TEXT NOT NULL REFERENCES centres (code),
    to_centre     TEXT NOT NULL REFERENCES centres (code),   -- the department's centre for a department
    department    INTEGER REFERENCES departments (id),
    reason        TEXT NOT NULL,
    deadline      INTEGER NOT NULL,                          -- accept or return by
    state         TEXT NOT NULL CHECK (state IN ('pending', 'accepted', 'returned')),
    created_by    TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    decided_by    TEXT NOT NULL DEFAULT '',
    decided_at    INTEGER,
    return_reason TEXT NOT NULL DEFAULT '',
    overdue       INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX transfers_case ON transfers (case_id);
CREATE INDEX transfers_to ON transfers (to_centre, state);
CREATE UNIQUE INDEX transfers_one_pending ON transfers (case_id) WHERE state = 'pending';

ALTER TABLE supervision ADD COLUMN owner TEXT NOT NULL DEFAULT '';
ALTER TABLE supervision ADD COLUMN note TEXT NOT NULL DEFAULT '';
ALTER TABLE supervision ADD COLUMN done_note TEXT NOT NULL DEFAULT '';
ALTER TABLE supervision ADD COLUMN done_by TEXT NOT NULL DEFAULT '';
ALTER TABLE supervision ADD COLUMN done_at INTEGER;
ALTER TABLE supervision ADD COLUMN overdue INTEGER NOT NULL DEFAULT 0;   -- set by the timer
CREATE INDEX supervision_open ON supervision (done, deadline);

CREATE TABLE followups (
    id           INTEGER PRIMARY KEY,
    case_id      INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    method       TEXT NOT NULL,
    note         TEXT NOT NULL,
    satisfaction INTEGER CHECK (satisfaction IS NULL OR satisfaction BETWEEN 1 AND 5),
    created_by   TEXT NOT NULL,
    created_at   INTEGER NOT NULL
);
CREATE INDEX followups_case ON followups (case_id);

-- citizens' photos: the files are under <data>/intake/, the rows say which are whose
CREATE TABLE photos (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    name       TEXT NOT NULL UNIQUE,
    bytes      INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX photos_case ON photos (case_id);

-- a leader's published reception slot; its reception session is made with it
CREATE TABLE slots (
    id         INTEGER PRIMARY KEY,
    centre     TEXT NOT NULL REFERENCES centres (code),
    leader     TEXT NOT NULL REFERENCES staff (username),
    starts_at  INTEGER NOT NULL,
    ends_at    INTEGER NOT NULL,
    capacity   INTEGER NOT NULL CHECK (capacity > 0),
    session_id INTEGER NOT NULL REFERENCES sessions (id),
    created_by TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX slots_centre ON slots (centre, starts_at);

CREATE TABLE bookings (
    id            INTEGER PRIMARY KEY,
    slot_id       INTEGER NOT NULL REFERENCES slots (id),
    case_id       INTEGER NOT NULL REFERENCES cases (id),
    invitation_id INTEGER NOT NULL REFERENCES invitations (id),
    created_at    INTEGER NOT NULL
);
CREATE INDEX bookings_slot ON bookings (slot_id);
CREATE UNIQUE INDEX bookings_case ON bookings (case_id);

-- each centre's standing reception for video calls (视频反映)
CREATE TABLE duty_sessions (
    centre     TEXT PRIMARY KEY REFERENCES centres (code),
    session_id INTEGER NOT NULL REFERENCES sessions (id)
);
