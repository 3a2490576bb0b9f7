package media

import (
	"encoding/binary"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

func TestVP8Keyframe(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    []byte
		want bool
	}{
		{"plain key", []byte{0x10, 0x00}, true},
		{"plain delta", []byte{0x10, 0x01}, false},
		{"not start", []byte{0x00, 0x00}, false},
		{"partition 1", []byte{0x11, 0x00}, false},
		{"X I 7-bit pid", []byte{0x90, 0x80, 0x05, 0x00}, true},
		{"X I 15-bit pid", []byte{0x90, 0x80, 0x85, 0x01, 0x00}, true},
		{"X I M L T K delta", []byte{0x90, 0xF0, 0x85, 0x01, 0x07, 0x20, 0x01}, false},
		{"X I M L T K key", []byte{0x90, 0xF0, 0x85, 0x01, 0x07, 0x20, 0x9d}, false}, // 0x9d has P=1
		{"X L key", []byte{0x90, 0x40, 0x07, 0x50}, true},
		{"truncated", []byte{0x90, 0x80}, false},
		{"empty", nil, false},
	} {
		if got := vp8KeyframeStart(tc.p); got != tc.want {
			t.Errorf("%s: got %v want %v", tc.name, got, tc.want)
		}
	}
}

func TestH264Keyframe(t *testing.T) {
	for _, tc := range []struct {
		name string
		p    []byte
		want bool
	}{
		{"SPS", []byte{0x67, 0x42}, true},
		{"IDR", []byte{0x65, 0x88}, true},
		{"non-IDR", []byte{0x41, 0x9a}, false},
		{"STAP-A SPS PPS", []byte{0x78, 0x00, 0x02, 0x67, 0x42, 0x00, 0x02, 0x68, 0xce}, true},
		{"STAP-A SEI", []byte{0x78, 0x00, 0x02, 0x06, 0x05}, false},
		{"FU-A IDR start", []byte{0x7c, 0x85, 0x00}, true},
		{"FU-A IDR middle", []byte{0x7c, 0x05, 0x00}, false},
		{"FU-A non-IDR start", []byte{0x7c, 0x81}, false},
	} {
		if got := h264KeyframeStart(tc.p); got != tc.want {
			t.Errorf("%s: got %v want %v", tc.name, got, tc.want)
		}
	}
}

func TestSeqUnwrap(t *testing.T) {
	var u seqUnwrapper
	in := []uint16{65534, 65535, 0, 1, 65535, 2, 3}
	want := []uint64{1<<16 | 65534, 1<<16 | 65535, 2 << 16, 2<<16 | 1, 1<<16 | 65535, 2<<16 | 2, 2<<16 | 3}
	for i, s := range in {
		if got := u.unwrap(s); got != want[i] {
			t.Errorf("unwrap(%d) #%d = %d, want %d", s, i, got, want[i])
		}
	}
}

func TestPickLayer(t *testing.T) {
	for _, tc := range []struct {
		flowing uint32
		max     int8
		want    int8
	}{
		{0b111, 2, 2}, {0b011, 2, 1}, {0b111, 0, 0}, {0b100, 0, 2}, {0b101, 1, 0}, {0, 2, -1},
	} {
		if got := pickLayer(tc.flowing, tc.max); got != tc.want {
			t.Errorf("pickLayer(%03b, %d) = %d, want %d", tc.flowing, tc.max, got, tc.want)
		}
	}
}

