package mediation

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"yizhan/signaling"
	"yizhan/store"
)

// liveRoom owns one live room: its lobby (knocks), the notes petitioners wrote, rejoin
// grace, who a host sent away, whether a host paused recording, and the room metadata.
// One goroutine (run) serves it from a queue; signaling's hooks and the host controls
// only enqueue (liverooms.go). Store reads and writes for the room happen on run.
type liveRoom struct {
	// static after construction
	name  string
	rooms *liveRooms // the registry, and through it the shared dependencies
	log   *slog.Logger
	q     chan func(*liveRoom) // what run serves, in order; bounded by roomQueueLen

	// owned by run
	loaded   bool              // sess was looked up (plain or loadErr say how it went)
	plain    bool              // not a session: a plain LiveKit room (`yizhan token`)
	loadErr  bool              // the look-up failed: refuse joins, try again next message
	sess     store.Session     // the session; State follows scheduled -> live -> ended
	members  map[string]string // connection SID -> identity, from joined and left: is anyone here
	rejoin   map[string]rejoinRec
	removed  map[string]bool // identity -> a host sent them away: their "left" leaves no grace
	metaLast string          // the room metadata last set
	recorded map[string]bool // space -> the last plan records it

	// guarded by mu: written by run, read by the live view on HTTP goroutines
	mu     sync.Mutex
	knocks map[string]knockRec // identity -> arrival in the lobby
	notes  map[string]string   // identity -> what a petitioner wrote on arrival
	paused pause               // a host's stop of the recording; zero if none

	// set by any goroutine, read by run
	resync atomic.Bool // an event for this room was dropped: rebuild from signaling's state
}

// rejoinRec is where someone was when they dropped out, and until when they may return.
type rejoinRec struct {
	space string
	until time.Time
}

// knockRec is an arrival in the lobby.
type knockRec struct {
	sid string
	at  time.Time
}

func newLiveRoom(rs *liveRooms, name string) *liveRoom {
	return &liveRoom{name: name, rooms: rs, log: rs.log.With("room", name), q: make(chan func(*liveRoom), roomQueueLen),
		members: map[string]string{}, rejoin: map[string]rejoinRec{}, removed: map[string]bool{}, recorded: map[string]bool{},
		knocks: map[string]knockRec{}, notes: map[string]string{}}
}

// run serves the queue until the room is let go (retire) or the service closes; then it
// serves what was queued before (the leaves of a server shutting down reach the timeline).
func (r *liveRoom) run() {
	defer r.rooms.wg.Done()
	defer r.rooms.gone(r)
	for {
		select {
		case fn := <-r.q:
			fn(r)
			if r.resync.Swap(false) && r.session() {
				r.members = map[string]string{}
				for _, p := range r.rooms.rc.Participants(r.name) {
					r.members[p.SID] = p.Identity
				}
				r.replan()
				r.syncMeta(true)
			}
			if r.idle() && r.rooms.retire(r) {
				return
			}
		case <-r.rooms.done:
			for { // enqueue refuses once done is closed: this ends
				select {
				case fn := <-r.q:
					fn(r)
				default:
					return
				}
			}
		}
	}
}

// idle: nobody is connected and the room keeps nothing a later arrival would need.
func (r *liveRoom) idle() bool {
	if len(r.members) > 0 || len(r.q) > 0 {
		return false
	}
	r.mu.Lock()
	keeps := len(r.knocks) > 0 || len(r.notes) > 0 || r.paused != pause{}
	r.mu.Unlock()
	if keeps {
		return false
	}
	if !r.loaded || r.plain || r.loadErr || r.sess.State == sessionEnded {
		return true
	}
	now := r.rooms.now()
	for id, rj := range r.rejoin {
		if now.After(rj.until) {
			delete(r.rejoin, id)
		}
	}
	return len(r.rejoin) == 0 && len(r.removed) == 0
}

