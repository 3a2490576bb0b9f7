package media

import (
	"bytes"
	"crypto/rand"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"github.com/pion/transport/v5/packetio"
)

// srtpPair makes a sender's and a receiver's SRTP context with the same
// fresh keys, the receiver's with the fast path's replay window.
func srtpPair(t testing.TB) (tx, rx *srtp.Context) {
	t.Helper()
	prof := srtp.ProtectionProfileAeadAes128Gcm
	kl, _ := prof.KeyLen()
	sl, _ := prof.SaltLen()
	key, salt := make([]byte, kl), make([]byte, sl)
	_, _ = rand.Read(key)
	_, _ = rand.Read(salt)
	tx, err := srtp.CreateContext(key, salt, prof)
	if err != nil {
		t.Fatal(err)
	}
	rx, err = srtp.CreateContext(key, salt, prof, srtp.SRTPReplayProtection(fastReplayWindow), srtp.SRTCPReplayProtection(fastReplayWindow))
	if err != nil {
		t.Fatal(err)
	}
	return tx, rx
}

// directBuffer is an rxBuffer in the state attach leaves it in, handing
// packets to h (a copy of each is kept).
type directBuffer struct {
	mu  sync.Mutex
	got [][]byte
}

func (d *directBuffer) attach(b *rxBuffer) {
	b.mu.Lock()
	b.h = func(p []byte) {
		d.mu.Lock()
		d.got = append(d.got, append([]byte(nil), p...))
		d.mu.Unlock()
	}
	b.direct = true
	b.mu.Unlock()
}

func (d *directBuffer) snapshot() [][]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([][]byte(nil), d.got...)
}

func rtpPacket(t testing.TB, ssrc uint32, seq uint16) []byte {
	t.Helper()
	p := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: seq, Timestamp: uint32(seq) * 3000, SSRC: ssrc},
		Payload: bytes.Repeat([]byte{byte(seq)}, 900)}
	raw, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return raw
}

