package signaling_test

import (
	"testing"
	"time"
)

// TestSimulcastOneTrack: three rids arrive as one track; the subscriber gets the best
// layer as one continuous stream, and when that layer stops, the next one below.
func TestSimulcastOneTrack(t *testing.T) {
	ts := startServer(t)
	alice := ts.connect(t, "sim", "alice", true)
	bob := ts.connect(t, "sim", "bob", false)
	sp, err := alice.PublishSimulcastVP8("camera", [3]int{150, 400, 1200})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob receives the simulcast track", func() bool {
		r := bob.Tracks()[sp.SID]
		return r != nil && r.Packets.Load() > 50
	})
	n := 0
	for _, p := range ts.sig.Participants("sim") {
		n += len(p.Tracks)
	}
	if n != 1 {
		t.Fatalf("%d tracks published, want one for three rids", n)
	}
	r := bob.Tracks()[sp.SID]
	// The high layer is the one forwarded: compare the byte rate with the layers'.
	rate := func() float64 {
		b0, t0 := r.Bytes.Load(), time.Now()
		time.Sleep(time.Second)
		return float64(r.Bytes.Load()-b0) * 8 / time.Since(t0).Seconds() / 1000
	}
	// Give the switch to the top layer a keyframe interval to happen.
	waitFor(t, "bob on the high layer", func() bool { return rate() > 800 })

	// The high layer stops: bob falls back to the medium one after its keyframe.
	sp.Layers[2].Stop()
	waitFor(t, "bob on the medium layer", func() bool { k := rate(); return k > 250 && k < 700 })
	jumpsBefore := r.SeqJumps.Load()
	before := r.Packets.Load()
	time.Sleep(time.Second)
	if r.Packets.Load() < before+20 {
		t.Fatal("media stopped after the fallback")
	}
	if j := r.SeqJumps.Load() - jumpsBefore; j > 2 {
		t.Errorf("%d sequence jumps in a steady second after the switch; the rewriter leaks gaps", j)
	}
	if total := r.SeqJumps.Load(); total > 10 {
		t.Errorf("%d sequence jumps overall; layer switches should be seamless", total)
	}
}
