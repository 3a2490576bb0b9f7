package signaling_test

import (
	"runtime"
	"testing"
	"time"

	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"

	"yizhan/internal/lktest"
)

func TestDuplicateIdentityEvictsFirst(t *testing.T) {
	ts := startServer(t)
	watcher := ts.connect(t, "dup", "watcher", false)
	first := ts.connect(t, "dup", "alice", true)
	firstSID := string(first.Room.LocalParticipant.SID())
	second := ts.connect(t, "dup", "alice", true)
	secondSID := string(second.Room.LocalParticipant.SID())
	if firstSID == secondSID {
		t.Fatal("the second session got the same SID")
	}
	waitFor(t, "first session disconnected", func() bool {
		return first.Room.ConnectionState() == lksdk.ConnectionStateDisconnected
	})
	waitFor(t, "watcher sees only the second alice", func() bool {
		p := watcher.Room.GetParticipantByIdentity("alice")
		return p != nil && p.SID() == secondSID
	})
	if got := len(ts.sig.Participants("dup")); got != 2 {
		t.Fatalf("room has %d participants, want 2 (watcher and the new alice)", got)
	}
	// The new session works: its media reaches the watcher.
	if _, err := second.PublishVP8(lktest.VideoOptions{BitrateKbps: 200}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "watcher receives the new alice", func() bool { return watcher.PacketsFrom("alice", "video") > 10 })
}

