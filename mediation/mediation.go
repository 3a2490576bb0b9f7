// Package mediation is the domain: centres and tiers, staff, cases, sessions, invitations,
// lobby, caucus and receptions, and its HTTP JSON API under /api (docs/API.md).
//
// It decides who may see and hear whom and drives signaling through its control API;
// signaling enforces. It persists through store. Each live session has one owner, a
// liveRoom (liveroom.go) run by its own goroutine; signaling's hooks only enqueue to it.
package mediation

import (
	"context"
	"log/slog"
	"net/http"
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
	// JoinTimeout bounds how long signaling's Joining hook waits for the room's owner to
	// decide where a participant lands; past it the join is refused (the client retries).
	// Default 5 s.
	JoinTimeout time.Duration
	// CloseWait bounds how long Close waits for the live rooms' goroutines to finish what
	// is queued (the leaves of a server shutting down reach the timeline). A room stuck in
	// the store past it is logged and left behind: a stuck disk must not hang shutdown.
	// Default 30 s.
	CloseWait time.Duration
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
	// Lectures configures the lecture part (issue 15).
	Lectures LectureConfig
	// Now is the clock (tests); nil = time.Now.
	Now func() time.Time
	// Sleep holds a failure answer back (throttle.go); nil = a real, cancellable wait.
	// Tests record the holds instead of waiting.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Service is the mediation domain: an http.Handler for /api and signaling.Hooks. It only
// wires the parts together; each part is its own type with its own dependencies.
type Service struct {
	*core // shared dependencies and helpers (core.go)

	// static after construction
	rooms  *liveRooms // every live room's owner (liverooms.go)
	mux    *http.ServeMux
	auth   *authAPI     // login, logout, me, staff, centres (auth.go)
	cases  *casesAPI    // cases and statistics (cases.go)
	sess   *sessionsAPI // sessions and invitations (sessions.go)
	join   *joinAPI     // invitation links and tokens (join.go)
	live   *liveAPI     // the live view and host controls (live.go, reception.go)
	files  *caseFileAPI // the case file (casefolder_api.go, sessionfiles_api.go)
	loop   *caseLoop    // the case loop (issue 11, loop.go); its timer ends in Close
	intake *intake      // the citizen's way in (issue 11, intake.go)
	// lecture*.go: a part of the domain of its own (issue 15)
	lectures *lectures
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
	if cfg.JoinTimeout <= 0 {
		cfg.JoinTimeout = 5 * time.Second
	}
	if cfg.CloseWait <= 0 {
		cfg.CloseWait = 30 * time.Second
	}
	c := &core{cfg: cfg, st: st, rc: rc, log: log.With("part", "mediation"), events: newBroker()}
	rooms := newLiveRooms(c)
	s := &Service{
		core:  c,
		rooms: rooms,
		auth: &authAPI{core: c, // failures slowed, never locked out (throttle.go)
			loginUser: newThrottle(3, time.Second, 8*time.Second, 15*time.Minute),
			loginAddr: newThrottle(10, time.Second, 8*time.Second, 15*time.Minute)},
		cases: &casesAPI{core: c},
		sess:  &sessionsAPI{core: c, rooms: rooms},
		join:  &joinAPI{core: c, rooms: rooms, joinAddr: newThrottle(10, time.Second, 8*time.Second, 10*time.Minute)},
		live:  &liveAPI{core: c, rooms: rooms},
	}
	s.files = &caseFileAPI{core: c}
	s.lectures = newLectures(s, cfg.Lectures)
	s.routes()
	return s
}

// Handler serves /api/ (mount it at "/api/").
func (s *Service) Handler() http.Handler { return s.mux }

// Close ends the event streams and the live rooms' goroutines. (The recorder is closed
// by its owner, after.)
func (s *Service) Close() {
	s.rooms.close()
	s.events.close()
	s.loop.close()
	s.lectures.close()
}

// Joining implements signaling.Hooks: the room's owner decides where a participant lands
// (see liveRooms.joining for why this one hook waits).
func (s *Service) Joining(room string, p signaling.Participant) (string, error) {
	if isLectureRoom(room) {
		return s.lectures.joining(room, p)
	}
	return s.rooms.joining(room, p)
}

// Event implements signaling.Hooks: it only enqueues to the room's owner.
func (s *Service) Event(ev signaling.Event) {
	if isLectureRoom(ev.Room) {
		s.lectures.event(ev) // enqueues to the lecture's owner (lecture_live.go)
		return
	}
	s.rooms.event(ev)
}

// RecordingFailed tells the hosts at once that recording failed in a session (a writer,
// the case file's event log, the seal); the timeline keeps it. Wire it to the recorder's
// OnError.
func (s *Service) RecordingFailed(sessionID int64, err error) {
	s.rooms.recordingFailed(sessionID, err)
}

// RecordingChanged: recording started or stopped; the room's banner and the hosts
// follow. Wire it to the recorder's OnState.
func (s *Service) RecordingChanged(sessionID int64) { s.rooms.recordingChanged(sessionID) }

// setNote keeps what a guest wrote on arrival for the live view of room (the timeline
// has it too). It only enqueues to the room's owner, ahead of the guest's join.
func (s *Service) setNote(room, identity, note string) {
	if _, ok := s.rooms.enqueue(room, func(r *liveRoom) { r.setNote(identity, note) }); !ok {
		s.log.Warn("note not kept for the live view: room busy", "room", room, "identity", identity)
	}
}

// bg returns a context for work done on behalf of a room event (no request context).
func bg() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 10*time.Second)
}

var _ signaling.Hooks = (*Service)(nil)
