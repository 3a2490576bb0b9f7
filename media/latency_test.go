package media

import (
	"runtime"
	"testing"
	"time"
)

// TestForwardLatencyHistogram: with one subscriber, every packet forwarded is
// one fan-out pass and one latency sample, and the samples are plausible: not
// zero, and far under a second on loopback.
func TestForwardLatencyHistogram(t *testing.T) {
	defer checkGoroutines(t)()
	s := newSession(t, "")
	defer s.close()
	waitFor(t, 10*time.Second, "100 packets at the subscriber", func() bool { return len(s.sub.snapshot()) >= 100 })
	s.pub.paused[0].Store(true) // nothing in flight while the counters are read
	time.Sleep(100 * time.Millisecond)
	st := s.eng.Stats()
	h := st.ForwardLatency
	if h.Count == 0 || h.Count != st.PacketsForwarded {
		t.Fatalf("%d latency samples for %d packets forwarded to one subscriber", h.Count, st.PacketsForwarded)
	}
	var sum uint64
	for _, c := range h.Counts {
		sum += c
	}
	if sum != h.Count || len(h.Counts) != len(h.BoundsUs)+1 {
		t.Errorf("buckets sum to %d, count %d (%d buckets, %d bounds)", sum, h.Count, len(h.Counts), len(h.BoundsUs))
	}
	mean := time.Duration(h.SumNs / h.Count)
	p50, p99 := h.Quantile(0.5), h.Quantile(0.99)
	t.Logf("forward latency: %d samples, mean %v, p50 %v, p99 %v", h.Count, mean, p50, p99)
	// A pass encrypts and makes a system call: more than a microsecond. A
	// loaded test machine can stall a pass, but not for a quarter of a second.
	if mean < time.Microsecond || mean > 250*time.Millisecond || p50 <= 0 || p50 > p99 || p99 > 250*time.Millisecond {
		t.Errorf("implausible: mean %v, p50 %v, p99 %v", mean, p50, p99)
	}

	// The same passes timed from the kernel's receive stamps, which the socket
	// reader notes (Linux): every packet is found, and each waited in the
	// kernel and the receive hand-offs before the forwarding path saw it.
	if a := st.AddedLatency; runtime.GOOS == "linux" && (a.Count != h.Count || a.SumNs < h.SumNs) {
		t.Errorf("added latency: %d samples summing to %v, forwarding path: %d summing to %v (does the socket reader note kernel stamps in the arrivalTable? rxstamp_linux.go)",
			a.Count, time.Duration(a.SumNs), h.Count, time.Duration(h.SumNs))
	}
	t.Logf("added latency (from the kernel's stamps): p50 %v, p99 %v", st.AddedLatency.Quantile(0.5), st.AddedLatency.Quantile(0.99))

	// Windows: what was recorded between two snapshots.
	s.pub.paused[0].Store(false)
	waitFor(t, 5*time.Second, "50 more packets", func() bool { return s.eng.Stats().PacketsForwarded >= st.PacketsForwarded+50 })
	st2 := s.eng.Stats()
	if d := st2.ForwardLatency.Sub(h); d.Count != st2.PacketsForwarded-st.PacketsForwarded {
		t.Errorf("window: %d samples for %d packets", d.Count, st2.PacketsForwarded-st.PacketsForwarded)
	}
}

func TestLatencyHistQuantile(t *testing.T) {
	var h latencyHist
	for range 98 {
		h.observe(int64(45 * time.Microsecond)) // bucket (40, 50]
	}
	h.observe(int64(1900 * time.Microsecond)) // (1750, 2000]
	h.observe(int64(time.Second))             // above every bound
	s := h.snapshot()
	if s.Count != 100 || s.Counts[4] != 98 || s.Counts[len(s.Counts)-1] != 1 {
		t.Fatalf("counts %v", s.Counts)
	}
	if q := s.Quantile(0.5); q <= 40*time.Microsecond || q > 50*time.Microsecond {
		t.Errorf("p50 %v, want in (40µs, 50µs]", q)
	}
	if q := s.Quantile(0.99); q <= 1750*time.Microsecond || q > 2*time.Millisecond {
		t.Errorf("p99 %v, want in (1.75ms, 2ms]", q)
	}
	if q := s.Quantile(1); q != 100*time.Millisecond {
		t.Errorf("max %v, want the last bound", q)
	}
	if allocs := testing.AllocsPerRun(1000, func() { h.observe(700_000) }); allocs != 0 {
		t.Errorf("observe allocates %v", allocs)
	}
}

func TestArrivalTable(t *testing.T) {
	var a arrivalTable
	rtpHdr := func(seq uint16, ssrc uint32) []byte {
		return []byte{0x80, 96, byte(seq >> 8), byte(seq), 0, 0, 0, 0, byte(ssrc >> 24), byte(ssrc >> 16), byte(ssrc >> 8), byte(ssrc)}
	}
	a.note(rtpHdr(7, 0xdeadbeef), 1234)
	if got := a.lookup(0xdeadbeef, 7); got != 1234 {
		t.Errorf("lookup = %d, want 1234", got)
	}
	if got := a.lookup(0xdeadbeef, 8); got != 0 {
		t.Errorf("a packet never noted: %d", got)
	}
	a.note(rtpHdr(8, 0xdeadbeef), 0) // a reader that found no stamp
	if got := a.lookup(0xdeadbeef, 8); got != 0 {
		t.Errorf("a packet noted without a stamp: %d", got)
	}
	rtcp := rtpHdr(9, 1)
	rtcp[1] = 200 // a sender report
	a.note(rtcp, 99)
	a.note([]byte{0x16, 0xfe, 0xfd}, 99) // DTLS
	if got := a.lookup(1, 9); got != 0 {
		t.Errorf("RTCP noted: %d", got)
	}
	// A full table's worth of newer packets later, the old stamp is gone, not wrong.
	for i := range arrivalSlots * 4 {
		a.note(rtpHdr(uint16(i), 42), int64(i+1))
	}
	if got := a.lookup(0xdeadbeef, 7); got != 0 {
		t.Errorf("a stamp survived %d newer packets: %d", arrivalSlots*4, got)
	}
	var nilTable *arrivalTable
	nilTable.note(rtpHdr(1, 1), 1)
	if nilTable.lookup(1, 1) != 0 {
		t.Error("nil table")
	}
}