// TestForwarderSwitch drives the pure forwarder through a layer switch and
// checks the rewritten numbers.
func TestForwarderSwitch(t *testing.T) {
	f := newForwarder(true, 90000)
	var pkt rtp.Packet
	pkt.Payload = []byte{1}
	mk := func(layer int8, ext uint64, ts uint32, kf bool, at time.Duration, flowing uint32) *inPacket {
		pkt.Timestamp = ts
		return &inPacket{pkt: &pkt, ext: ext, layer: layer, keyframe: kf, arrival: int64(at), flowing: flowing}
	}
	// Delta frames before the first keyframe are dropped, and a keyframe is asked for.
	v := f.process(mk(0, 1000, 5000, false, 0, 0b01), 2)
	if v.ok || v.wantKF != 0 {
		t.Fatalf("before keyframe: %+v", v)
	}
	v = f.process(mk(0, 1001, 5000, true, 0, 0b01), 2)
	if !v.ok || v.seq != uint16(1001) || v.ts != 5000 {
		t.Fatalf("keyframe: %+v", v)
	}
	v = f.process(mk(0, 1002, 8000, false, 33*time.Millisecond, 0b01), 2)
	if !v.ok || v.seq != 1002 || v.ts != 8000 {
		t.Fatalf("delta: %+v", v)
	}
	// Layer 1 starts flowing: keep forwarding 0 until 1 has a keyframe.
	v = f.process(mk(1, 70000, 900000, false, 40*time.Millisecond, 0b11), 2)
	if v.ok || v.wantKF != 1 {
		t.Fatalf("layer 1 delta: %+v", v)
	}
	v = f.process(mk(0, 1003, 11000, false, 66*time.Millisecond, 0b11), 2)
	if !v.ok || v.seq != 1003 {
		t.Fatalf("layer 0 while waiting: %+v", v)
	}
	// Keyframe on 1 at +100ms: seq continues, ts advances by 34ms of 90 kHz.
	v = f.process(mk(1, 70001, 909000, true, 100*time.Millisecond, 0b11), 2)
	if !v.ok || v.seq != 1004 || v.ts != 11000+34*90 || !v.switched {
		t.Fatalf("switch: %+v (want ts %d)", v, 11000+34*90)
	}
	// Old layer is now dropped; new layer continues.
	if v = f.process(mk(0, 1004, 14000, false, 100*time.Millisecond, 0b11), 2); v.ok {
		t.Fatalf("old layer after switch: %+v", v)
	}
	v = f.process(mk(1, 70002, 912000, false, 133*time.Millisecond, 0b11), 2)
	if !v.ok || v.seq != 1005 || v.ts != 11000+34*90+3000 {
		t.Fatalf("after switch: %+v", v)
	}
	// A padding probe in order is hidden.
	pkt.Payload = nil
	if v = f.process(mk(1, 70003, 912000, false, 140*time.Millisecond, 0b11), 2); v.ok || !v.padding {
		t.Fatalf("padding: %+v", v)
	}
	pkt.Payload = []byte{1}
	if v = f.process(mk(1, 70004, 915000, false, 166*time.Millisecond, 0b11), 2); v.seq != 1006 {
		t.Fatalf("after padding: %+v", v)
	}
	// A retransmission of an older packet keeps its place.
	if v = f.process(mk(1, 70002, 912000, false, 170*time.Millisecond, 0b11), 2); !v.ok || v.seq != 1005 {
		t.Fatalf("retransmission: %+v", v)
	}
}

// discardWriter stands in for Pion's bound write stream in the allocation
// test and the benchmark: it counts and drops.
type discardWriter struct {
	n     atomic.Int64
	block chan struct{} // if set, WriteRTP waits on it (a stuck transport)
}

func (w *discardWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	if w.block != nil {
		<-w.block
	}
	w.n.Add(1)
	return h.MarshalSize() + len(payload), nil
}

func (w *discardWriter) Write(b []byte) (int, error) { return len(b), nil }

// bindCtx is a webrtc.TrackLocalContext with one negotiated VP8 codec.
type bindCtx struct {
	id string
	w  webrtc.TrackLocalWriter
}

func (c bindCtx) CodecParameters() []webrtc.RTPCodecParameters {
	return []webrtc.RTPCodecParameters{{PayloadType: 100, RTPCodecCapability: vp8Cap()}}
}
func (c bindCtx) HeaderExtensions() []webrtc.RTPHeaderExtensionParameter { return nil }
func (c bindCtx) SSRC() webrtc.SSRC                                      { return 1234 }
func (c bindCtx) SSRCRetransmission() webrtc.SSRC                        { return 0 }
func (c bindCtx) SSRCForwardErrorCorrection() webrtc.SSRC                { return 0 }
func (c bindCtx) WriteStream() webrtc.TrackLocalWriter                   { return c.w }
func (c bindCtx) ID() string                                             { return c.id }
func (c bindCtx) RTCPReader() interceptor.RTCPReader                     { return nil }

// unitTrack is an up track with a VP8 codec and no peer connection, and n
// down tracks bound to discard writers.
func unitTrack(t testing.TB, n int) (*UpTrack, []*DownTrack, *discardWriter) {
	up := NewUpTrack(UpTrackConfig{ID: "up", Kind: webrtc.RTPCodecTypeVideo})
	up.codec = webrtc.RTPCodecParameters{PayloadType: 96, RTPCodecCapability: vp8Cap()}
	up.ck = codecVP8
	w := &discardWriter{}
	var downs []*DownTrack
	for i := range n {
		d := up.NewDownTrack("d", "s")
		if _, err := d.Bind(bindCtx{id: string(rune('a' + i%26)), w: w}); err != nil {
			t.Fatal(err)
		}
		downs = append(downs, d)
	}
	return up, downs, w
}