// TestDroppedWebsocketResumes: the signal connection drops; the client resumes on a
// new one and keeps its session, tracks and subscriptions.
func TestDroppedWebsocketResumes(t *testing.T) {
	ts := startServer(t)
	bob := ts.connect(t, "drop", "bob", false)
	alice := ts.connect(t, "drop", "alice", true)
	if _, err := alice.PublishVP8(lktest.VideoOptions{BitrateKbps: 200}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob receives alice", func() bool { return bob.PacketsFrom("alice", "video") > 10 })
	sid := string(alice.Room.LocalParticipant.SID())

	if !ts.sig.DropSignalForTest("drop", "alice") {
		t.Fatal("alice not found")
	}
	if !ts.sig.DropSignalForTest("drop", "bob") {
		t.Fatal("bob not found")
	}
	// Bob's signal is gone too, yet media keeps flowing and both come back.
	before := bob.PacketsFrom("alice", "video")
	waitFor(t, "bob still receives alice", func() bool { return bob.PacketsFrom("alice", "video") > before+30 })
	waitFor(t, "both resumed", func() bool {
		return alice.Room.ConnectionState() == lksdk.ConnectionStateConnected && bob.Room.ConnectionState() == lksdk.ConnectionStateConnected
	})
	ps := ts.sig.Participants("drop")
	if len(ps) != 2 {
		t.Fatalf("%d participants after resume, want 2", len(ps))
	}
	for _, p := range ps {
		if p.Identity == "alice" && (p.SID != sid || len(p.Tracks) != 1) {
			t.Fatalf("alice after resume: sid %s (was %s), %d tracks", p.SID, sid, len(p.Tracks))
		}
	}
	if bob.SawLeave("alice") {
		t.Error("bob saw alice leave during a resume")
	}
	// The signal works after the resume: a mute reaches bob.
	for _, pub := range alice.Room.LocalParticipant.TrackPublications() {
		if lp, ok := pub.(*lksdk.LocalTrackPublication); ok {
			lp.SetMuted(true)
		}
	}
	waitFor(t, "bob sees the mute after the resume", func() bool {
		for sidT := range bob.Tracks() {
			if m, ok := bob.MutedSeen(sidT); ok && m {
				return true
			}
		}
		return false
	})
}

// TestDroppedWebsocketRejoins: when the session cannot be resumed, the client is asked
// to rejoin in full, and does, republishing its tracks.
func TestDroppedWebsocketRejoins(t *testing.T) {
	ts := startServer(t)
	bob := ts.connect(t, "rejoin", "bob", false)
	alice := ts.connect(t, "rejoin", "alice", true)
	if _, err := alice.PublishVP8(lktest.VideoOptions{BitrateKbps: 200}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob receives alice", func() bool { return bob.PacketsFrom("alice", "video") > 10 })
	oldSID := string(alice.Room.LocalParticipant.SID())
	// The server forgets alice's session (as when her resume window runs out), which also
	// drops her signal connection: her resume is refused and she joins afresh. Dropping
	// the connection first and forgetting after raced her resume: resumed in between, she
	// sat on a session that had just ended until her client gave up (10 s).
	if !ts.sig.ForgetForTest("rejoin", "alice") {
		t.Fatal("alice not found")
	}
	waitFor(t, "alice back with a new session", func() bool {
		for _, p := range ts.sig.Participants("rejoin") {
			if p.Identity == "alice" && p.SID != oldSID && len(p.Tracks) == 1 {
				return true
			}
		}
		return false
	})
	before := bob.PacketsFrom("alice", "video")
	waitFor(t, "bob receives alice again", func() bool { return bob.PacketsFrom("alice", "video") > before+10 })
}

func TestDataPacketsReachTheirDestination(t *testing.T) {
	ts := startServer(t)
	alice := ts.connect(t, "data", "alice", true)
	bob := ts.connect(t, "data", "bob", true)
	carol := ts.connect(t, "data", "carol", true)

	// To everyone.
	if err := alice.Room.LocalParticipant.PublishDataPacket(lksdk.UserData([]byte("hello all")), lksdk.WithDataPublishTopic("chat"),
		lksdk.WithDataPublishReliable(true)); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob gets the broadcast", func() bool { return len(bob.DataFrom("alice")) == 1 })
	waitFor(t, "carol gets the broadcast", func() bool { return len(carol.DataFrom("alice")) == 1 })
	if d := bob.DataFrom("alice")[0]; string(d.Payload) != "hello all" || d.Topic != "chat" {
		t.Fatalf("bob got %q on %q", d.Payload, d.Topic)
	}
	// To one.
	if err := alice.Room.LocalParticipant.PublishDataPacket(lksdk.UserData([]byte("only bob")),
		lksdk.WithDataPublishDestination([]string{"bob"})); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob gets the direct packet", func() bool { return len(bob.DataFrom("alice")) == 2 })
	time.Sleep(300 * time.Millisecond)
	if n := len(carol.DataFrom("alice")); n != 1 {
		t.Fatalf("carol got %d packets, want only the broadcast", n)
	}
	if n := len(alice.DataFrom("alice")); n != 0 {
		t.Fatalf("alice got her own packets back")
	}
}

// TestNoGoroutineLeak: after every participant left and the room closed, the
// goroutines the server started are gone.
func TestNoGoroutineLeak(t *testing.T) {
	before := runtime.NumGoroutine()
	func() {
		ts := startServer(t)
		a := ts.connect(t, "leak", "a", true)
		b := ts.connect(t, "leak", "b", true)
		if _, err := a.PublishVP8(lktest.VideoOptions{BitrateKbps: 200}); err != nil {
			t.Fatal(err)
		}
		if _, err := b.PublishOpus(""); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "media flows", func() bool { return b.PacketsFrom("a", "video") > 10 && a.PacketsFrom("b", "audio") > 10 })
		a.Close()
		b.Close()
		if !lktest.Eventually(10*time.Second, func() bool { return len(ts.sig.Rooms()) == 0 }) {
			for _, name := range ts.sig.Rooms() {
				for _, p := range ts.sig.Participants(name) {
					t.Logf("room %q still holds %s (%s), state %s, %d tracks", name, p.Identity, p.SID, p.State, len(p.Tracks))
				}
			}
			t.Fatalf("timed out waiting for room closes when empty: rooms %v", ts.sig.Rooms())
		}
		ts.sig.Close()
		ts.http.Close()
		_ = ts.eng.Close()
	}()
	ok := lktest.Eventually(10*time.Second, func() bool { return runtime.NumGoroutine() <= before+2 })
	if !ok {
		buf := make([]byte, 1<<20)
		n := runtime.Stack(buf, true)
		t.Fatalf("goroutines: %d before, %d after\n%s", before, runtime.NumGoroutine(), buf[:n])
	}
}

// TestManualSubscription: with auto-subscribe off nothing arrives until the client
// subscribes, and unsubscribing stops it.
func TestManualSubscription(t *testing.T) {
	ts := startServer(t)
	alice := ts.connect(t, "manual", "alice", true)
	bob, err := lktest.Connect(ts.url, ts.token(t, "manual", "bob", false), lksdk.WithAutoSubscribe(false))
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	v, err := alice.PublishVP8(lktest.VideoOptions{BitrateKbps: 200})
	if err != nil {
		t.Fatal(err)
	}
	var pub *lksdk.RemoteTrackPublication
	waitFor(t, "bob learns of alice's track", func() bool {
		rp := bob.Room.GetParticipantByIdentity("alice")
		if rp == nil {
			return false
		}
		pub, _ = rp.GetTrackPublication(livekit.TrackSource_CAMERA).(*lksdk.RemoteTrackPublication)
		return pub != nil && pub.SID() == v.SID
	})
	time.Sleep(500 * time.Millisecond)
	if n := bob.PacketsFrom("alice", ""); n != 0 {
		t.Fatalf("bob received %d packets without subscribing", n)
	}
	if err := pub.SetSubscribed(true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob receives after subscribing", func() bool { return bob.PacketsFrom("alice", "video") > 20 })
	if err := pub.SetSubscribed(false); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the forwarding stops after unsubscribing", func() bool {
		n := bob.PacketsFrom("alice", "video")
		time.Sleep(300 * time.Millisecond)
		return bob.PacketsFrom("alice", "video") == n
	})
}

