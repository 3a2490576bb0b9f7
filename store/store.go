// Package store persists yizhan's domain data: centres, staff, cases, sessions, invitations,
// receptions and supervision items. It is a leaf (imports no yizhan package) and the only
// place database/sql appears. Store is the seam for a later PostgreSQL implementation;
// SQLite (modernc.org/sqlite, no cgo) is the first.
//
// The store keeps data invariants that must hold inside one transaction (case numbers,
// status transitions, outcomes filed together with their supervision item). Who may do what
// is decided by the caller (package mediation).
package store

import (
	"context"
	"errors"
	"time"
)

// Errors callers map to HTTP answers. Wrapped errors keep these as their cause.
var (
	ErrNotFound          = errors.New("not found")
	ErrExists            = errors.New("already exists")
	ErrIllegalTransition = errors.New("illegal status transition")
	ErrInvalid           = errors.New("invalid value")
)

// Vocabulary.
var (
	Tiers         = []string{"city", "township", "village"}
	Roles         = []string{"mediator", "judge", "lawyer", "counsellor", "leader", "clerk", "observer", "admin"}
	Statuses      = []string{"accepted", "assessed", "assigned", "mediating", "supervised", "closed"}
	Risks         = []string{"red", "yellow", "blue"}
	Categories    = []string{"marriage_family", "land", "neighbours", "labour_wages", "contracts", "property", "traffic", "medical", "consumer", "other"}
	Sides         = []string{"applicant", "respondent"}
	SessionKinds  = []string{"mediation", "reception", "consultation", "confirmation"}
	SessionStates = []string{"scheduled", "live", "ended"}
	CaucusPolicy  = []string{"off", "sealed"}
	InviteRoles   = []string{"party", "agent", "judge", "lawyer", "counsellor", "expert", "observer", "interpreter"}
)

// OneOf reports whether v is in set.
func OneOf(v string, set []string) bool {
	for _, s := range set {
		if s == v {
			return true
		}
	}
	return false
}

// NextStatus is the only status a case in status from may move to ("" for closed).
func NextStatus(from string) string {
	for i, s := range Statuses {
		if s == from && i+1 < len(Statuses) {
			return Statuses[i+1]
		}
	}
	return ""
}

type Centre struct {
	Code, Name, Tier string
	Parent           string // "" for the root (city)
	Abbr             string // short name in case numbers, unique; "" = derived from Name (see CentreAbbr)
}

type Staff struct {
	Username     string
	Name         string
	Centre       string
	Roles        []string // sorted
	Gold         bool
	PasswordHash string // argon2id, see HashPassword
	Disabled     bool
	CreatedAt    time.Time
}

// Has reports whether the staff member has role r.
func (s Staff) Has(r string) bool { return OneOf(r, s.Roles) }

type StaffFilter struct {
	Tier, Role, Query string
}

type Party struct {
	ID     int64
	CaseID int64
	Name   string
	Side   string
	Phone  string
}

type Case struct {
	ID          int64
	Number      string // e.g. (2026)东城调字第0001号, unique across the network
	Title       string
	Category    string
	Risk        string
	Status      string
	Centre      string
	Mediator    string // username or ""
	Outcome     string
	Description string
	CreatedBy   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
	Parties     []Party

	// The loop (issue 11, loop.go).
	Board        string // one of Boards; "" = dispute
	Channel      string // one of Channels; "" = walk_in
	Kind         string // "case", or "reception" for a reception day's holder (not counted)
	Major        bool   // 重大信息直报
	Notes        string // the assessment's notes
	Address      string
	Department   int64 // the department holding the case, 0 = none
	InformedBy   string
	TrackingCode string // the citizen's tracking code, "" = none
	DueAt        time.Time
	ClosedAt     time.Time
	Satisfaction int // 1-5, 0 = not rated
	Feedback     string
}

// CaseFilter selects cases. Under limits to the centre and every centre below it.
type CaseFilter struct {
	Under, Centre, Status, Risk string
	Limit                       int // 0 = 500
}

// CaseUpdate changes the non-nil fields.
type CaseUpdate struct {
	Status, Risk, Mediator, Outcome *string
}

type Event struct {
	ID        int64
	CaseID    int64
	Time      time.Time
	Kind      string
	Actor     string
	SessionID int64
	Subject   string
	Detail    string            // free text (events written before fields, and parts that have no fields)
	Fields    map[string]string // what happened as data, for the reader's app to put in words; nil if none
}

type Session struct {
	ID           int64
	CaseID       int64
	Kind         string
	Title        string
	ScheduledAt  time.Time // zero = unscheduled
	Hosts        []string
	Room         string
	State        string
	CaucusPolicy string
	RecordOnOpen bool
	CreatedBy    string
	CreatedAt    time.Time
	StartedAt    time.Time
	EndedAt      time.Time
}

// SessionFilter selects sessions. Under: sessions of cases of that centre and below;
// OrUser: also sessions the user hosts or was invited into.
type SessionFilter struct {
	Under, OrUser, State string
	CaseID               int64
	Limit                int
}