// feeder makes packets of one layer the way a read loop does.
type feeder struct {
	up      *UpTrack
	raw     []byte
	pkt     rtp.Packet
	seq     seqUnwrapper
	scratch scratchHeader
	n       uint16
}

func newFeeder(up *UpTrack) *feeder {
	f := &feeder{up: up, raw: make([]byte, 0, 1500)}
	up.flowing.Store(1)
	return f
}

// next fans out one packet; every 100th starts a keyframe.
func (f *feeder) next() {
	f.n++
	kf := f.n%100 == 1
	h := rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: f.n, Timestamp: uint32(f.n) * 1500, SSRC: 42, Marker: true}
	raw, _ := h.MarshalTo(f.raw[:cap(f.raw)])
	payload := f.raw[raw : raw+1000]
	payload[0] = 0x10
	payload[1] = 0x01
	if kf {
		payload[1] = 0x00
	}
	binary.BigEndian.PutUint16(payload[2:], f.n)
	buf := f.raw[:raw+1000]
	if err := f.pkt.Unmarshal(buf); err != nil {
		panic(err)
	}
	p := inPacket{
		pkt: &f.pkt, ext: f.seq.unwrap(f.pkt.SequenceNumber), arrival: f.up.now(),
		flowing: f.up.flowing.Load(), layer: 0, keyframe: isKeyframeStart(codecVP8, f.pkt.Payload),
	}
	f.up.fanOut(&p, buf, &f.scratch)
}

// TestForwardAllocs proves the per-packet path (unmarshal, keyframe check,
// fan-out to bound down tracks, header rewrite, write) allocates nothing.
func TestForwardAllocs(t *testing.T) {
	up, _, w := unitTrack(t, 8)
	f := newFeeder(up)
	for range 200 { // past the first keyframe: everything flows
		f.next()
	}
	allocs := testing.AllocsPerRun(1000, f.next)
	if allocs != 0 {
		t.Errorf("forwarding allocates %.1f per packet, want 0", allocs)
	}
	if w.n.Load() < 8*1000 {
		t.Errorf("forwarded %d writes", w.n.Load())
	}
}

// TestLargeFanOut checks that a lecture-sized fan-out goes through the workers
// and every viewer gets every packet once.
func TestLargeFanOut(t *testing.T) {
	defer checkGoroutines(t)()
	const viewers = 1000
	up, _, w := unitTrack(t, viewers)
	if fo := up.downs.Load(); len(fo.shards) == 0 || len(fo.inline) >= viewers {
		t.Fatalf("no workers for %d viewers: inline %d shards %d", viewers, len(fo.inline), len(fo.shards))
	}
	f := newFeeder(up)
	const packets = 300
	for range packets {
		f.next()
		time.Sleep(50 * time.Microsecond) // ~20k packets/s would be a lot for one track
	}
	// The first packets before the keyframe (n=1 is a keyframe) all pass.
	waitFor(t, 5*time.Second, "every viewer's packets", func() bool {
		return w.n.Load()+int64(up.stats.dropsQueueFull.Load()) == viewers*packets
	})
	if d := up.stats.dropsQueueFull.Load(); d != 0 {
		t.Logf("queue drops: %d", d)
	}
	// One latency sample per packet per pass: the read loop's and each worker's.
	passes := uint64(packets * (1 + len(up.downs.Load().shards)))
	if h := up.stats.fwdLatency.snapshot(); h.Count > passes || h.Count < packets || up.stats.dropsQueueFull.Load() == 0 && h.Count != passes {
		t.Errorf("%d latency samples for %d packets in %d passes", h.Count, packets, passes)
	}
	up.Close()
	<-up.Done()
}

// slowSink blocks in WriteRTP until released.
type slowSink struct {
	release chan struct{}
	mu      sync.Mutex
	got     int
	gaps    int
	closed  bool
}

func (s *slowSink) WriteRTP(*rtp.Packet) error {
	<-s.release
	s.mu.Lock()
	s.got++
	s.mu.Unlock()
	return nil
}
func (s *slowSink) WriteGap(n int) { s.mu.Lock(); s.gaps += n; s.mu.Unlock() }
func (s *slowSink) Close() error   { s.mu.Lock(); s.closed = true; s.mu.Unlock(); return nil }

