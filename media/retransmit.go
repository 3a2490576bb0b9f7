package media

import (
	"errors"
	"io"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
)

// The down path has no Pion interceptor of its own: a DownTrack answers its
// subscriber's NACKs from the up track's packet cache and sends its own sender
// reports. Both used to be Pion interceptors that saw (and the NACK responder
// copied) every packet written, once per subscriber.

// resendScratch is what one RTCP loop needs to resend packets: owned by it.
type resendScratch struct {
	buf [readBufSize]byte
	pkt rtp.Packet
	hdr scratchHeader
}

// retransmit answers a NACK (RFC 4585 §6.2.1): every sequence number it lists
// is mapped back through the forwarder to the packet it came from, which the
// up track's cache still holds if it is recent enough, and sent again with
// the same number and timestamp as the first time.
func (d *DownTrack) retransmit(n *rtcp.TransportLayerNack, rs *resendScratch) {
	for i := range n.Nacks {
		n.Nacks[i].Range(func(seq uint16) bool {
			d.resend(seq, rs)
			return true
		})
	}
}

func (d *DownTrack) resend(seq uint16, rs *resendScratch) {
	st := d.up.stats
	if !d.ready.Load() {
		return // nothing sent yet; and the writer is chosen when the transport is ready
	}
	d.mu.Lock()
	w, ssrc, pt, alID, twID, strip, redPT := d.w, d.ssrc, d.pt, d.alID, d.twID, d.redStrip, d.redPT
	layer, ext, tsAdd, ok := d.fwd.reverse(seq)
	d.mu.Unlock()
	if w == nil {
		return
	}
	var n int
	var srcAlID uint8
	if ok {
		if l := d.up.layers[layer].Load(); l != nil && l.cache != nil {
			n = l.cache.get(ext, rs.buf[:])
			srcAlID = l.alID
		}
	}
	if n == 0 || rs.pkt.Unmarshal(rs.buf[:n]) != nil {
		st.nackMisses.Add(1)
		return
	}
	payload := rs.pkt.Payload
	if strip {
		if payload, ok = redPrimary(payload); !ok {
			st.nackMisses.Add(1)
			return
		}
	} else if redPT != 0 {
		payload = redRemap(rs.hdr.red[:0], payload, redPT)
	}
	h := rs.hdr.rewrite(&rs.pkt, srcAlID, ssrc, pt, alID, seq, rs.pkt.Timestamp+tsAdd)
	if twID != 0 {
		if tw := d.tw.Load(); tw != nil {
			tw.stampHeader(h, twID, &rs.hdr.tw, len(payload), int64(time.Since(tw.epoch))) // a resend takes the link's room too
		}
	}
	sent, err := w.WriteRTP(h, payload)
	h.Extensions = nil
	if err != nil {
		st.dropsWriteError.Add(1)
		return
	}
	d.rx.sent.Add(uint64(sent))
	st.retransmits.Add(1)
}

// srInterval is how often a down track sends a sender report (RFC 3550 §6.4.1):
// receivers need one to map its RTP timestamps to wall-clock time for lip sync.
// Pion's report interceptor sent one a second too.
const srInterval = int64(time.Second)

// srState is what a down track's next sender report says. Guarded by the
// down track's mu; updated for each packet forwarded.
type srState struct {
	ts      uint32 // timestamp of the newest frame sent
	at      int64  // when its first packet was forwarded (UpTrack.now)
	packets uint32 // sent in total (RFC 3550: wraps)
	octets  uint32 // payload octets sent in total
	next    int64  // when the next report is due; the first goes with the first packet
}

// srReport is a due sender report, taken under the lock and sent after it.
type srReport struct {
	due             bool
	ssrc            uint32
	ts              uint32
	at              int64
	clockRate       uint32
	packets, octets uint32
	layer           int8   // the up layer forwarded, -1 none
	tsAdd           uint32 // its timestamp offset: out = in + tsAdd
}

// sent counts one forwarded packet (newest: it has the highest sequence number
// sent so far) and tells whether a report is due now.
func (s *srState) sent(p *inPacket, ts uint32, newest, canSend bool, ssrc, clockRate uint32) srReport {
	if newest && (ts != s.ts || s.packets == 0) {
		s.ts, s.at = ts, p.arrival
	}
	s.packets++
	s.octets += uint32(len(p.pkt.Payload))
	if !canSend || p.arrival < s.next {
		return srReport{}
	}
	s.next = p.arrival + srInterval
	return srReport{due: true, ssrc: ssrc, ts: s.ts, at: s.at, clockRate: clockRate, packets: s.packets, octets: s.octets}
}

// srMaxAge: a publisher's sender report older than this (a publisher that
// sends none any more) is not translated; the report then uses our clock.
const srMaxAge = int64(10 * time.Second)

// sendSenderReport sends r. When the publisher's layer has sent a sender
// report, ours is that one translated (RFC 3550 §7.2: an RTP translator
// passes the sender's NTP/RTP pairing on): its NTP time and its RTP time
// through the forwarder's offset, both advanced to now. A subscriber then
// lines up this publisher's audio and video on the publisher's own clock.
// Otherwise, as Pion's report interceptor did: our wall clock, and the
// newest frame's timestamp advanced to now.
func (d *DownTrack) sendSenderReport(r srReport) {
	tr := d.dtls.Load()
	if tr == nil {
		return
	}
	now := d.up.now()
	sr := &rtcp.SenderReport{SSRC: r.ssrc, PacketCount: r.packets, OctetCount: r.octets}
	if psr := d.up.publisherSR(r.layer); psr != nil && now-psr.at < srMaxAge {
		elapsed := max(now-psr.at, 0)
		sr.NTPTime = psr.ntp + uint64(elapsed)<<32/uint64(time.Second)
		sr.RTPTime = psr.rtp + r.tsAdd + uint32(uint64(elapsed)*uint64(r.clockRate)/uint64(time.Second))
	} else {
		elapsed := max(now-r.at, 0)
		sr.NTPTime = toNTP(time.Now())
		sr.RTPTime = r.ts + uint32(uint64(elapsed)*uint64(r.clockRate)/uint64(time.Second))
	}
	if _, err := tr.WriteRTCP([]rtcp.Packet{sr}); err != nil && !errors.Is(err, io.ErrClosedPipe) {
		d.log.Debug("send sender report", "err", err)
	}
}

// publisherSR is the newest sender report of up layer idx, nil if none.
func (t *UpTrack) publisherSR(idx int8) *publisherSR {
	if idx < 0 || int(idx) >= maxLayers {
		return nil
	}
	l := t.layers[idx].Load()
	if l == nil {
		return nil
	}
	return l.rs.fb.sr.Load()
}

// toNTP is t as a 64-bit NTP timestamp (RFC 5905 §6): seconds since 1900 in
// the high word, the fraction in the low one.
func toNTP(t time.Time) uint64 {
	const unixToNTP = 2208988800 // seconds from 1900 to 1970
	sec := uint64(t.Unix() + unixToNTP)
	frac := uint64(t.Nanosecond()) << 32 / uint64(time.Second)
	return sec<<32 | frac
}