// TestActiveSpeakers: a participant whose audio carries speech levels becomes an active
// speaker for the others, and stops being one in silence.
func TestActiveSpeakers(t *testing.T) {
	ts := startServer(t)
	alice := ts.connect(t, "talk", "alice", true)
	bob := ts.connect(t, "talk", "bob", true)
	a, err := alice.PublishOpus("")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.PublishOpus(""); err != nil {
		t.Fatal(err)
	}
	speakers := func() []string {
		var ids []string
		for _, p := range bob.Room.ActiveSpeakers() {
			ids = append(ids, p.Identity())
		}
		return ids
	}
	waitFor(t, "bob receives alice's audio", func() bool { return bob.PacketsFrom("alice", "audio") > 10 })
	time.Sleep(500 * time.Millisecond)
	if s := speakers(); len(s) != 0 {
		t.Fatalf("speakers in silence: %v", s)
	}
	a.SetLevel(20)
	waitFor(t, "alice speaking for bob", func() bool { s := speakers(); return len(s) == 1 && s[0] == "alice" })
	a.SetLevel(127)
	waitFor(t, "alice silent again", func() bool { return len(speakers()) == 0 })
}

// TestRemovedWhileAway: a host removes a party whose signal connection has just dropped.
// When her client comes back to resume, it must hear that she was removed and stay out.
// Told only "cannot resume", it rejoined with a new session, as if never removed.
func TestRemovedWhileAway(t *testing.T) {
	ts := startServer(t)
	ts.connect(t, "away", "host", true)
	alice := ts.connect(t, "away", "alice", true)
	oldSID := string(alice.Room.LocalParticipant.SID())
	if !ts.sig.DropSignalForTest("away", "alice") {
		t.Fatal("alice not found")
	}
	if err := ts.sig.RemoveParticipant("away", "alice"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "alice's client told she was removed", func() bool { return alice.Ended() != "" })
	if why := alice.Ended(); why != lksdk.ParticipantRemoved {
		t.Fatalf("alice's client ended with %q, want %q", why, lksdk.ParticipantRemoved)
	}
	// Give a wrongly told client the time to rejoin, then check that it did not.
	time.Sleep(1500 * time.Millisecond)
	for _, p := range ts.sig.Participants("away") {
		if p.Identity == "alice" {
			t.Fatalf("alice is back in the room (sid %s, was %s)", p.SID, oldSID)
		}
	}
}
