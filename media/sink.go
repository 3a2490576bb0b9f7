package media

import (
	"sync"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Sink receives the packets of an up track, e.g. a recorder writing WebM.
// It sees one continuous stream (the best flowing simulcast layer, switched at
// keyframes, sequence numbers and timestamps rewritten like a down track's).
// WriteRTP is called from the sink's own goroutine, in order; the sink owns
// the packet it is handed and may keep it. Close is called once, when the
// sink is removed or the up track ends.
type Sink interface {
	WriteRTP(*rtp.Packet) error
	Close() error
}

// SenderReportSink is optionally implemented by a Sink that wants the
// publisher's RTCP sender reports (RFC 3550 §6.4.1) for lip sync. rtpTime is
// translated into the sink's timestamps.
type SenderReportSink interface {
	WriteSenderReport(ntpTime uint64, rtpTime uint32)
}

// GapSink is optionally implemented by a Sink that wants to know about
// packets it lost because its queue was full (the recorder notes these gaps
// in its manifest). WriteGap is called before the next packet handed over,
// with the number of packets dropped since the previous one. The dropped
// packets are also visible as missing sequence numbers.
type GapSink interface {
	WriteGap(dropped int)
}

// sinkQueueLen is deep: a recorder flushing to a slow disk may stall for a
// while, and every drop is a hole in the evidence.
const sinkQueueLen = 1024

// sinkQueue feeds one sink through a bounded queue and its own goroutine, so
// a slow sink never blocks a read loop: a full queue drops and counts.
type sinkQueue struct {
	sink  Sink
	stats *counters

	mu      sync.Mutex // guards fwd and closed; offer and senderReport come from several read loops
	fwd     forwarder
	closed  bool
	ssrc    uint32 // the up track's first layer: one SSRC for the whole recording
	pt      uint8
	red     bool          // the track is RED: the sink gets the primary Opus blocks (red.go)
	ch      chan sinkItem // closed under mu by close
	dropped atomic.Uint64 // total, for SinkDrops
	pending atomic.Int64  // drops not yet told to a GapSink
	done    chan struct{} // closed when the loop has closed the sink
}

type sinkItem struct {
	pkt *rtp.Packet // nil for a sender report
	ntp uint64
	ts  uint32
}

// AddSink attaches a sink to the track. remove detaches it, lets it drain its
// queue and closes it; remove is idempotent and waits for the close.
func (t *UpTrack) AddSink(s Sink) (remove func()) {
	codec := t.Codec()
	q := &sinkQueue{
		sink:  s,
		stats: t.stats,
		fwd:   newForwarder(t.kind == webrtc.RTPCodecTypeVideo, codec.ClockRate),
		pt:    uint8(codec.PayloadType),
		red:   isRED(codec.MimeType),
		ch:    make(chan sinkItem, sinkQueueLen),
		done:  make(chan struct{}),
	}
	if q.red {
		q.pt = ptOpus
	}
	for i := range t.layers {
		if l := t.layers[i].Load(); l != nil {
			q.ssrc = l.ssrc
			break
		}
	}
	go q.loop() // ends when close closes ch; closes the sink

	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		q.close()
		return func() { <-q.done }
	}
	cur := *t.sinks.Load()
	next := append(append(make([]*sinkQueue, 0, len(cur)+1), cur...), q)
	t.sinks.Store(&next)
	t.mu.Unlock()

	// The recording should start now, not at the publisher's next periodic keyframe.
	t.requestLayerKeyframe(pickLayer(t.flowing.Load(), maxLayers-1))
	return func() {
		t.mu.Lock()
		cur := *t.sinks.Load()
		next := make([]*sinkQueue, 0, len(cur))
		for _, x := range cur {
			if x != q {
				next = append(next, x)
			}
		}
		t.sinks.Store(&next)
		t.mu.Unlock()
		q.close()
		<-q.done
	}
}

// SinkDrops is the number of packets the track's sinks lost to full queues.
func (t *UpTrack) SinkDrops() uint64 { return t.stats.dropsSinkFull.Load() }

// offer runs in a read loop: decide, copy, enqueue or drop. It allocates
// (the sink owns its packets), which is fine: a track has a recorder or two,
// not thousands.
func (q *sinkQueue) offer(p *inPacket) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	v := q.fwd.process(p, maxLayers-1)
	if !v.ok {
		return
	}
	if q.ssrc == 0 {
		q.ssrc = p.pkt.SSRC
	}
	payload := p.pkt.Payload
	if q.red {
		var ok bool
		if payload, ok = redPrimary(payload); !ok {
			return
		}
	}
	pkt := &rtp.Packet{Header: rtp.Header{
		Version: 2, Marker: p.pkt.Marker,
		PayloadType: q.pt, SequenceNumber: v.seq, Timestamp: v.ts, SSRC: q.ssrc,
	}, Payload: append([]byte(nil), payload...)}
	size := uint64(len(pkt.Payload) + pkt.Header.MarshalSize()) // pkt is the sink's once sent (it may rewrite it)
	select {
	case q.ch <- sinkItem{pkt: pkt}:
		q.stats.packetsForwarded.Add(1)
		q.stats.bytesForwarded.Add(size)
	default:
		q.dropped.Add(1)
		q.pending.Add(1)
		q.stats.dropsSinkFull.Add(1)
	}
}

// senderReport passes a sender report of layer to the sink when that layer
// is the one it records, with the RTP time in the sink's timestamps.
func (q *sinkQueue) senderReport(layer int8, ntp uint64, rtpTime uint32) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || layer != q.fwd.cur {
		return
	}
	select {
	case q.ch <- sinkItem{ntp: ntp, ts: rtpTime + q.fwd.tsAdd}:
	default:
	}
}

func (q *sinkQueue) loop() {
	defer close(q.done)
	srs, _ := q.sink.(SenderReportSink)
	gaps, _ := q.sink.(GapSink)
	for it := range q.ch {
		if it.pkt == nil {
			if srs != nil {
				srs.WriteSenderReport(it.ntp, it.ts)
			}
			continue
		}
		if n := q.pending.Swap(0); n > 0 && gaps != nil {
			gaps.WriteGap(int(n))
		}
		// A write error is the sink's own business (it logs and decides);
		// we keep feeding it so a transient error is not a lost recording.
		_ = q.sink.WriteRTP(it.pkt)
	}
	_ = q.sink.Close()
}

// close stops the queue; the loop drains it and closes the sink.
func (q *sinkQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		close(q.ch)
	}
}
