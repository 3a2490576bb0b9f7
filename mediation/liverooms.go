package mediation

import (
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"yizhan/signaling"
	"yizhan/store"
)

// roomQueueLen bounds each live room's queue. A room's traffic is a few events per
// participant plus the hosts' clicks; 256 is minutes of a stuck store. When it is full,
// signaling events are dropped and counted (the room then rebuilds its plan and metadata
// from signaling's state on its next message), and a host control or a join is refused
// with "busy": the caller retries, nothing blocks a signaling goroutine.
const roomQueueLen = 256

// liveRooms finds the owner (liveRoom) of each live room by room name, creating it on
// first need and letting it go when its room is empty and it keeps nothing worth keeping.
// It is what signaling's hooks and the HTTP handlers talk to; it never touches the store
// on the caller's goroutine.
type liveRooms struct {
	*core

	// static after construction
	done chan struct{} // closed by close: every room's run returns

	mu        sync.Mutex           // guards byRoom, bySession, closed; held for map work and a non-blocking send only
	byRoom    map[string]*liveRoom // room name -> its owner
	bySession map[int64]*liveRoom  // session ID -> its owner, once run loaded the session
	closed    bool

	wg      sync.WaitGroup // one per running room
	dropped atomic.Int64   // room events dropped because a room's queue was full
}

func newLiveRooms(c *core) *liveRooms {
	return &liveRooms{core: c, done: make(chan struct{}), byRoom: map[string]*liveRoom{}, bySession: map[int64]*liveRoom{}}
}

// close stops every room's goroutine and waits for them, at most Config.CloseWait: a
// room stuck in the store (a stuck disk ignores contexts) is named in the log and left
// behind rather than hanging the shutdown. It reports whether every room finished.
func (rs *liveRooms) close() bool {
	rs.mu.Lock()
	if !rs.closed {
		rs.closed = true
		close(rs.done)
	}
	rs.mu.Unlock()
	finished := make(chan struct{})
	go func() { // ends when the last room does; after a timeout, with the stuck store call
		rs.wg.Wait()
		close(finished)
	}()
	t := time.NewTimer(rs.cfg.CloseWait)
	defer t.Stop()
	select {
	case <-finished:
		return true
	case <-t.C:
	}
	rs.mu.Lock()
	stuck := make([]string, 0, len(rs.byRoom))
	for name := range rs.byRoom {
		stuck = append(stuck, name)
	}
	rs.mu.Unlock()
	rs.log.Error("live rooms did not finish in time; shutting down without them", "wait", rs.cfg.CloseWait, "rooms", stuck)
	return false
}

// enqueue hands fn to room's owner (started if there is none), in order, without blocking.
// It returns the owner, and false when the queue is full or the service is closing.
func (rs *liveRooms) enqueue(room string, fn func(*liveRoom)) (*liveRoom, bool) {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if rs.closed {
		return nil, false
	}
	r := rs.byRoom[room]
	if r == nil {
		r = newLiveRoom(rs, room)
		rs.byRoom[room] = r
		rs.wg.Add(1)
		go r.run() // ends on close, or when retire lets the room go
	}
	select {
	case r.q <- fn:
		return r, true
	default:
		return r, false
	}
}

// retire forgets r if nothing is queued for it; run returns when it did. Holding mu while
// checking the queue means nothing enqueued can be stranded.
func (rs *liveRooms) retire(r *liveRoom) bool {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if len(r.q) > 0 || rs.byRoom[r.name] != r {
		return false
	}
	delete(rs.byRoom, r.name)
	if rs.bySession[r.sess.ID] == r {
		delete(rs.bySession, r.sess.ID)
	}
	return true
}

// gone forgets r once its run returned (close names the rooms still running).
func (rs *liveRooms) gone(r *liveRoom) {
	rs.mu.Lock()
	if rs.byRoom[r.name] == r {
		delete(rs.byRoom, r.name)
	}
	if r.loaded && rs.bySession[r.sess.ID] == r {
		delete(rs.bySession, r.sess.ID)
	}
	rs.mu.Unlock()
}

// registered records that r is the owner of session id (called by r's run).
func (rs *liveRooms) registered(id int64, r *liveRoom) {
	rs.mu.Lock()
	rs.bySession[id] = r
	rs.mu.Unlock()
}

// peek is room's owner if it has one, without creating it (the live view reads its
// knocks, notes and pause, which a room without an owner does not have).
func (rs *liveRooms) peek(room string) *liveRoom {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	return rs.byRoom[room]
}

var errRoomBusy = errf(http.StatusServiceUnavailable, "busy", "the session is busy; try again")

