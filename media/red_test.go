package media

import (
	"strings"
	"testing"

	"github.com/pion/webrtc/v4"
)

// TestPreferRED: a publisher offering Opus then RED (as Chrome does) gets an
// answer that lists RED first, which is what makes it send RED.
func TestPreferRED(t *testing.T) {
	e, err := NewEngine(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	m := &webrtc.MediaEngine{}
	for _, c := range []webrtc.RTPCodecParameters{
		{PayloadType: 111, RTPCodecCapability: opusCap()},
		{PayloadType: 63, RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: MimeTypeRED, ClockRate: 48000, Channels: 2, SDPFmtpLine: "111/111"}},
	} {
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			t.Fatal(err)
		}
	}
	client, err := webrtc.NewAPI(webrtc.WithMediaEngine(m)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if _, err := client.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	offer, err := client.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := e.NewPeerConnection(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.SetRemoteDescription(offer); err != nil {
		t.Fatal(err)
	}
	PreferRED(srv, nil)
	answer, err := srv.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(answer.SDP, "\r\n") {
		if strings.HasPrefix(line, "m=audio") {
			f := strings.Fields(line)
			if len(f) < 4 || f[3] != "63" {
				t.Fatalf("answer's audio line %q: RED (63) not first", line)
			}
			return
		}
	}
	t.Fatal("no audio in the answer")
}

// TestREDRemap: RED blocks numbered with the publisher's Opus type (109)
// reach a subscriber whose Opus is 111 renamed, in a copy; blocks already
// right go out untouched, without a copy.
func TestREDRemap(t *testing.T) {
	// one redundant block (PT 109, ts offset 960, length 3), then the primary (PT 109)
	pkt := []byte{0x80 | 109, 0x0f, 0x00, 0x03, 109, 'r', 'r', 'r', 'p', 'p'}
	orig := append([]byte(nil), pkt...)
	var scratch [1500]byte
	out := redRemap(scratch[:0], pkt, 111)
	want := []byte{0x80 | 111, 0x0f, 0x00, 0x03, 111, 'r', 'r', 'r', 'p', 'p'}
	if string(out) != string(want) {
		t.Fatalf("remapped % x, want % x", out, want)
	}
	if string(pkt) != string(orig) {
		t.Fatal("the shared packet was written")
	}
	if p, ok := redPrimary(out); !ok || string(p) != "pp" {
		t.Fatalf("primary of the remapped payload: %q %v", p, ok)
	}
	same := redRemap(scratch[:0], want, 111)
	if &same[0] != &want[0] {
		t.Fatal("a payload already right was copied")
	}
	// redInnerPT: from the subscriber's RED fmtp; none for Opus.
	red := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: MimeTypeRED, SDPFmtpLine: "111/111"}}
	opus := webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus}}
	if pt := redInnerPT(red, red); pt != 111 {
		t.Errorf("inner PT %d, want 111", pt)
	}
	if pt := redInnerPT(red, opus); pt != 0 {
		t.Errorf("inner PT %d for an Opus subscriber, want 0", pt)
	}
}

// TestPreferREDKeepsOfferedTypes: a client that numbers Opus 109 (Firefox,
// others) is answered with 109, not our 111: an answer takes the offer's
// payload types (RFC 8829 §5.3.1).
func TestPreferREDKeepsOfferedTypes(t *testing.T) {
	e, err := NewEngine(Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	m := &webrtc.MediaEngine{}
	for _, c := range []webrtc.RTPCodecParameters{
		{PayloadType: 109, RTPCodecCapability: opusCap()},
		{PayloadType: 63, RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: MimeTypeRED, ClockRate: 48000, Channels: 2, SDPFmtpLine: "109/109"}},
	} {
		if err := m.RegisterCodec(c, webrtc.RTPCodecTypeAudio); err != nil {
			t.Fatal(err)
		}
	}
	client, err := webrtc.NewAPI(webrtc.WithMediaEngine(m)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if _, err := client.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionSendonly}); err != nil {
		t.Fatal(err)
	}
	offer, err := client.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := e.NewPeerConnection(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	if err := srv.SetRemoteDescription(offer); err != nil {
		t.Fatal(err)
	}
	PreferRED(srv, nil)
	answer, err := srv.CreateAnswer(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(answer.SDP, "\r\n") {
		if strings.HasPrefix(line, "m=audio") {
			if f := strings.Fields(line); len(f) != 5 || f[3] != "63" || f[4] != "109" {
				t.Fatalf("answer's audio line %q; want RED 63 then Opus 109", line)
			}
			return
		}
	}
	t.Fatal("no audio in the answer")
}
