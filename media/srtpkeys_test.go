package media

import (
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// tap copies the RTP and RTCP datagrams a test client's socket sends and
// receives, as they are on the wire (SRTP, SRTCP).
type tap struct {
	net.PacketConn
	mux ice.UDPMux // on this conn; closed by close

	mu       sync.Mutex // guards sent, received
	sent     [][]byte   // by the client
	received [][]byte   // by the client
}

// isRTPOrRTCP: version 2 (RFC 5764 §5.1.2 demultiplexing: 128-191).
func isRTPOrRTCP(b []byte) bool { return len(b) >= 12 && b[0] >= 128 && b[0] <= 191 }

// isRTCP: payload types 192-223 in the second byte (RFC 5761 §4).
func isRTCP(b []byte) bool { return b[1] >= 192 && b[1] <= 223 }

func (c *tap) ReadFrom(b []byte) (int, net.Addr, error) {
	n, addr, err := c.PacketConn.ReadFrom(b)
	if err == nil && isRTPOrRTCP(b[:n]) {
		c.mu.Lock()
		c.received = append(c.received, append([]byte(nil), b[:n]...))
		c.mu.Unlock()
	}
	return n, addr, err
}

func (c *tap) WriteTo(b []byte, addr net.Addr) (int, error) {
	if isRTPOrRTCP(b) {
		c.mu.Lock()
		c.sent = append(c.sent, append([]byte(nil), b...))
		c.mu.Unlock()
	}
	return c.PacketConn.WriteTo(b, addr)
}

func (c *tap) snapshot() (sent, received [][]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([][]byte(nil), c.sent...), append([][]byte(nil), c.received...)
}

func (c *tap) close() { _ = c.mux.Close() }

// tapClientAPI is clientAPI on one tapped UDP socket; opts change its settings.
func tapClientAPI(t *testing.T, opts ...func(*webrtc.SettingEngine)) (*webrtc.API, *tap) {
	t.Helper()
	conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &tap{PacketConn: conn}
	mux := webrtc.NewICEUDPMux(nil, c)
	c.mux = mux
	opts = append(opts, func(se *webrtc.SettingEngine) { se.SetICEUDPMux(mux) })
	return clientAPI(t, opts...), c
}

// TestSRTPKeys: the contexts newSRTPContexts makes carry the keys Pion
// negotiated, on a publisher connection (the engine answers, as DTLS server)
// and a subscriber connection (the engine offers; the client answers active).
// Each context must decrypt what went over the wire, both ways: remote what
// the client sent, local (same keys as the engine's sending context) what the
// engine sent.
func TestSRTPKeys(t *testing.T) {
	pubAPI, pubTap := tapClientAPI(t)
	subAPI, subTap := tapClientAPI(t)
	defer pubTap.close()
	defer subTap.close()
	s := newSessionWith(t, sessionOpts{pubAPI: pubAPI, subAPI: subAPI}, "")
	defer s.close()
	waitFor(t, 10*time.Second, "100 packets at the subscriber", func() bool { return len(s.sub.snapshot()) >= 100 })
	waitFor(t, 5*time.Second, "RTCP from the subscriber", func() bool {
		sent, _ := subTap.snapshot()
		for _, b := range sent {
			if isRTCP(b) {
				return true
			}
		}
		return false
	})

	for _, c := range []struct {
		name string
		pc   *webrtc.PeerConnection
		tap  *tap
	}{{"publisher connection", s.srvPub, pubTap}, {"subscriber connection", s.srvSub, subTap}} {
		if !s.eng.dtlsServer(c.pc) {
			t.Errorf("%s: the engine is not the DTLS server", c.name)
		}
		local, remote, err := s.eng.newSRTPContexts(c.pc, nil, nil)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		sent, received := c.tap.snapshot()
		var rtpIn, rtcpIn, rtpOut, rtcpOut int
		seen := map[bool]map[uint32]map[uint16]bool{true: {}, false: {}}
		for _, dir := range []struct {
			pkts   [][]byte
			fromUs bool
		}{{sent, false}, {received, true}} {
			ctx := remote
			if dir.fromUs {
				ctx = local
			}
			for _, b := range dir.pkts {
				if isRTCP(b) {
					if _, err := ctx.DecryptRTCP(nil, b, nil); err != nil {
						t.Fatalf("%s: RTCP from the %s does not decrypt: %v", c.name, map[bool]string{true: "engine", false: "client"}[dir.fromUs], err)
					}
					if dir.fromUs {
						rtcpOut++
					} else {
						rtcpIn++
					}
					continue
				}
				var h rtp.Header
				if _, err := h.Unmarshal(b); err != nil {
					t.Fatal(err)
				}
				bySeq := seen[dir.fromUs][h.SSRC]
				if bySeq == nil {
					bySeq = map[uint16]bool{}
					seen[dir.fromUs][h.SSRC] = bySeq
				}
				if bySeq[h.SequenceNumber] {
					continue // a retransmission: refused as a replay
				}
				bySeq[h.SequenceNumber] = true
				if _, err := ctx.DecryptRTP(nil, b, nil); err != nil {
					t.Fatalf("%s: RTP from the %s (ssrc %d seq %d) does not decrypt: %v", c.name, map[bool]string{true: "engine", false: "client"}[dir.fromUs], h.SSRC, h.SequenceNumber, err)
				}
				if dir.fromUs {
					rtpOut++
				} else {
					rtpIn++
				}
			}
		}
		t.Logf("%s: decrypted RTP %d in, %d out; RTCP %d in, %d out", c.name, rtpIn, rtpOut, rtcpIn, rtcpOut)
		if rtcpIn == 0 || rtcpOut == 0 {
			t.Errorf("%s: RTCP decrypted: %d in, %d out", c.name, rtcpIn, rtcpOut)
		}
		if c.pc == s.srvPub && rtpIn < 50 {
			t.Errorf("%s: only %d RTP packets from the publisher decrypted", c.name, rtpIn)
		}
		if c.pc == s.srvSub && rtpOut < 50 {
			t.Errorf("%s: only %d RTP packets to the subscriber decrypted", c.name, rtpOut)
		}
	}
}

// TestSRTPKeysUnknown: where the keys are not known, newSRTPContexts says so
// (callers then keep Pion's writer): the engine was the DTLS client (a client
// that answers passive), and a connection the engine did not build.
func TestSRTPKeysUnknown(t *testing.T) {
	subAPI := clientAPI(t, func(se *webrtc.SettingEngine) {
		if err := se.SetAnsweringDTLSRole(webrtc.DTLSRoleServer); err != nil {
			t.Fatal(err)
		}
	})
	s := newSessionWith(t, sessionOpts{subAPI: subAPI}, "")
	defer s.close()
	waitFor(t, 10*time.Second, "10 packets at the subscriber", func() bool { return len(s.sub.snapshot()) >= 10 })
	if s.eng.dtlsServer(s.srvSub) {
		t.Error("engine says it is the DTLS server of a connection whose client answered passive")
	}
	if _, _, err := s.eng.newSRTPContexts(s.srvSub, nil, nil); !errors.Is(err, errNoSRTPKeys) {
		t.Errorf("engine as DTLS client: err %v, want errNoSRTPKeys", err)
	}
	if _, _, err := s.eng.newSRTPContexts(s.sub.pc, nil, nil); !errors.Is(err, errNoSRTPKeys) {
		t.Errorf("a client's connection: err %v, want errNoSRTPKeys", err)
	}
}
