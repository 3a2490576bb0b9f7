package media

import (
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// Transport-wide congestion control on the down path
// (draft-holmer-rmcat-transport-wide-cc-extensions-01): every packet sent on
// one subscriber's connection carries a transport-wide sequence number, the
// subscriber (Chrome, or Pion's default TWCC interceptor in the Go SDK) says
// when each one arrived, and from that we learn two things the receiver
// reports cannot tell: the rate that actually got through (what the first cut
// of the estimate should land on) and whether the bottleneck's queue is
// growing (congestion before loss), the delay-based half of Google congestion
// control (draft-ietf-rmcat-gcc-02 §5).
//
// The cost on the forwarding path is one atomic add, three atomic stores and
// one header extension per packet, no allocation.

// twccHistory is how many sent packets we remember: about 10 s at 800 packets
// a second, far longer than feedback takes. A power of two that divides 65536,
// so a 16-bit sequence number finds its slot.
const twccHistory = 1 << 13

// twccSlot is one sent packet. Written by the forwarding goroutine that sent
// it (each number is taken once), read by the RTCP loops.
type twccSlot struct {
	seq  atomic.Uint32 // sequence number + 1 (0: empty); stored last, read first and last
	at   atomic.Int64  // when sent, ns since the sender's epoch
	size atomic.Uint32 // bytes on the wire (RTP header and payload)
}

// twccSender belongs to one subscriber's connection (its Downlink); every
// down track of the subscriber shares it.
type twccSender struct {
	epoch time.Time
	next  atomic.Uint32 // next sequence number to stamp (low 16 bits go on the wire)
	slots [twccHistory]twccSlot

	mu sync.Mutex // guards everything below; taken by the RTCP loops and Downlink.Tick
	fb twccFeedbackState
}

func newTWCCSender() *twccSender { return &twccSender{epoch: time.Now()} }

// stamp takes the next transport-wide sequence number for a packet of size
// bytes about to be sent and remembers when it went.
func (tw *twccSender) stamp(size int) uint16 {
	return tw.stampAt(int64(time.Since(tw.epoch)), size)
}

// stampAt is stamp for a packet sent at (ns since the epoch).
func (tw *twccSender) stampAt(at int64, size int) uint16 {
	n := tw.next.Add(1) - 1
	s := &tw.slots[n%twccHistory]
	// No clearing of seq first: a reader racing this write could only
	// mix it with the packet twccHistory numbers before, which no feedback
	// asks about any more.
	s.at.Store(at)
	s.size.Store(uint32(size))
	s.seq.Store(uint32(uint16(n)) + 1)
	return uint16(n)
}

// lookup finds the send time and size of sequence number seq.
func (tw *twccSender) lookup(seq uint16) (at int64, size int, ok bool) {
	s := &tw.slots[uint32(seq)%twccHistory]
	v := s.seq.Load()
	if v == 0 || uint16(v-1) != seq {
		return 0, 0, false
	}
	at, size = s.at.Load(), int(s.size.Load())
	if s.seq.Load() != v {
		return 0, 0, false // rewritten while we read
	}
	return at, size, true
}

// stampHeader puts the next sequence number on h (extension id) in buf and
// records the packet as sent at (ns since the sender's epoch); payload is
// the size of what follows the header.
func (tw *twccSender) stampHeader(h *rtp.Header, id uint8, buf *[2]byte, payload int, at int64) {
	// The header's size give or take an extension: a rate does not notice.
	seq := tw.stampAt(at, rtpHeaderSize+payload)
	binary.BigEndian.PutUint16(buf[:], seq)
	_ = h.SetExtension(id, buf[:])
}

// rtpHeaderSize is a forwarded packet's header: 12 bytes, and the extension
// block with the audio level and the transport-wide number.
const rtpHeaderSize = 12 + 4 + 4 + 4

// since is at (ns since epoch, an up track's clock) on tw's clock: the
// forwarding path has the packet's arrival and need not read the clock again.
func (tw *twccSender) since(epoch time.Time, at int64) int64 {
	return int64(epoch.Sub(tw.epoch)) + at
}

// twccFeedbackState is what the feedback said since the Downlink last looked,
// and the delay-gradient detector's state.
type twccFeedbackState struct {
	feedbacks   uint64 // feedback packets taken in, in total
	refTime     int64  // unwrapped reference time of the last feedback (64 ms units)
	refKnown    bool
	received    int // packets reported received since take
	lost        int // packets reported lost since take
	overuse     bool
	lastOveruse time.Time
	// recent arrivals (ns in the subscriber's clock) and sizes, for the rate
	// that got through over the last window.
	arr    [512]twccArrival
	arrN   int
	trend  trendline
	groups arrivalGroups
}

type twccArrival struct {
	at   int64 // subscriber's clock, ns
	size int
}

// onFeedback takes a transport-cc feedback packet from the subscriber.
func (tw *twccSender) onFeedback(now time.Time, fb *rtcp.TransportLayerCC) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	st := &tw.fb
	st.feedbacks++
	ref := int64(fb.ReferenceTime & 0xffffff)
	if st.refKnown {
		// The nearest epoch: the field is 24 bits of 64 ms.
		delta := (ref-st.refTime+(1<<23))&0xffffff - (1 << 23)
		ref = st.refTime + delta
	}
	st.refTime, st.refKnown = ref, true
	arrival := ref * int64(64*time.Millisecond)
	seq := fb.BaseSequenceNumber
	remaining := int(fb.PacketStatusCount)
	deltas := fb.RecvDeltas
	status := func(symbol uint16) {
		received := symbol == rtcp.TypeTCCPacketReceivedSmallDelta || symbol == rtcp.TypeTCCPacketReceivedLargeDelta
		if received {
			if len(deltas) == 0 {
				return
			}
			arrival += deltas[0].Delta * int64(time.Microsecond)
			deltas = deltas[1:]
		}
		sentAt, size, ok := tw.lookup(seq)
		seq++
		remaining--
		if !ok {
			return
		}
		if !received {
			st.lost++
			return
		}
		st.received++
		st.arr[st.arrN%len(st.arr)] = twccArrival{at: arrival, size: size}
		st.arrN++
		if d, at, ok := st.groups.add(sentAt, arrival, size); ok {
			if st.trend.update(at, d) == usageOver {
				st.overuse = true
				st.lastOveruse = now
			}
		}
	}
	for _, c := range fb.PacketChunks {
		if remaining <= 0 {
			break
		}
		switch c := c.(type) {
		case *rtcp.RunLengthChunk:
			for i := 0; i < int(c.RunLength) && remaining > 0; i++ {
				status(c.PacketStatusSymbol)
			}
		case *rtcp.StatusVectorChunk:
			for _, s := range c.SymbolList {
				if remaining <= 0 {
					break
				}
				status(s)
			}
		}
	}
}

