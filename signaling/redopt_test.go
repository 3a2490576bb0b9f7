package signaling_test

import (
	"strings"
	"testing"

	"github.com/livekit/protocol/livekit"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// TestDisableRed: a track announced with disable_red (livekit-client does so
// with end-to-end encryption) is answered with Opus alone, though its
// section offers RED; its neighbour, announced without, is answered RED
// first.
func TestDisableRed(t *testing.T) {
	ts := startServer(t)
	c := dialRaw(t, ts, "redopt", "pub", "")
	c.waitFor(func(r *livekit.SignalResponse) bool { return r.GetJoin() != nil })

	m := &webrtc.MediaEngine{}
	red := webrtc.RTPCodecCapability{MimeType: "audio/red", ClockRate: 48000, Channels: 2, SDPFmtpLine: "111/111"}
	for _, cp := range []webrtc.RTPCodecParameters{
		{PayloadType: 63, RTPCodecCapability: red},
		{PayloadType: 111, RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}},
	} {
		if err := m.RegisterCodec(cp, webrtc.RTPCodecTypeAudio); err != nil {
			t.Fatal(err)
		}
	}
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(m)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	for _, cid := range []string{"cid-red", "cid-plain"} {
		tr, err := webrtc.NewTrackLocalStaticRTP(red, cid, "stream")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pc.AddTrack(tr); err != nil {
			t.Fatal(err)
		}
		c.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_AddTrack{AddTrack: &livekit.AddTrackRequest{
			Cid: cid, Name: cid, Type: livekit.TrackType_AUDIO, Source: livekit.TrackSource_MICROPHONE, DisableRed: cid == "cid-plain"}}})
		c.waitFor(func(r *livekit.SignalResponse) bool { return r.GetTrackPublished().GetCid() == cid })
	}
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.SetLocalDescription(offer); err != nil {
		t.Fatal(err)
	}
	c.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Offer{Offer: &livekit.SessionDescription{Type: "offer", Sdp: offer.SDP, Id: 7}}})
	answer := c.waitFor(func(r *livekit.SignalResponse) bool { return r.GetAnswer() != nil }).GetAnswer()

	// mid -> cid from the offer, mid -> first payload type from the answer.
	var off, ans sdp.SessionDescription
	if err := off.UnmarshalString(offer.SDP); err != nil {
		t.Fatal(err)
	}
	if err := ans.UnmarshalString(answer.Sdp); err != nil {
		t.Fatal(err)
	}
	cidOf := map[string]string{}
	for _, md := range off.MediaDescriptions {
		mid, _ := md.Attribute("mid")
		msid, _ := md.Attribute("msid")
		if f := strings.Fields(msid); len(f) == 2 {
			cidOf[mid] = f[1]
		}
	}
	first := map[string]string{} // cid -> the answer's preferred payload type
	for _, md := range ans.MediaDescriptions {
		mid, _ := md.Attribute("mid")
		if len(md.MediaName.Formats) > 0 {
			first[cidOf[mid]] = strings.Join(md.MediaName.Formats, " ")
		}
	}
	if f := first["cid-red"]; !strings.HasPrefix(f, "63") {
		t.Errorf("track without disable_red answered %q; want RED (63) first", f)
	}
	if f := first["cid-plain"]; f != "111" {
		t.Errorf("track with disable_red answered %q; want Opus (111) alone", f)
	}
}