// do runs fn on room's goroutine and waits for its answer (host controls). fn gets a
// context of its own: a caller who gives up does not cut an action off half-way.
func (rs *liveRooms) do(ctx context.Context, room string, fn func(ctx context.Context, r *liveRoom) (any, error)) (any, error) {
	type answer struct {
		v   any
		err error
	}
	ch := make(chan answer, 1)
	if _, ok := rs.enqueue(room, func(r *liveRoom) {
		rctx, cancel := bg()
		defer cancel()
		v, err := fn(rctx, r)
		ch <- answer{v, err}
	}); !ok {
		return nil, errRoomBusy
	}
	select {
	case a := <-ch:
		return a.v, a.err
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-rs.done:
		return nil, errf(http.StatusServiceUnavailable, "conflict", "server is shutting down")
	}
}

// joining answers signaling's Joining hook. It is the one hook that must answer: where
// the participant lands. The answer needs the store (is the invitation still valid? is
// this staff member a host?), so the room's goroutine decides and this signaling
// goroutine waits for it, at most Config.JoinTimeout: a stuck store delays and then
// refuses joins to that one room (the client retries), nothing else.
func (rs *liveRooms) joining(room string, p signaling.Participant) (string, error) {
	type answer struct {
		space string
		err   error
	}
	ch := make(chan answer, 1)
	if _, ok := rs.enqueue(room, func(r *liveRoom) {
		space, err := r.joining(p)
		ch <- answer{space, err}
	}); !ok {
		return "", errors.New("the session is busy; try again")
	}
	t := time.NewTimer(rs.cfg.JoinTimeout)
	defer t.Stop()
	select {
	case a := <-ch:
		return a.space, a.err
	case <-t.C:
		rs.log.Warn("join not decided in time", "room", room, "identity", p.Identity, "timeout", rs.cfg.JoinTimeout)
		return "", errors.New("the session did not answer in time; try again")
	case <-rs.done:
		return "", errors.New("server is shutting down")
	}
}

// event answers signaling's Event hook: it only enqueues.
func (rs *liveRooms) event(ev signaling.Event) {
	switch ev.Kind {
	case signaling.EventJoined, signaling.EventLeft, signaling.EventTrackPublished, signaling.EventTrackUnpublished,
		signaling.EventMuted, signaling.EventUnmuted, signaling.EventQuality:
	default:
		return // nothing of ours follows from it
	}
	r, ok := rs.enqueue(ev.Room, func(r *liveRoom) { r.onEvent(ev) })
	if !ok {
		n := rs.dropped.Add(1)
		if r != nil {
			r.resync.Store(true)
		}
		rs.log.Error("room queue full: event dropped", "room", ev.Room, "kind", ev.Kind, "identity", ev.Identity, "dropped", n)
	}
}

// recordingFailed and recordingChanged come from the recorder (any of its goroutines,
// writers included): they go to the session's room, or, for a room that has no owner
// any more (the session ended), to a goroutine of their own.
func (rs *liveRooms) recordingFailed(sessionID int64, err error) {
	rs.toSession(sessionID, func(ctx context.Context, se store.Session) {
		rs.caseEvent(ctx, evRecordingFailed.of(se.CaseID, se.ID, "system", "", fields{"error": err.Error()}))
		rs.emit(event{name: "recording", to: rs.sessionStaffNames(se), adminsOf: rs.centreOfCase(ctx, se.CaseID),
			data: map[string]any{"session_id": se.ID, "healthy": false, "error": err.Error()}})
	})
}

func (rs *liveRooms) recordingChanged(sessionID int64) {
	rs.toSession(sessionID, func(ctx context.Context, se store.Session) {
		st := rs.recordingView(se.Room, se.ID)
		rs.emit(event{name: "recording", to: rs.sessionStaffNames(se), adminsOf: rs.centreOfCase(ctx, se.CaseID),
			data: map[string]any{"session_id": se.ID, "active": st.Active, "healthy": st.Healthy, "error": st.Error}})
	}, func(r *liveRoom) { r.syncMeta(false) })
}

// toSession runs fn for session id on its room's goroutine (after each of also), or, if
// the session has no live room, on a new goroutine.
func (rs *liveRooms) toSession(id int64, fn func(ctx context.Context, se store.Session), also ...func(*liveRoom)) {
	rs.mu.Lock()
	r := rs.bySession[id]
	rs.mu.Unlock()
	if r != nil {
		if _, ok := rs.enqueue(r.name, func(r *liveRoom) {
			if !r.session() {
				return
			}
			for _, f := range also {
				f(r)
			}
			ctx, cancel := bg()
			defer cancel()
			fn(ctx, r.sess)
		}); ok {
			return
		}
	}
	rs.mu.Lock()
	if rs.closed {
		rs.mu.Unlock()
		return
	}
	rs.wg.Add(1)
	rs.mu.Unlock()
	go func() { // ends after one look-up and fn, bounded by bg's timeout
		defer rs.wg.Done()
		ctx, cancel := bg()
		defer cancel()
		se, err := rs.st.Session(ctx, id)
		if err != nil {
			return
		}
		fn(ctx, se)
	}()
}
