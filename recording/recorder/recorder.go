// Package recorder runs the recording of live sessions: one case-file session folder
// (package recording) per live session, one track writer per recorded track attached
// to the room as a media sink, sealed when the session ends. It is told what to record
// (a Plan, from the mediation policy) and records it; it knows nothing of cases,
// roles or rooms beyond the names it is handed. It imports only package recording.
package recorder

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"yizhan/recording"
)

// Sink is a non-WebRTC subscriber of a track: a track writer. Its shape is the
// media layer's sink, so a room control that takes one takes the other.
type Sink interface {
	WriteRTP(*rtp.Packet) error
	Close() error
}

// SinkAttacher is the part of the room control the recorder needs: attach a writer to
// a published track, ask its publisher for a keyframe (the SFU throttles the asking).
type SinkAttacher interface {
	AttachSink(room, identity, trackSID string, sink Sink) (detach func(), err error)
	RequestKeyframe(room, identity, trackSID string) error
}

// Config configures New.
type Config struct {
	DataDir string            // case files go to <DataDir>/cases/<case folder>/s<session id>/
	Key     *recording.Signer // seals the manifests (recording.LoadOrCreateKey)
	Rooms   SinkAttacher      // the room control (the signaling server, adapted)
	Logger  *slog.Logger
}

// Recorder writes the case files of live sessions. Its methods never block on the
// disk (BeforeMove waits a bounded time): each session's work runs on its own
// goroutine, in the order it was asked for.
type Recorder struct {
	// static after construction
	cfg Config
	log *slog.Logger

	// guarded by mu
	mu       sync.Mutex
	sessions map[int64]*caseSession
	closed   bool
	onError  func(sessionID int64, err error)
	onState  func(sessionID int64)

	wg       sync.WaitGroup // session loops
	failures atomic.Int64   // writer, event-log and seal failures since start, for the metrics
}

// New returns a Recorder writing under cfg.DataDir. Call Close at shutdown: it seals
// what is still open (recording.Recover would otherwise do it at the next start).
func New(cfg Config) *Recorder {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &Recorder{cfg: cfg, log: cfg.Logger.With("part", "recorder"), sessions: map[int64]*caseSession{}}
}

// OnError sets who is told at once that recording failed in a session (a writer, the
// event log, the seal): the hosts must know while they can still act. err holds no
// server paths. fn runs on the session's goroutine and must not block long.
func (c *Recorder) OnError(fn func(sessionID int64, err error)) {
	c.mu.Lock()
	c.onError = fn
	c.mu.Unlock()
}

// OnState sets who is told that recording started or stopped in a session (Status
// changed Active). fn runs on the session's goroutine and must not block long.
func (c *Recorder) OnState(fn func(sessionID int64)) {
	c.mu.Lock()
	c.onState = fn
	c.mu.Unlock()
}

// session returns the session's state, starting its loop the first time.
func (c *Recorder) session(id int64, room string) *caseSession {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil
	}
	cs := c.sessions[id]
	if cs == nil {
		cs = newCaseSession(id, room)
		c.sessions[id] = cs
		c.wg.Add(1)
		go c.loop(cs) // ends after the session is ended (sealed)
	}
	return cs
}

// existing returns the session's state if its loop runs, else nil.
func (c *Recorder) existing(id int64) *caseSession {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessions[id]
}

// Plan hands over what should be recorded now; only the latest plan matters. The
// channel is closed once the writers match this plan or a later one (or the session
// is over), for a caller that answers with the state after its change.
func (c *Recorder) Plan(p Plan) <-chan struct{} {
	applied := make(chan struct{})
	cs := c.session(p.SessionID, p.Room)
	if cs == nil {
		close(applied)
		return applied
	}
	cs.mu.Lock()
	if cs.finished {
		close(applied)
	} else {
		cs.plan = &p
		cs.applied = append(cs.applied, applied)
	}
	cs.mu.Unlock()
	cs.poke()
	return applied
}

// Log appends ev to the session's event log (in the case file's words: ev.Kind is one
// of recording's Kind constants or a past-tense verb of the caller's).
func (c *Recorder) Log(sessionID int64, ev recording.Event) {
	cs := c.existing(sessionID)
	if cs == nil {
		return // nothing recorded yet: the session is not live; the timeline has it
	}
	cs.mu.Lock()
	cs.logs = append(cs.logs, ev)
	cs.mu.Unlock()
	cs.poke()
}

// Ended stops every writer of the session and seals its case file.
func (c *Recorder) Ended(sessionID, caseID int64, room string) {
	cs := c.existing(sessionID)
	if cs == nil {
		return
	}
	cs.mu.Lock()
	cs.ended = true
	cs.mu.Unlock()
	cs.poke()
}

// Status is what the hosts are shown.
func (c *Recorder) Status(sessionID int64) Status {
	cs := c.existing(sessionID)
	if cs == nil {
		return Status{Healthy: true}
	}
	cs.mu.Lock()
	defer cs.mu.Unlock()
	return cs.status
}

// BeforeMove stops, before it returns, the writers of participants about to change
// space, so that nothing said in the new space lands in the old space's files (a caucus
// in the joint recording). The plan after the move attaches new writers where the new
// space is recorded.
func (c *Recorder) BeforeMove(sessionID int64, identities []string) {
	cs := c.existing(sessionID)
	if cs == nil {
		return
	}
	done := make(chan struct{})
	cs.mu.Lock()
	cs.detaches = append(cs.detaches, detachReq{identities: identities, done: done})
	cs.mu.Unlock()
	cs.poke()
	select {
	case <-done:
	case <-cs.stopped:
	case <-time.After(2 * time.Second): // a stuck disk must not hold up the mediator
		c.log.Warn("recorder did not stop writers before a move in time", "session", sessionID)
	}
}

// Close ends every session loop, sealing what is open, and waits for them.
func (c *Recorder) Close() {
	c.mu.Lock()
	c.closed = true
	all := make([]*caseSession, 0, len(c.sessions))
	for _, cs := range c.sessions {
		all = append(all, cs)
	}
	c.mu.Unlock()
	for _, cs := range all {
		cs.mu.Lock()
		if !cs.ended {
			cs.ended, cs.endReason = true, "the server shut down"
		}
		cs.mu.Unlock()
		cs.poke()
	}
	c.wg.Wait()
}

// Stats is what the metrics show: sessions writing at least one track now, and
// failures since start.
func (c *Recorder) Stats() (active, failed int) {
	c.mu.Lock()
	all := make([]*caseSession, 0, len(c.sessions))
	for _, cs := range c.sessions {
		all = append(all, cs)
	}
	c.mu.Unlock()
	for _, cs := range all {
		cs.mu.Lock()
		if cs.status.Active {
			active++
		}
		cs.mu.Unlock()
	}
	return active, int(c.failures.Load())
}