// TestFastPath: through a real socket and the port's reader, SRTP media of
// a registered remote and an attached stream is decrypted and delivered by
// the reader, intact and counted; everything else (another address, a
// stream not attached yet, RTCP, STUN, DTLS) reaches read unchanged, as
// Pion's mux would read it. A replayed packet is dropped. A stream taken over
// after Pion's context counted a sequence-number wrap is decrypted with
// the right rollover counter.
func TestFastPath(t *testing.T) {
	srv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	var table fastTable
	r := newRxReader(srv, &table, nil)
	pub, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	other, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	to := srv.LocalAddr().(*net.UDPAddr).AddrPort()

	tx, rxCtx := srtpPair(t)
	sess := newRxSession()
	fr := newFastRx(sess, nil, rxCtx)
	table.set(pub.LocalAddr().(*net.UDPAddr).AddrPort(), fr)

	const attached, early = 1111, 2222
	var d directBuffer
	d.attach(sess.newBuffer(packetio.RTPBufferPacket, attached).(*rxBuffer))
	sess.newBuffer(packetio.RTPBufferPacket, early) // queues: no layer yet

	// Pion delivered the attached stream's first packets, across a wrap:
	// its context's rollover counter is 1 now.
	b := sess.buffer(attached)
	for _, seq := range []uint16{65500, 65535, 3} {
		b.deliver(rtpPacket(t, attached, seq))
	}
	d.got = nil
	var seqs []uint16
	for s := uint16(4); s < 40; s++ {
		seqs = append(seqs, s)
	}
	// The sender's rollover counter, as Pion's receiver counted it.
	tx.SetROC(attached, 1)
	// A packet before the switch, still on its way (reordered), must work too.
	seqs = append(seqs[:10], append([]uint16{2}, seqs[10:]...)...)
	send := func(c *net.UDPConn, p []byte) {
		t.Helper()
		if _, err := c.WriteToUDPAddrPort(p, to); err != nil {
			t.Fatal(err)
		}
	}
	enc := func(ssrc uint32, seq uint16) []byte {
		out, err := tx.EncryptRTP(nil, rtpPacket(t, ssrc, seq), nil)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	var replay []byte
	for i, s := range seqs {
		p := enc(attached, s)
		send(pub, p)
		if i == 5 {
			replay = p
		}
	}
	send(pub, replay) // dropped: SRTP has seen it
	stray := []([]byte){
		enc(early, 1), // not attached: Pion's
		{0x81, 200, 0, 6, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16},    // RTCP SR: Pion's
		{0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, // STUN
		{22, 0xfe, 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},                              // DTLS
	}
	for _, p := range stray {
		send(pub, p)
	}
	fromOther := enc(attached, 100)
	send(other, fromOther) // right stream, unknown address: Pion's

	var unread [][]byte
	done := make(chan struct{})
	go func() { // ends when srv is closed
		defer close(done)
		for {
			p, _, err := r.read()
			if err != nil {
				return
			}
			unread = append(unread, append([]byte(nil), p...))
		}
	}()
	waitFor(t, 5*time.Second, "everything read", func() bool {
		return table.taken.Load()+table.dropped.Load() >= uint64(len(seqs)+1) && len(d.snapshot()) == len(seqs)
	})
	time.Sleep(50 * time.Millisecond)
	srv.Close()
	<-done

	got := d.snapshot()
	for i, s := range seqs {
		if !bytes.Equal(got[i], rtpPacket(t, attached, s)) {
			t.Fatalf("packet %d (seq %d) delivered as %x...", i, s, got[i][:16])
		}
	}
	if n := table.taken.Load(); n != uint64(len(seqs)) {
		t.Errorf("fast path took %d packets, want %d", n, len(seqs))
	}
	if n := table.dropped.Load(); n != 1 {
		t.Errorf("fast path dropped %d packets, want the replay", n)
	}
	want := append(stray, fromOther)
	if len(unread) != len(want) {
		t.Fatalf("%d datagrams for Pion, want %d", len(unread), len(want))
	}
	for i := range want {
		if !bytes.Equal(unread[i], want[i]) {
			t.Errorf("datagram %d for Pion changed: %x, want %x", i, unread[i], want[i])
		}
	}
}

// TestFastPathAllocs: reading and delivering fast-path media allocates
// nothing per packet.
func TestFastPathAllocs(t *testing.T) {
	srv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	pub, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	var table fastTable
	r := newRxReader(srv, &table, nil)
	tx, rxCtx := srtpPair(t)
	sess := newRxSession()
	table.set(pub.LocalAddr().(*net.UDPAddr).AddrPort(), newFastRx(sess, nil, rxCtx))
	b := sess.newBuffer(packetio.RTPBufferPacket, 7).(*rxBuffer)
	var delivered int
	b.h, b.direct = func([]byte) { delivered++ }, true
	to := srv.LocalAddr().(*net.UDPAddr).AddrPort()
	var seq uint16
	plain := rtpPacket(t, 7, 0)
	b.deliver(plain) // Pion's first packet (OnTrack reads one before the layer attaches)
	delivered = 0
	enc := make([]byte, 0, 1500)
	var hdr rtp.Header
	stun := []byte{0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}
	// Each round: 4 media packets the reader delivers, then a STUN message
	// it returns (which ends the read).
	round := func() {
		for range 4 {
			seq++
			plain[2], plain[3] = byte(seq>>8), byte(seq)
			out, err := tx.EncryptRTP(enc[:0], plain, &hdr)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := pub.WriteToUDPAddrPort(out, to); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := pub.WriteToUDPAddrPort(stun, to); err != nil {
			t.Fatal(err)
		}
		p, _, err := r.read()
		if err != nil || len(p) != len(stun) {
			t.Fatalf("read %d bytes, %v", len(p), err)
		}
	}
	for range 50 {
		round()
	}
	if a := testing.AllocsPerRun(200, round); a != 0 {
		t.Errorf("%.1f allocations per round of 4 fast packets and a read", a)
	}
	if want := (50 + 1 + 200) * 4; delivered != want { // AllocsPerRun warms up once
		t.Errorf("%d packets delivered, want %d", delivered, want)
	}
}

// TestFastSwitchWaits: the fast path takes a stream over from Pion only at
// a packet that follows the last one Pion delivered (one that came while an
// earlier one was still inside Pion's goroutines would overtake it), or after
// fastSwitchWait packets when loss left a hole.
func TestFastSwitchWaits(t *testing.T) {
	tx, rxCtx := srtpPair(t)
	sess := newRxSession()
	fr := newFastRx(sess, nil, rxCtx)
	var d directBuffer
	b := sess.newBuffer(packetio.RTPBufferPacket, 5).(*rxBuffer)
	d.attach(b)
	enc := func(seq uint16) []byte {
		out, err := tx.EncryptRTP(nil, rtpPacket(t, 5, seq), nil)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	dst := make([]byte, rxSlot)
	b.deliver(rtpPacket(t, 5, 10)) // Pion delivered 10; 11 is on its way
	if v := fr.take(enc(12), dst); v != fastPion {
		t.Fatalf("12 before 11 was delivered: %v, want Pion's", v)
	}
	b.deliver(rtpPacket(t, 5, 11)) // Pion's pipeline drains
	b.deliver(rtpPacket(t, 5, 12))
	if v := fr.take(enc(13), dst); v != fastDelivered {
		t.Fatalf("13 after 12: %v, want delivered", v)
	}
	if got := d.snapshot(); len(got) != 4 || !bytes.Equal(got[3], rtpPacket(t, 5, 13)) {
		t.Fatalf("%d packets delivered", len(got))
	}

	// A hole that never fills: the switch waits fastSwitchWait packets.
	tx2, rxCtx2 := srtpPair(t)
	fr2 := newFastRx(sess, nil, rxCtx2)
	b2 := sess.newBuffer(packetio.RTPBufferPacket, 6).(*rxBuffer)
	d.attach(b2)
	b2.deliver(rtpPacket(t, 6, 100)) // 101 is lost
	for i := range fastSwitchWait + 1 {
		out, err := tx2.EncryptRTP(nil, rtpPacket(t, 6, uint16(102+i)), nil)
		if err != nil {
			t.Fatal(err)
		}
		want := fastPion
		if i == fastSwitchWait {
			want = fastDelivered
		}
		if v := fr2.take(out, dst); v != want {
			t.Fatalf("packet %d after the hole: %v, want %v", i, v, want)
		}
	}
}

// TestRTCPTargets: the SSRCs a compound RTCP packet is about, as Pion's
// SRTCP session would route it.
func TestRTCPTargets(t *testing.T) {
	raw, err := rtcp.Marshal([]rtcp.Packet{
		&rtcp.ReceiverReport{SSRC: 1, Reports: []rtcp.ReceptionReport{{SSRC: 10}, {SSRC: 11}}},
		&rtcp.SourceDescription{Chunks: []rtcp.SourceDescriptionChunk{{Source: 1, Items: []rtcp.SourceDescriptionItem{{Type: rtcp.SDESCNAME, Text: "x"}}}}},
		&rtcp.TransportLayerNack{SenderSSRC: 1, MediaSSRC: 12, Nacks: []rtcp.NackPair{{PacketID: 5}}},
		&rtcp.PictureLossIndication{SenderSSRC: 1, MediaSSRC: 13},
		&rtcp.FullIntraRequest{SenderSSRC: 1, FIR: []rtcp.FIREntry{{SSRC: 14}, {SSRC: 15}}},
		&rtcp.TransportLayerNack{SenderSSRC: 1, MediaSSRC: 16, Nacks: []rtcp.NackPair{{PacketID: 9}}}, // TWCC is transport feedback too
		&rtcp.SenderReport{SSRC: 1, Reports: []rtcp.ReceptionReport{{SSRC: 17}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	var got []uint32
	eachRTCPTarget(raw, func(ssrc uint32) { got = append(got, ssrc) })
	want := []uint32{10, 11, 12, 13, 14, 15, 16, 17}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("targets %v, want %v", got, want)
	}
}

// rtcpCounter is an RTCP sink that counts what it gets.
type rtcpCounter struct{ n int }

func (c *rtcpCounter) fastRTCP([]byte) { c.n++ }

// TestFastRTCP: a subscriber's SRTCP is decrypted and handed to the down
// tracks it is about when every one of them registered; a packet also about
// a stream no down track registered goes to Pion whole (its reader would
// miss it otherwise), and so does one about nobody.
func TestFastRTCP(t *testing.T) {
	tx, rxCtx := srtpPair(t)
	var sinks rtcpSinks
	a, b := &rtcpCounter{}, &rtcpCounter{}
	sinks.set(10, a, true)
	sinks.set(11, b, true)
	fr := newFastRx(nil, &sinks, rxCtx)
	dst := make([]byte, rxSlot)
	enc := func(pkts ...rtcp.Packet) []byte {
		raw, err := rtcp.Marshal(pkts)
		if err != nil {
			t.Fatal(err)
		}
		out, err := tx.EncryptRTCP(nil, raw, nil)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	rr := func(ssrcs ...uint32) *rtcp.ReceiverReport {
		r := &rtcp.ReceiverReport{SSRC: 99}
		for _, s := range ssrcs {
			r.Reports = append(r.Reports, rtcp.ReceptionReport{SSRC: s})
		}
		return r
	}
	if v := fr.takeRTCP(enc(rr(10, 11), &rtcp.PictureLossIndication{SenderSSRC: 99, MediaSSRC: 11}), dst); v != fastDelivered || a.n != 1 || b.n != 1 {
		t.Fatalf("about two registered tracks: %v, delivered %d and %d times", v, a.n, b.n)
	}
	if v := fr.takeRTCP(enc(rr(10), &rtcp.PictureLossIndication{SenderSSRC: 99, MediaSSRC: 12}), dst); v != fastPion || a.n != 1 {
		t.Fatalf("also about an unregistered track: %v, delivered %d times", v, a.n)
	}
	if v := fr.takeRTCP(enc(rr()), dst); v != fastPion {
		t.Fatalf("about nobody: %v", v)
	}
	sinks.set(11, b, false)
	if v := fr.takeRTCP(enc(rr(11)), dst); v != fastPion || b.n != 1 {
		t.Fatalf("about an unregistered track: %v, delivered %d times", v, b.n)
	}
	replay := enc(rr(10))
	fr.takeRTCP(replay, dst)
	if v := fr.takeRTCP(replay, dst); v != fastDropped || a.n != 2 {
		t.Fatalf("a replay: %v, delivered %d times", v, a.n)
	}
}
