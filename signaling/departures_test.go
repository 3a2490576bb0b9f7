package signaling

import (
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
)

func TestDeparturesRemembered(t *testing.T) {
	var d departures
	d.note("PA_removed", livekit.DisconnectReason_PARTICIPANT_REMOVED)
	d.note("PA_lost", livekit.DisconnectReason_SIGNAL_CLOSE)
	if why, ok := d.reason("PA_removed"); !ok || why != livekit.DisconnectReason_PARTICIPANT_REMOVED {
		t.Fatalf("removed: %v %v", why, ok)
	}
	if _, ok := d.reason("PA_never"); ok {
		t.Fatal("a session that never ended has a reason")
	}
	if a := lateLeave(livekit.DisconnectReason_PARTICIPANT_REMOVED).GetLeave(); a.Action != livekit.LeaveRequest_DISCONNECT || a.Reason != livekit.DisconnectReason_PARTICIPANT_REMOVED {
		t.Fatalf("removed told %v", a)
	}
	if a := lateLeave(livekit.DisconnectReason_SIGNAL_CLOSE).GetLeave(); a.Action != livekit.LeaveRequest_RECONNECT {
		t.Fatalf("lost signal told %v", a)
	}
	// Old entries go at the next note after a window; the table does not grow for good.
	old := time.Now().Add(-2 * resumeWindow)
	d.mu.Lock()
	for k, v := range d.m {
		v.at = old
		d.m[k] = v
	}
	d.lastPrune = old
	d.mu.Unlock()
	if _, ok := d.reason("PA_removed"); ok {
		t.Fatal("a departure older than the resume window is still answered")
	}
	d.note("PA_new", livekit.DisconnectReason_ROOM_DELETED)
	d.mu.Lock()
	n := len(d.m)
	d.mu.Unlock()
	if n != 1 {
		t.Fatalf("%d entries after the prune, want 1", n)
	}
}
