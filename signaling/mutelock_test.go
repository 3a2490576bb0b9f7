package signaling_test

import (
	"testing"
	"time"
)

// TestHostMuteLockSticks (row 9): a locked mute holds when the party unmutes itself and
// when it rejoins; after the host lifts it, the host's unmute lets the sound through.
// Before: the party's own unmute lifted any server mute at once.
func TestHostMuteLockSticks(t *testing.T) {
	ts := startServer(t)
	alice := ts.connect(t, "lock", "alice", true)
	bob := ts.connect(t, "lock", "bob", true)
	mic, err := alice.PublishOpus("")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob hears alice", func() bool { return bob.PacketsFrom("alice", "audio") > 20 })

	// Silent for a second and a half: at most a few packets already on their way.
	silent := func(what string) {
		t.Helper()
		time.Sleep(300 * time.Millisecond)
		n := bob.PacketsFrom("alice", "audio")
		time.Sleep(1500 * time.Millisecond)
		if d := bob.PacketsFrom("alice", "audio") - n; d > 5 {
			t.Fatalf("%s: bob got %d packets from alice's locked microphone", what, d)
		}
	}
	if err := ts.sig.LockSources("lock", "alice", []string{"microphone"}, true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob sees alice muted", func() bool { m, ok := bob.MutedSeen(mic.SID); return ok && m })
	silent("locked")

	mic.Pub.SetMuted(false) // alice tries to unmute herself
	time.Sleep(300 * time.Millisecond)
	if m, _ := bob.MutedSeen(mic.SID); !m {
		t.Error("bob saw alice unmute herself under a lock")
	}
	silent("after alice's own unmute")

	// Rejoining does not escape the lock: the new microphone starts muted.
	alice.Close()
	alice = ts.connect(t, "lock", "alice", true)
	mic, err = alice.PublishOpus("")
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "alice's new microphone published muted", func() bool {
		for _, p := range ts.sig.Participants("lock") {
			for _, tr := range p.Tracks {
				if p.Identity == "alice" && tr.SID == mic.SID {
					return tr.Muted
				}
			}
		}
		return false
	})
	silent("rejoined")

	// The host lifts the lock and unmutes.
	if err := ts.sig.LockSources("lock", "alice", []string{"microphone"}, false); err != nil {
		t.Fatal(err)
	}
	if err := ts.sig.MuteTrack("lock", "alice", mic.SID, false); err != nil {
		t.Fatal(err)
	}
	n := bob.PacketsFrom("alice", "audio")
	waitFor(t, "bob hears alice again", func() bool { return bob.PacketsFrom("alice", "audio") > n+20 })
}
