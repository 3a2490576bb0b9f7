package media

import (
	"testing"
	"time"
)

// link simulates a bottleneck of capacity bps: what is sent above it is lost.
func lossAt(sent, capacity float64) float64 {
	if sent <= capacity {
		return 0
	}
	return (sent - capacity) / sent
}

// TestBWEDescendsAndRecovers: an estimate far above a 300 kbit/s link comes
// down to what fits within a few reports, does not keep probing into loss,
// and climbs back once the link is clean again.
func TestBWEDescendsAndRecovers(t *testing.T) {
	e := newBWE()
	now := time.Unix(0, 0)
	desired := 1_000_000.0
	send := func() float64 { return min(e.estimate, desired) }
	capacity := 300_000.0
	var lossy int
	for i := 0; i < 40; i++ { // 20 s of reports every 500 ms
		now = now.Add(500 * time.Millisecond)
		s := send()
		l := lossAt(s, capacity)
		if i >= 8 && l > 0.1 {
			lossy++
		}
		e.onReport(now, l, s, desired, 0)
		if i == 6 && e.estimate > capacity {
			t.Fatalf("after 3 s on a %0.f bit/s link the estimate is still %.0f", capacity, e.estimate)
		}
	}
	if lossy > 10 {
		t.Errorf("%d of 32 reports after the descent saw heavy loss: probing too often", lossy)
	}
	capacity = 5_000_000
	var back time.Duration
	for i := 0; i < 40 && back == 0; i++ {
		now = now.Add(500 * time.Millisecond)
		s := send()
		e.onReport(now, lossAt(s, capacity), s, desired, 0)
		if e.estimate >= desired {
			back = time.Duration(i+1) * 500 * time.Millisecond
		}
	}
	if back == 0 || back > 12*time.Second {
		t.Fatalf("the estimate reached %.0f after the link recovered (want %.0f within 12 s)", e.estimate, desired)
	}
	t.Logf("back to the desired rate %s after the link recovered", back)
}

// TestREDPrimary: the primary block of an RFC 2198 payload, and refusals of
// truncated ones.
func TestREDPrimary(t *testing.T) {
	prim := []byte{0xfc, 1, 2, 3}
	red := []byte{0xfc, 9, 9}
	payload := append([]byte{0x80 | 111, 0x0f, 0x00 | 0, byte(len(red)), 111}, append(red, prim...)...)
	got, ok := redPrimary(payload)
	if !ok || string(got) != string(prim) {
		t.Fatalf("primary = % x, %v; want % x", got, ok, prim)
	}
	if got, ok := redPrimary(append([]byte{111}, prim...)); !ok || string(got) != string(prim) {
		t.Fatalf("no redundancy: % x, %v", got, ok)
	}
	for _, bad := range [][]byte{nil, {0x80 | 111, 0}, {0x80 | 111, 0x0f, 0x00, 200, 111, 1}} {
		if _, ok := redPrimary(bad); ok {
			t.Errorf("accepted a truncated payload % x", bad)
		}
	}
}