// session loads the room's session on first use and reports whether the room is one.
func (r *liveRoom) session() bool {
	if !r.loaded || r.loadErr {
		ctx, cancel := bg()
		se, err := r.rooms.st.SessionByRoom(ctx, r.name)
		cancel()
		r.loaded, r.loadErr, r.plain = true, false, false
		switch {
		case errors.Is(err, store.ErrNotFound):
			r.plain = true
		case err != nil:
			r.loadErr = true
			r.log.Error("session look-up", "err", err)
		default:
			r.sess = se
			r.rooms.registered(se.ID, r)
		}
	}
	return !r.plain && !r.loadErr
}

// joining decides where p lands: rooms that are not sessions are plain rooms.
func (r *liveRoom) joining(p signaling.Participant) (string, error) {
	if !r.session() {
		if r.loadErr {
			return "", fmt.Errorf("session look-up failed")
		}
		return signaling.DefaultSpace, nil
	}
	ctx, cancel := bg()
	defer cancel()
	space, err := r.rooms.landing(ctx, r.sess, p.Identity)
	if err != nil {
		r.log.Info("join refused", "identity", p.Identity, "err", err)
		return "", err
	}
	if back := r.takeRejoin(p.Identity); back != "" {
		return back, nil
	}
	// A reconnect that evicts its own older connection (still in the room): same place.
	for _, q := range r.rooms.rc.Participants(r.name) {
		if q.Identity == p.Identity && q.Space != "" {
			return q.Space, nil
		}
	}
	return space, nil
}

// onEvent records joins and leaves on the case timeline, knocks for arrivals in the
// lobby, keeps the reception queue, the recording plan and the room metadata.
func (r *liveRoom) onEvent(ev signaling.Event) {
	switch ev.Kind {
	case signaling.EventJoined:
		r.members[ev.SID] = ev.Identity
	case signaling.EventLeft:
		delete(r.members, ev.SID)
	}
	if !r.session() {
		return
	}
	ctx, cancel := bg()
	defer cancel()
	rs, se := r.rooms, r.sess
	p := ev.Participant
	w := whoOf(p)
	live := func(kind string) {
		rs.emit(event{name: "live", to: rs.sessionStaffNames(se), adminsOf: rs.centreOfCase(ctx, se.CaseID),
			data: map[string]any{"session_id": se.ID, "kind": kind, "identity": ev.Identity, "space": p.Space}})
	}
	switch ev.Kind {
	case signaling.EventJoined:
		r.replan() // opens the case file before the join is logged into it
		if se.State == sessionScheduled {
			if err := rs.st.SetSessionState(ctx, se.ID, sessionLive); err == nil {
				r.sess.State = sessionLive
				rs.emit(event{name: "session", to: se.Hosts, caseCentre: rs.centreOfCase(ctx, se.CaseID),
					data: map[string]any{"session_id": se.ID, "case_id": se.CaseID, "state": sessionLive}})
			}
		}
		if len(p.MuteLocked) > 0 { // a host's mute lock outlives a rejoin: tell the party again (mutelock.go)
			if err := rs.rc.SetAttributes(r.name, ev.Identity, map[string]string{muteLockedAttr: lockedAttr(p)}); err != nil {
				r.log.Warn("set mute_locked", "identity", ev.Identity, "err", err)
			}
		}
		if p.Space == lobbySpace {
			r.knock(p, ev.SID)
			if se.Kind == kindReception && w.Role == roleParty {
				if _, err := rs.st.Arrive(ctx, store.ReceptionEntry{SessionID: se.ID, Identity: ev.Identity, Name: p.Name, ArrivedAt: rs.now()}); err != nil {
					r.log.Error("reception arrival", "err", err)
				}
			}
		}
		rs.caseEvent(ctx, evJoin.of(se.CaseID, se.ID, ev.Identity, ev.Identity, moved(p, p.Space)))
		live("joined")
	case signaling.EventLeft:
		if r.present(ev.Identity, ev.SID) {
			return // an older connection of someone who rejoined
		}
		r.unknock(ev.Identity, ev.SID)
		r.leftFrom(ev.Identity, p.Space)
		rs.caseEvent(ctx, evLeave.of(se.CaseID, se.ID, ev.Identity, ev.Identity, fields{"name": p.Name, "reason": ev.Reason}))
		live("left")
	case signaling.EventQuality:
		// The case file notes a lost link (and its return) while it records:
		// a party who heard nothing for a while may say so later.
		switch {
		case ev.Quality == "lost":
			rs.caseEvent(ctx, evLinkLost.of(se.CaseID, se.ID, ev.Identity, ev.Identity, fields{"name": p.Name}))
		case ev.Reason == "lost":
			rs.caseEvent(ctx, evLinkRestored.of(se.CaseID, se.ID, ev.Identity, ev.Identity, fields{"name": p.Name, "quality": ev.Quality}))
		}
		live("quality")
		return
	default: // tracks published, unpublished, muted, unmuted
		live("track")
	}
	r.replan()
	r.syncMeta(ev.Kind == signaling.EventJoined)
}

