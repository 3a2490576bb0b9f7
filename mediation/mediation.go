// Package mediation is the domain: centres and tiers, staff, cases, sessions, invitations,
// lobby, caucus and receptions, and its HTTP JSON API under /api (docs/API.md).
//
// It decides who may see and hear whom and drives signaling through its control API;
// signaling enforces. It persists through store.
package mediation

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"yizhan/recording"
	"yizhan/signaling"
	"yizhan/store"
)

// RoomControl is the part of *signaling.Server that mediation drives. Tests of the HTTP
// rules may use a fake; media tests use the real server.
type RoomControl interface {
	Participants(room string) []signaling.Participant
	SetSpace(room, identity, space string) error
	SetAttributes(room, identity string, attrs map[string]string) error
	SetPermission(room, identity string, perm signaling.Permission) error
	MuteTrack(room, identity, trackSID string, muted bool) error
	LockSources(room, identity string, sources []string, locked bool) error
	RemoveParticipant(room, identity string) error
	CloseRoom(room string) error
	SetRoomMetadata(room, metadata string) error
	MintToken(spec signaling.TokenSpec) (string, error)
}

var _ RoomControl = (*signaling.Server)(nil)

// Config of the mediation service. Zero values are usable.
type Config struct {
	// PublicURL is where clients reach the server ("https://tiaojie.example.cn"):
	// invitation links, the websocket URL handed to clients and the Origin accepted on
	// state-changing calls derive from it, and cookies are Secure when it is https. Never
	// from a request's Host header, which the client chooses. The server always sets it
	// (--public-url); "" (tests of the HTTP rules only) takes scheme and host from the
	// test server's own connection.
	PublicURL string
	// SignalURL is the websocket base handed to clients ("wss://..."); "" derives it from
	// PublicURL (ws:// or wss://).
	SignalURL string
	// TokenTTL is how long a minted LiveKit token may be used to connect (default 15 min).
	TokenTTL time.Duration
	// LoginTTL is how long a staff login lasts (default 12 h).
	LoginTTL time.Duration
	// SecureCookies marks the session cookie Secure even on plain HTTP (behind a TLS proxy);
	// an https PublicURL implies it.
	SecureCookies bool
	// RejoinGrace: someone admitted who drops out (network) and rejoins within this time
	// returns to the space they were in instead of the lobby; not after a host removed,
	// denied or sent them back. Default 60 s; negative: always the lobby.
	RejoinGrace time.Duration
	// Recorder receives the recording plan of every live session (issue 4); nil = none.
	// Its failures and state changes come back through RecordingFailed and
	// RecordingChanged, which the caller wires (cmd/yizhan).
	Recorder Recorder
	// CaseDir is the data folder whose cases/ the case-file API serves (the recorder's
	// DataDir); "" = recording is not enabled on this server.
	CaseDir string
	// CaseKey is the public half of the key that seals the case files: served at
	// /api/signing-key and trusted by the verify endpoints; nil = none.
	CaseKey *recording.PublicKey
	// Documents: drafting, signing, sealing and confirmation (issue 10, documents.go).
	Documents DocumentsConfig
	// Now is the clock (tests); nil = time.Now.
	Now func() time.Time
	// Sleep holds a failure answer back (throttle.go); nil = a real, cancellable wait.
	// Tests record the holds instead of waiting.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Service is the mediation domain: an http.Handler for /api and signaling.Hooks.
type Service struct {
	cfg Config
	st  store.Store
	rc  RoomControl
	log *slog.Logger
	mux *http.ServeMux

	events    *broker
	loop      *caseLoop     // the case loop (issue 11); its timer ends in Close
	intake    *intake       // the citizen's way in (issue 11)
	loginUser *throttle     // failed logins per username
	loginAddr *throttle     // failed logins per client address
	joinAddr  *throttle     // failed invitation look-ups per client address
	hashDummy string        // compared against for unknown usernames (constant work)
	hits      limitCounters // bounds hit (limits.go)

	mu       sync.Mutex                     // guards knocks, notes, roomMeta, paused, rejoin, removed
	knocks   map[string]map[string]knockRec // room -> identity -> arrival in the lobby
	notes    map[string]map[string]string   // room -> identity -> note written on arrival
	roomMeta map[string]*metaSync           // room -> its metadata, see syncRoomMeta
	paused   map[int64]string               // session -> why a host stopped recording
	rejoin   map[string]rejoinRec           // room+"\x00"+identity -> where they were when they dropped
	removed  map[string]bool                // room+"\x00"+identity -> a host removed them: no rejoin
}

type rejoinRec struct {
	space string
	until time.Time
}

type knockRec struct {
	sid string
	at  time.Time
}

// New builds the service. rc is normally the *signaling.Server; call sig.SetHooks(svc).
func New(cfg Config, st store.Store, rc RoomControl, log *slog.Logger) *Service {
	if log == nil {
		log = slog.Default()
	}
	if cfg.TokenTTL <= 0 {
		cfg.TokenTTL = 15 * time.Minute
	}
	if cfg.LoginTTL <= 0 {
		cfg.LoginTTL = 12 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleepCtx
	}
	if cfg.RejoinGrace == 0 {
		cfg.RejoinGrace = time.Minute
	}
	s := &Service{
		cfg:       cfg,
		st:        st,
		rc:        rc,
		log:       log.With("part", "mediation"),
		events:    newBroker(),
		loginUser: newThrottle(3, time.Second, 8*time.Second, 15*time.Minute),
		loginAddr: newThrottle(10, time.Second, 8*time.Second, 15*time.Minute),
		joinAddr:  newThrottle(10, time.Second, 8*time.Second, 10*time.Minute),
		knocks:    map[string]map[string]knockRec{},
		notes:     map[string]map[string]string{},
		roomMeta:  map[string]*metaSync{},
		paused:    map[int64]string{},
		rejoin:    map[string]rejoinRec{},
		removed:   map[string]bool{},
	}
	s.routes()
	return s
}

// Handler serves /api/ (mount it at "/api/").
func (s *Service) Handler() http.Handler { return s.mux }

// Close ends the event streams. (The recorder is closed by its owner, after.)
func (s *Service) Close() {
	s.events.close()
	s.loop.close()
}

func (s *Service) now() time.Time { return s.cfg.Now().UTC() }

// bg returns a context for work done on behalf of a room event (no request context).
func bg() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

var _ signaling.Hooks = (*Service)(nil)