// twccReport is what the feedback since the last take says.
type twccReport struct {
	feedbacks uint64  // in total; 0 when the subscriber sends none
	acked     float64 // bits per second that arrived over the last window; 0 unknown
	loss      float64 // share of the packets reported on since the last take that never arrived
	reported  int     // packets reported on since the last take
	overuse   bool    // the delay gradient said overuse since the last take
}

// ackedWindow is how far back the delivered rate looks: long enough for a
// few frames, short enough to show a link that just narrowed.
const ackedWindow = 400 * time.Millisecond

// take reads and resets what was gathered since the last take.
func (tw *twccSender) take() twccReport {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	st := &tw.fb
	r := twccReport{feedbacks: st.feedbacks, overuse: st.overuse, reported: st.received + st.lost}
	if r.reported > 0 {
		r.loss = float64(st.lost) / float64(r.reported)
	}
	if st.arrN > 1 {
		n := min(st.arrN, len(st.arr))
		last := st.arr[(st.arrN-1)%len(st.arr)].at
		bytes, first := 0, last
		for i := 1; i <= n; i++ {
			a := st.arr[(st.arrN-i)%len(st.arr)]
			if last-a.at > int64(ackedWindow) {
				break
			}
			first = a.at
			if i > 1 {
				bytes += a.size // the first of the window arrived at its start
			}
		}
		if span := last - first; span >= int64(ackedWindow/4) {
			r.acked = float64(bytes) * 8 / (float64(span) / float64(time.Second))
		}
	}
	st.received, st.lost, st.overuse = 0, 0, false
	return r
}