type SessionStaff struct {
	SessionID int64
	Username  string
	Role      string
	InvitedBy string
	InvitedAt time.Time
}

type Invitation struct {
	ID        int64
	Code      string
	SessionID int64
	Role      string
	Side      string
	Name      string
	PartyID   int64 // 0 = none
	ExpiresAt time.Time
	Revoked   bool
	CreatedBy string
	CreatedAt time.Time
}

// Valid reports whether the invitation may be used at now.
func (inv Invitation) Valid(now time.Time) bool { return !inv.Revoked && now.Before(inv.ExpiresAt) }

type ReceptionEntry struct {
	ID         int64
	SessionID  int64
	Identity   string
	Name       string
	ArrivedAt  time.Time
	AdmittedAt time.Time
	DoneAt     time.Time
	CaseID     int64
	Note       string
}

type Supervision struct {
	ID        int64
	CaseID    int64
	Unit      string
	Deadline  time.Time
	Done      bool
	CreatedBy string
	CreatedAt time.Time
}

// Outcome files the end of a reception conversation: into CaseID, or into NewCase when
// CaseID is 0, with an optional supervision item, all in one transaction.
type Outcome struct {
	SessionID int64
	Identity  string // the petitioner's participant identity (marks its queue entry done)
	Note      string
	Actor     string
	CaseID    int64
	NewCase   Case
	Supervise *Supervision
}

type StatRow struct {
	Key              string
	Accepted, Closed int
}

// Store is everything the domain persists. All methods are safe for concurrent use.
type Store interface {
	Close() error
	Documents // documents.go (issue 10)

	AddCentre(ctx context.Context, c Centre) error
	Centre(ctx context.Context, code string) (Centre, error)
	Centres(ctx context.Context) ([]Centre, error)
	// Under reports whether centre code is root or below it.
	Under(ctx context.Context, root, code string) (bool, error)

	AddStaff(ctx context.Context, s Staff) error
	Staff(ctx context.Context, username string) (Staff, error)
	ListStaff(ctx context.Context, f StaffFilter) ([]Staff, error)
	SetPassword(ctx context.Context, username, hash string) error

	CreateAuthSession(ctx context.Context, tokenHash, username string, expires time.Time) error
	AuthSession(ctx context.Context, tokenHash string) (username string, expires time.Time, err error)
	DeleteAuthSession(ctx context.Context, tokenHash string) error

	// CreateCase allocates the case number (YYYY-NNNN per centre and year) in the same
	// transaction and records a "created" event by c.CreatedBy.
	CreateCase(ctx context.Context, c Case) (Case, error)
	Case(ctx context.Context, id int64) (Case, error)
	ListCases(ctx context.Context, f CaseFilter) ([]Case, error)
	// UpdateCase applies u and records the matching timeline events by actor in one
	// transaction; a status change must be the one allowed step (ErrIllegalTransition) and
	// closed needs an outcome (ErrInvalid).
	UpdateCase(ctx context.Context, id int64, u CaseUpdate, actor string) (Case, error)
	AddEvent(ctx context.Context, ev Event) (Event, error)
	Timeline(ctx context.Context, caseID int64) ([]Event, error)
	Stats(ctx context.Context, by, under string) ([]StatRow, error)

	CreateSession(ctx context.Context, s Session) (Session, error)
	Session(ctx context.Context, id int64) (Session, error)
	SessionByRoom(ctx context.Context, room string) (Session, error)
	ListSessions(ctx context.Context, f SessionFilter) ([]Session, error)
	SetSessionState(ctx context.Context, id int64, state string) error
	AddSessionStaff(ctx context.Context, ss SessionStaff) error
	SessionStaff(ctx context.Context, sessionID int64) ([]SessionStaff, error)

	CreateInvitation(ctx context.Context, inv Invitation) (Invitation, error)
	Invitation(ctx context.Context, code string) (Invitation, error)
	InvitationByID(ctx context.Context, id int64) (Invitation, error)
	ListInvitations(ctx context.Context, sessionID int64) ([]Invitation, error)
	RevokeInvitation(ctx context.Context, code string) error

	// Arrive adds identity to a session's reception queue unless it already has an entry
	// that is not done (a reconnect keeps its place).
	Arrive(ctx context.Context, e ReceptionEntry) (ReceptionEntry, error)
	Queue(ctx context.Context, sessionID int64) ([]ReceptionEntry, error) // entries not done, arrival order
	MarkAdmitted(ctx context.Context, sessionID int64, identity string, at time.Time) error
	FileOutcome(ctx context.Context, o Outcome) (Case, *Supervision, error)
	Supervisions(ctx context.Context, caseID int64) ([]Supervision, error)

	Loop          // loop.go: assessment, alerts, transfers, supervision items, close and reopen (issue 11)
	Intake        // intake.go: tracking codes, photos, feedback, duty receptions, slots, bookings (issue 11)
	Statistics    // stats.go: the city screen's counts and the paged case list (issue 11)
	Lectures      // lectures.go (issue 15)
	LectureGuests // lecture_guests.go (issue 15: guest speakers)
}