// present reports whether identity is in the room with a connection other than sid.
func (r *liveRoom) present(identity, sid string) bool {
	for _, q := range r.rooms.rc.Participants(r.name) {
		if q.Identity == identity && q.SID != sid {
			return true
		}
	}
	return false
}

// Rejoin grace: a network drop is not a new arrival.

// noRejoin marks identity as sent away by a host: its coming "left" leaves no grace.
func (r *liveRoom) noRejoin(identity string) {
	r.removed[identity] = true
	delete(r.rejoin, identity)
}

// leftFrom remembers where someone who dropped out was, unless a host sent them away.
func (r *liveRoom) leftFrom(identity, space string) {
	if r.removed[identity] || space == "" || r.rooms.cfg.RejoinGrace < 0 {
		delete(r.removed, identity)
		return
	}
	r.rejoin[identity] = rejoinRec{space: space, until: r.rooms.now().Add(r.rooms.cfg.RejoinGrace)}
}

func (r *liveRoom) takeRejoin(identity string) string {
	rj, ok := r.rejoin[identity]
	delete(r.rejoin, identity)
	if !ok || r.rooms.now().After(rj.until) {
		return ""
	}
	return rj.space
}

// knock records an arrival in the lobby and tells the hosts: people forget to knock, so
// arriving is knocking.
func (r *liveRoom) knock(p signaling.Participant, sid string) {
	rs, se, now := r.rooms, r.sess, r.rooms.now()
	r.mu.Lock()
	if _, ok := r.knocks[p.Identity]; ok || len(r.knocks) < maxKnocksPerSession {
		r.knocks[p.Identity] = knockRec{sid: sid, at: now}
	} else {
		rs.hits.knocks.Add(1) // still in the lobby and listed by signaling; only its arrival time is not kept
	}
	r.mu.Unlock()
	ctx, cancel := bg()
	defer cancel()
	rs.emit(event{name: "knock", to: rs.hostNames(se), adminsOf: rs.centreOfCase(ctx, se.CaseID), data: map[string]any{
		"session_id": se.ID, "room": se.Room, "identity": p.Identity, "name": p.Name,
		"role": whoOf(p).Role, "side": whoOf(p).Side, "at": now.Format(time.RFC3339)}})
}

// unknock forgets a lobby arrival (admitted, or gone). sid "" matches any connection.
func (r *liveRoom) unknock(identity, sid string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if k, ok := r.knocks[identity]; ok && (sid == "" || k.sid == sid) {
		delete(r.knocks, identity)
	}
}

// setNote keeps what a petitioner wrote on arrival, for the live view (the timeline has
// it too).
func (r *liveRoom) setNote(identity, note string) {
	r.mu.Lock()
	r.notes[identity] = note
	r.mu.Unlock()
}

// forget drops what the room kept in memory when its session ended.
func (r *liveRoom) forget() {
	r.mu.Lock()
	clear(r.knocks)
	clear(r.notes)
	r.paused = pause{}
	r.mu.Unlock()
	clear(r.rejoin)
	clear(r.removed)
	r.metaLast = ""
}

// view is the live-view JSON of p. Any goroutine; r may be nil (a room with no owner
// keeps no knocks or notes).
func (r *liveRoom) view(p signaling.Participant, now time.Time) participantJSON {
	var at time.Time
	var note string
	if r != nil {
		r.mu.Lock()
		at, note = r.knocks[p.Identity].at, r.notes[p.Identity]
		r.mu.Unlock()
	}
	v := participantView(p, at, now)
	v.Note = note
	return v
}
