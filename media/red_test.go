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
