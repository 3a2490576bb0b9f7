-- 001: the first schema. Times are INTEGER unix milliseconds (UTC); 0 or NULL = unset.

CREATE TABLE centres (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    tier       TEXT NOT NULL CHECK (tier IN ('city', 'township', 'village')),
    parent     TEXT REFERENCES centres (code),
    created_at INTEGER NOT NULL
);

CREATE TABLE staff (
    username      TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    centre        TEXT NOT NULL REFERENCES centres (code),
    gold          INTEGER NOT NULL DEFAULT 0,
    password_hash TEXT NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

CREATE TABLE staff_roles (
    username TEXT NOT NULL REFERENCES staff (username) ON DELETE CASCADE,
    role     TEXT NOT NULL CHECK (role IN ('mediator', 'judge', 'lawyer', 'counsellor', 'leader', 'clerk', 'observer', 'admin')),
    PRIMARY KEY (username, role)
);

CREATE TABLE auth_sessions (
    token_hash TEXT PRIMARY KEY,
    username   TEXT NOT NULL REFERENCES staff (username) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);

CREATE TABLE cases (
    id          INTEGER PRIMARY KEY,
    centre      TEXT NOT NULL REFERENCES centres (code),
    year        INTEGER NOT NULL,
    seq         INTEGER NOT NULL,
    number      TEXT NOT NULL,
    title       TEXT NOT NULL,
    category    TEXT NOT NULL,
    risk        TEXT NOT NULL CHECK (risk IN ('red', 'yellow', 'blue')),
    status      TEXT NOT NULL CHECK (status IN ('accepted', 'assessed', 'assigned', 'mediating', 'supervised', 'closed')),
    mediator    TEXT REFERENCES staff (username),
    outcome     TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    closed_at   INTEGER,
    UNIQUE (centre, number),
    UNIQUE (centre, year, seq),
    CHECK (status <> 'closed' OR outcome <> '')
);
CREATE INDEX cases_centre ON cases (centre, status);

CREATE TABLE parties (
    id      INTEGER PRIMARY KEY,
    case_id INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    name    TEXT NOT NULL,
    side    TEXT NOT NULL CHECK (side IN ('applicant', 'respondent')),
    phone   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX parties_case ON parties (case_id);

CREATE TABLE sessions (
    id             INTEGER PRIMARY KEY,
    case_id        INTEGER NOT NULL REFERENCES cases (id),
    kind           TEXT NOT NULL CHECK (kind IN ('mediation', 'reception', 'consultation')),
    title          TEXT NOT NULL,
    scheduled_at   INTEGER,
    room           TEXT NOT NULL UNIQUE,
    state          TEXT NOT NULL CHECK (state IN ('scheduled', 'live', 'ended')),
    caucus_policy  TEXT NOT NULL CHECK (caucus_policy IN ('off', 'sealed')),
    record_on_open INTEGER NOT NULL DEFAULT 1,
    created_by     TEXT NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL,
    started_at     INTEGER,
    ended_at       INTEGER
);
CREATE INDEX sessions_case ON sessions (case_id);

CREATE TABLE session_hosts (
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    username   TEXT NOT NULL REFERENCES staff (username),
    PRIMARY KEY (session_id, username)
);

-- staff pulled into a session (invite-staff)
CREATE TABLE session_staff (
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    username   TEXT NOT NULL REFERENCES staff (username),
    role       TEXT NOT NULL,
    invited_by TEXT NOT NULL,
    invited_at INTEGER NOT NULL,
    PRIMARY KEY (session_id, username)
);
CREATE INDEX session_staff_user ON session_staff (username);

CREATE TABLE case_events (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    time       INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    actor      TEXT NOT NULL DEFAULT '',
    session_id INTEGER REFERENCES sessions (id),
    subject    TEXT NOT NULL DEFAULT '',
    detail     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX case_events_case ON case_events (case_id, id);

CREATE TABLE invitations (
    id         INTEGER PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    session_id INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    role       TEXT NOT NULL CHECK (role IN ('party', 'agent', 'judge', 'lawyer', 'counsellor', 'expert', 'observer', 'interpreter')),
    side       TEXT NOT NULL DEFAULT '' CHECK (side IN ('', 'applicant', 'respondent')),
    name       TEXT NOT NULL,
    party_id   INTEGER REFERENCES parties (id),
    expires_at INTEGER NOT NULL,
    revoked    INTEGER NOT NULL DEFAULT 0,
    revoked_at INTEGER,
    created_by TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX invitations_session ON invitations (session_id);

-- a reception's queue: one row per arrival; done when an outcome is filed
CREATE TABLE reception_entries (
    id          INTEGER PRIMARY KEY,
    session_id  INTEGER NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    identity    TEXT NOT NULL,
    name        TEXT NOT NULL,
    arrived_at  INTEGER NOT NULL,
    admitted_at INTEGER,
    done_at     INTEGER,
    case_id     INTEGER REFERENCES cases (id),
    note        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX reception_entries_session ON reception_entries (session_id, arrived_at);

CREATE TABLE supervision (
    id         INTEGER PRIMARY KEY,
    case_id    INTEGER NOT NULL REFERENCES cases (id) ON DELETE CASCADE,
    unit       TEXT NOT NULL,
    deadline   INTEGER NOT NULL,
    done       INTEGER NOT NULL DEFAULT 0,
    created_by TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX supervision_case ON supervision (case_id);
