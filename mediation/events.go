package mediation

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// event is one server-sent event for staff consoles (docs/API.md, "Events").
// It goes to the usernames in to, plus every subscriber who can see caseCentre, plus
// admins who can see adminsOf.
type event struct {
	name       string
	data       any
	to         []string
	caseCentre string
	adminsOf   string
}

// subscriber is one open GET /api/events stream.
type subscriber struct {
	username, centre string
	admin            bool
	ch               chan []byte // frames; a full channel drops (the console refetches)
}

// broker holds the open streams. Sending never blocks: a slow console loses events, and
// the loss is counted.
type broker struct {
	mu      sync.Mutex // guards subs and closed
	subs    map[*subscriber]struct{}
	closed  bool
	done    chan struct{}
	dropped atomic.Int64
}

func newBroker() *broker {
	return &broker{subs: map[*subscriber]struct{}{}, done: make(chan struct{})}
}

func (b *broker) add(sub *subscriber) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.subs[sub] = struct{}{}
	return true
}

func (b *broker) remove(sub *subscriber) {
	b.mu.Lock()
	delete(b.subs, sub)
	b.mu.Unlock()
}

func (b *broker) snapshot() []*subscriber {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]*subscriber, 0, len(b.subs))
	for s := range b.subs {
		out = append(out, s)
	}
	return out
}

func (b *broker) close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.closed {
		b.closed = true
		close(b.done)
	}
}

// emit delivers ev to the subscribers it is meant for. Visibility checks read the store,
// so emit is called with no lock held.
func (s *core) emit(ev event) {
	subs := s.events.snapshot()
	if len(subs) == 0 {
		return
	}
	data, err := json.Marshal(ev.data)
	if err != nil {
		s.log.Error("event marshal", "event", ev.name, "err", err)
		return
	}
	frame := []byte(fmt.Sprintf("event: %s\ndata: %s\n\n", ev.name, data))
	for _, sub := range subs {
		if !s.wants(sub, ev) {
			continue
		}
		select {
		case sub.ch <- frame:
		default:
			s.events.dropped.Add(1)
		}
	}
}

func (s *core) wants(sub *subscriber, ev event) bool {
	for _, u := range ev.to {
		if u == sub.username {
			return true
		}
	}
	cctx, cancel := bg()
	defer cancel()
	if ev.caseCentre != "" {
		if ok, _ := s.st.Under(cctx, sub.centre, ev.caseCentre); ok {
			return true
		}
	}
	if ev.adminsOf != "" && sub.admin {
		if ok, _ := s.st.Under(cctx, sub.centre, ev.adminsOf); ok {
			return true
		}
	}
	return false
}

// eventStream is GET /api/events: text/event-stream until the client goes away.
func (s *Service) eventStream(w http.ResponseWriter, r *http.Request, a *actor) error {
	fl, ok := w.(http.Flusher)
	if !ok {
		return errf(http.StatusInternalServerError, "internal", "streaming not supported")
	}
	sub := &subscriber{username: a.Username, centre: a.Centre, admin: a.Has("admin"), ch: make(chan []byte, 64)}
	if !s.events.add(sub) {
		return errf(http.StatusServiceUnavailable, "conflict", "server is shutting down")
	}
	defer s.events.remove(sub)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write([]byte(": connected\n\n"))
	fl.Flush()
	ping := time.NewTicker(25 * time.Second)
	defer ping.Stop()
	rc := http.NewResponseController(w)
	for {
		var frame []byte
		select {
		case <-r.Context().Done():
			return nil
		case <-s.events.done:
			return nil
		case <-ping.C:
			frame = []byte(": ping\n\n")
		case frame = <-sub.ch:
		}
		_ = rc.SetWriteDeadline(time.Now().Add(10 * time.Second))
		if _, err := w.Write(frame); err != nil {
			return nil
		}
		fl.Flush()
	}
}