// TestSlowSink: a stuck recorder loses packets (counted, told as a gap) and
// the down tracks do not notice.
func TestSlowSink(t *testing.T) {
	defer checkGoroutines(t)()
	up, _, w := unitTrack(t, 4)
	sink := &slowSink{release: make(chan struct{})}
	remove := up.AddSink(sink)
	f := newFeeder(up)
	const packets = 3000
	start := time.Now()
	for range packets {
		f.next()
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("fan-out took %v with a stuck sink", el)
	}
	if got := w.n.Load(); got != 4*packets {
		t.Errorf("down tracks got %d writes, want %d", got, 4*packets)
	}
	drops := up.SinkDrops()
	if drops < packets-sinkQueueLen-1 || drops > packets-sinkQueueLen {
		t.Errorf("sink drops %d, want about %d", drops, packets-sinkQueueLen)
	}
	close(sink.release)
	waitFor(t, 5*time.Second, "sink drains", func() bool {
		sink.mu.Lock()
		defer sink.mu.Unlock()
		return sink.got == packets-int(drops)
	})
	f.next() // delivered after the gap
	remove()
	sink.mu.Lock()
	defer sink.mu.Unlock()
	if !sink.closed || sink.got != packets-int(drops)+1 || sink.gaps != int(drops) {
		t.Errorf("sink: closed %v got %d gaps %d, drops %d", sink.closed, sink.got, sink.gaps, drops)
	}
	up.Close()
	<-up.Done()
}

// BenchmarkForward measures the per-packet path for one packet fanned out to
// 1, 10 and 100 bound down tracks (writes discarded: this is our cost, not
// SRTP's).
func BenchmarkForward(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(itoa(n)+"subs", func(b *testing.B) {
			up, _, _ := unitTrack(b, n)
			f := newFeeder(up)
			for range 200 {
				f.next()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				f.next()
			}
		})
	}
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// seqWriter records the sequence numbers one down track writes.
type seqWriter struct {
	mu   sync.Mutex
	seqs []uint16
}

func (w *seqWriter) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	w.mu.Lock()
	w.seqs = append(w.seqs, h.SequenceNumber)
	w.mu.Unlock()
	return h.MarshalSize() + len(payload), nil
}
func (w *seqWriter) Write(b []byte) (int, error) { return len(b), nil }

// TestFanOutRecut: viewers join and leave a lecture-sized fan-out while
// packets flow, which recuts the shards the workers write. A viewer present
// throughout gets every packet exactly once: a queued packet is written to
// the shards it was queued under.
func TestFanOutRecut(t *testing.T) {
	defer checkGoroutines(t)()
	up, _, _ := unitTrack(t, 0)
	const viewers = 600
	writers := make([]*seqWriter, viewers)
	var all []*DownTrack
	for i := range viewers {
		writers[i] = &seqWriter{}
		d := up.NewDownTrack("d", "s")
		if _, err := d.Bind(bindCtx{id: itoa(i), w: writers[i]}); err != nil {
			t.Fatal(err)
		}
		all = append(all, d)
	}
	if fo := up.downs.Load(); len(fo.shards) == 0 {
		t.Skip("one core: no fan-out workers to recut")
	}
	f := newFeeder(up)
	churn := 0
	for k := range 400 {
		f.next()
		if k%5 == 4 {
			// One joins at the end, one in the middle leaves: every shard boundary moves.
			d := up.NewDownTrack("d", "s")
			if _, err := d.Bind(bindCtx{id: "j" + itoa(k), w: &discardWriter{}}); err != nil {
				t.Fatal(err)
			}
			all[viewers/2+churn].Close()
			churn++
		}
		time.Sleep(200 * time.Microsecond)
	}
	waitFor(t, 5*time.Second, "the workers drain", func() bool {
		writers[viewers-1].mu.Lock()
		defer writers[viewers-1].mu.Unlock()
		return len(writers[viewers-1].seqs) >= 400-int(up.stats.dropsQueueFull.Load())
	})
	time.Sleep(100 * time.Millisecond)
	if d := up.stats.dropsQueueFull.Load(); d != 0 {
		t.Skipf("%d queue drops on a slow machine: cannot tell a miss from a drop", d)
	}
	for i, w := range writers {
		if i >= viewers/2 && i < viewers/2+churn {
			continue // left during the run
		}
		w.mu.Lock()
		seqs := w.seqs
		w.mu.Unlock()
		if len(seqs) != 400 {
			t.Errorf("viewer %d got %d packets, want 400", i, len(seqs))
			continue
		}
		// A viewer moved from a worker's shard to the read loop's may get one
		// packet before the one queued just ahead of it: order is not the
		// point, every packet once is.
		seqs = slices.Clone(seqs)
		slices.Sort(seqs)
		for j := 1; j < len(seqs); j++ {
			if seqs[j] != seqs[j-1]+1 {
				t.Errorf("viewer %d: packet %d after %d", i, seqs[j], seqs[j-1])
				break
			}
		}
	}
	up.Close()
	<-up.Done()
}
