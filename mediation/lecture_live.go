package mediation

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"yizhan/signaling"
	"yizhan/store"
)

// seatHold is how long a viewer token holds a WebRTC seat before its viewer connects.
const seatHold = 30 * time.Second

// liveLecture owns one live lecture: it alone writes its attendance and its room
// metadata, on its own goroutine, fed by a queue. The signaling hooks only enqueue.
type liveLecture struct {
	// static after construction
	l    *lectures
	id   int64
	room string

	events  chan signaling.Event // from the hooks; full drops and counts
	dirty   chan struct{}        // cap 1: the metadata should be written again
	stop    chan struct{}        // closed by close
	done    chan struct{}        // closed when run returns
	once    sync.Once
	dropped atomic.Int64 // events lost to a full queue

	viewers atomic.Int64 // hidden viewers connected, as last reported by signaling
	present atomic.Int64 // viewers connected, counted from joins and leaves (exact)

	mu      sync.Mutex           // guards below
	stage   []string             // viewers brought on stage, in order
	pending map[string]time.Time // viewer tokens handed out, not yet connected

	// owned by run
	lec      store.Lecture
	sids     map[string]string // viewer identity -> connection SID
	centreOf map[string]string // viewer identity -> centre
	byCentre map[string]int    // centre -> viewers connected now
}

func newLiveLecture(l *lectures, lec store.Lecture) *liveLecture {
	return &liveLecture{
		l: l, id: lec.ID, room: lec.Room, lec: lec,
		events:   make(chan signaling.Event, lectureQueueLen),
		dirty:    make(chan struct{}, 1),
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
		pending:  map[string]time.Time{},
		sids:     map[string]string{},
		centreOf: map[string]string{},
		byCentre: map[string]int{},
	}
}

func (ll *liveLecture) close() {
	ll.once.Do(func() { close(ll.stop) })
	<-ll.done
}

// poke asks run to rewrite the metadata (the stage or the state changed).
func (ll *liveLecture) poke() {
	select {
	case ll.dirty <- struct{}{}:
	default:
	}
}

func (ll *liveLecture) run() {
	defer close(ll.done)
	ll.writeMeta()
	for {
		select {
		case <-ll.stop:
			if n := ll.dropped.Load(); n > 0 {
				ll.l.log.Warn("lecture events dropped", "lecture", ll.id, "n", n)
			}
			return
		case ev := <-ll.events:
			ll.handle(ev)
		case <-ll.dirty:
			ctx, cancel := bg()
			if lec, err := ll.l.st.Lecture(ctx, ll.id); err == nil {
				ll.lec = lec
			}
			ll.writeMeta()
			ll.restartProgram(ctx)
			cancel()
		}
	}
}

func (ll *liveLecture) handle(ev signaling.Event) {
	ctx, cancel := bg()
	defer cancel()
	st, p := ll.l.st, ev.Participant
	switch {
	case ev.Kind == signaling.EventAudience:
		ll.viewers.Store(int64(ev.Count))
		if err := st.RaisePeak(ctx, ll.id, "", ev.Count); err != nil {
			ll.l.log.Warn("lecture peak", "lecture", ll.id, "err", err)
		}
		ll.writeMeta()
	case ev.Kind == signaling.EventJoined && isViewer(p):
		ll.mu.Lock()
		delete(ll.pending, ev.Identity)
		ll.mu.Unlock()
		if _, again := ll.sids[ev.Identity]; !again {
			c := p.Attributes["centre"]
			ll.centreOf[ev.Identity] = c
			ll.byCentre[c]++
			ll.present.Add(1)
			if err := st.RaisePeak(ctx, ll.id, c, ll.byCentre[c]); err != nil {
				ll.l.log.Warn("lecture centre peak", "lecture", ll.id, "err", err)
			}
		}
		ll.sids[ev.Identity] = ev.SID
		// A centre's screen fills a hall's wall: the best layer, not a phone's.
		if p.Attributes["kind"] == "screen" && ll.l.ctl != nil {
			if err := ll.l.ctl.SetMaxLayer(ll.room, ev.Identity, 2); err != nil {
				ll.l.log.Warn("lecture screen layer", "lecture", ll.id, "err", err)
			}
		}
		if err := st.ViewerJoined(ctx, ll.id, ev.Identity, ev.Time.UTC()); err != nil {
			ll.l.log.Warn("lecture viewer joined", "lecture", ll.id, "err", err)
		}
	case ev.Kind == signaling.EventLeft && isViewer(p):
		if ll.sids[ev.Identity] != ev.SID {
			return // an older connection of a viewer who came back
		}
		delete(ll.sids, ev.Identity)
		c := ll.centreOf[ev.Identity]
		delete(ll.centreOf, ev.Identity)
		if ll.byCentre[c]--; ll.byCentre[c] <= 0 {
			delete(ll.byCentre, c)
		}
		ll.present.Add(-1)
		if ll.offStage(ev.Identity) {
			ll.poke()
		}
		if err := st.ViewerLeft(ctx, ll.id, ev.Identity, ev.Time.UTC()); err != nil {
			ll.l.log.Warn("lecture viewer left", "lecture", ll.id, "err", err)
		}
	case ev.Kind == signaling.EventTrackPublished || ev.Kind == signaling.EventTrackUnpublished:
		ll.restartProgram(ctx) // the program follows who publishes
	}
}

// restartProgram tells the program (HLS and archive) what is on stage now.
func (ll *liveLecture) restartProgram(ctx context.Context) {
	prog := ll.l.cfg.Program
	if prog == nil || ll.lec.State != "live" {
		return
	}
	if err := prog.Start(ctx, ll.id, ll.room, ll.stageNow()); err != nil {
		ll.l.log.Warn("lecture program", "lecture", ll.id, "err", err)
	}
}

func (ll *liveLecture) writeMeta() {
	ll.l.setMeta(ll.room, ll.lec, int(ll.viewers.Load()), ll.stageNow())
}

func (ll *liveLecture) stageNow() []string {
	ll.mu.Lock()
	defer ll.mu.Unlock()
	return slices.Clone(ll.stage)
}

// onStage records identity on (or off) stage; it reports whether anything changed.
func (ll *liveLecture) onStage(identity string, on bool) bool {
	ll.mu.Lock()
	defer ll.mu.Unlock()
	i := slices.Index(ll.stage, identity)
	switch {
	case on && i < 0:
		ll.stage = append(ll.stage, identity)
	case !on && i >= 0:
		ll.stage = slices.Delete(ll.stage, i, i+1)
	default:
		return false
	}
	return true
}

func (ll *liveLecture) offStage(identity string) bool { return ll.onStage(identity, false) }

// seats is how many WebRTC seats are taken: viewers connected plus tokens handed out
// in the last seatHold whose viewers have not arrived yet.
func (ll *liveLecture) seats(now time.Time) int {
	ll.mu.Lock()
	defer ll.mu.Unlock()
	for id, at := range ll.pending {
		if now.Sub(at) > seatHold {
			delete(ll.pending, id)
		}
	}
	return int(ll.present.Load()) + len(ll.pending)
}

func (ll *liveLecture) hold(identity string, now time.Time) {
	ll.mu.Lock()
	ll.pending[identity] = now
	ll.mu.Unlock()
}
