package media

import (
	"testing"
	"time"

	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// twccLink runs packets of size bytes, sent at sendBps, through a bottleneck
// of 2 Mbit/s that narrows to linkBps after narrowAt (a queue of 100 ms,
// dropping beyond it), for dur; the receiver is Pion's TWCC recorder (what
// the Go SDK runs), which reports every 100 ms. It returns the sender's
// reports, one per 500 ms.
func twccLink(t *testing.T, sendBps, linkBps float64, narrowAt, dur time.Duration) []twccReport {
	t.Helper()
	const size = 1000
	const queueMax = 100 * time.Millisecond
	const baseDelay = 20 * time.Millisecond
	tw := newTWCCSender()
	rec := twcc.NewRecorder(1)
	gap := time.Duration(float64(size*8) / sendBps * float64(time.Second))
	wide := time.Duration(float64(size*8) / 2_000_000 * float64(time.Second))
	narrow := time.Duration(float64(size*8) / linkBps * float64(time.Second))
	var linkFree time.Duration // when the bottleneck finishes the packets queued so far
	var reports []twccReport
	nextFB, nextTake := 100*time.Millisecond, 500*time.Millisecond
	for now := time.Duration(0); now < dur; now += gap {
		seq := tw.stampAt(int64(now), size)
		perPkt := wide
		if now >= narrowAt {
			perPkt = narrow
		}
		start := max(now, linkFree)
		if start-now <= queueMax { // else the queue is full: dropped
			linkFree = start + perPkt
			rec.Record(1, seq, int64((linkFree+baseDelay)/time.Microsecond))
		}
		if now >= nextFB {
			for _, p := range rec.BuildFeedbackPacket() {
				if fb, ok := p.(*rtcp.TransportLayerCC); ok {
					tw.onFeedback(time.Now(), fb)
				}
			}
			nextFB += 100 * time.Millisecond
		}
		if now >= nextTake {
			reports = append(reports, tw.take())
			nextTake += 500 * time.Millisecond
		}
	}
	return reports
}

func TestTWCCFitsLink(t *testing.T) {
	// The link carries everything: no overuse, what got through is what we sent.
	for i, r := range twccLink(t, 900_000, 2_000_000, 0, 5*time.Second) {
		if r.overuse {
			t.Errorf("report %d: overuse on a link with room: %+v", i, r)
		}
		if i > 0 && (r.acked < 800_000 || r.acked > 1_000_000) {
			t.Errorf("report %d: acked %.0f bit/s, sent 900000", i, r.acked)
		}
		if r.loss != 0 {
			t.Errorf("report %d: loss %.2f on a lossless link", i, r.loss)
		}
	}
}

func TestTWCCOveruse(t *testing.T) {
	// 900 kbit/s through a link that narrows to 300 after 2 s: the queue
	// grows, then drops. The detector says overuse within a second, and
	// what got through is the link's rate.
	reports := twccLink(t, 900_000, 300_000, 2*time.Second, 5*time.Second)
	first := -1
	for i, r := range reports {
		if r.overuse && first < 0 {
			first = i
		}
	}
	// reports[3] covers 1.5-2 s, before the link narrowed
	if first < 4 || first > 5 {
		t.Fatalf("overuse first in report %d (500 ms each); want within the first second: %+v", first, reports)
	}
	last := reports[len(reports)-1]
	if last.acked < 270_000 || last.acked > 330_000 {
		t.Errorf("acked %.0f bit/s through a 300 kbit/s link", last.acked)
	}
	if last.loss < 0.5 {
		t.Errorf("loss %.2f; two thirds of what we send cannot pass", last.loss)
	}
}

func TestBWEOveruseCutsToDelivered(t *testing.T) {
	e := newBWE()
	now := time.Now()
	// A first window that began before the link narrowed overstates it; the
	// next corrects the cut at once, without waiting out a hold.
	e.onOveruse(now, 600_000)
	if e.estimate != delayBackoff*600_000 {
		t.Fatalf("estimate %.0f after overuse with 600 kbit/s through", e.estimate)
	}
	e.onOveruse(now.Add(500*time.Millisecond), 300_000)
	if e.estimate != delayBackoff*300_000 {
		t.Fatalf("estimate %.0f after overuse with 300 kbit/s through", e.estimate)
	}
	// An overuse that does not cut (we already allow less than gets
	// through) still holds growth back, even on clean reports.
	e.onOveruse(now.Add(2600*time.Millisecond), 300_000)
	est := e.estimate
	e.onReport(now.Add(3*time.Second), 0, 250_000, 1_000_000, 250_000)
	e.onReport(now.Add(3500*time.Millisecond), 0, 250_000, 1_000_000, 250_000)
	if e.estimate != est {
		t.Fatalf("estimate grew from %.0f to %.0f within the hold", est, e.estimate)
	}
}

// BenchmarkTWCCStamp is the per-packet cost the forwarding path pays for
// transport-wide numbering: the sequence number, the send record and the
// header extension.
func BenchmarkTWCCStamp(b *testing.B) {
	tw := newTWCCSender()
	var s scratchHeader
	pkt := &rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SSRC: 1}, Payload: make([]byte, 1000)}
	b.Run("rewrite", func(b *testing.B) { // the header rewrite alone, for comparison
		b.ReportAllocs()
		for b.Loop() {
			s.rewrite(pkt, 0, 2, 96, 0, 1, 1)
		}
	})
	b.Run("rewrite+stamp", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			h := s.rewrite(pkt, 0, 2, 96, 0, 1, 1)
			tw.stampHeader(h, 3, &s.tw, len(pkt.Payload), tw.since(time.Time{}, 0))
		}
	})
}
