package media

import (
	"runtime"
	"testing"
	"time"
	"weak"

	"github.com/pion/webrtc/v4"
)

// TestEngineForgetsClosedConnections: once a publisher's and a subscriber's
// connections are closed and nothing of ours holds them, the engine's tables
// (keys, pair followers, sessions, the fast path) drop them and the garbage
// collector takes them, with everything hanging off them (packet caches,
// TWCC state). A table that holds a connection's object strongly from a value
// keyed weakly by that same connection keeps it for good: the 10-minute soak
// grew to 814 MB of heap that way.
func TestEngineForgetsClosedConnections(t *testing.T) {
	eng := newTestEngine(t)
	defer eng.Close()
	pubPC, subPC := func() (weak.Pointer[webrtc.PeerConnection], weak.Pointer[webrtc.PeerConnection]) {
		s := newSessionWith(t, sessionOpts{eng: eng}, "")
		waitFor(t, 10*time.Second, "100 packets at the subscriber", func() bool { return len(s.sub.snapshot()) >= 100 })
		if st := eng.Stats(); st.RxFast == 0 || st.DirectRTP == 0 {
			t.Fatalf("the fast paths were not used (RxFast %d, DirectRTP %d): nothing to forget", st.RxFast, st.DirectRTP)
		}
		// While the connections live, collections must not take what the
		// engine holds weakly: the fast paths keep working after them.
		runtime.GC()
		runtime.GC()
		if eng.capture(s.srvSub.SCTP().Transport()) == nil || eng.capture(s.srvPub.SCTP().Transport()) == nil {
			t.Fatal("a live connection's keys were collected")
		}
		direct, fast := eng.Stats().DirectRTP, eng.Stats().RxFast
		waitFor(t, 10*time.Second, "direct writes and fast reads after a collection", func() bool {
			st := eng.Stats()
			return st.DirectRTP > direct+50 && st.RxFast > fast+50
		})
		pub, sub := weak.Make(s.srvPub), weak.Make(s.srvSub)
		s.closeTracks()
		return pub, sub
	}()
	tables := func() (keys, pairs, sessions, fast int) {
		eng.keysMu.Lock()
		keys = len(eng.keys)
		eng.keysMu.Unlock()
		eng.pairsMu.Lock()
		pairs = len(eng.pairs)
		eng.pairsMu.Unlock()
		eng.mu.Lock()
		sessions = len(eng.sessions)
		eng.mu.Unlock()
		if m := eng.fast.m.Load(); m != nil {
			fast = len(*m)
		}
		return
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		keys, pairs, sessions, fast := tables()
		gone := pubPC.Value() == nil && subPC.Value() == nil
		if gone && keys+pairs+sessions+fast == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("10 s after closing: publisher collected %v, subscriber collected %v; engine tables: keys %d, pair followers %d, sessions %d, fast path %d",
				pubPC.Value() == nil, subPC.Value() == nil, keys, pairs, sessions, fast)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
