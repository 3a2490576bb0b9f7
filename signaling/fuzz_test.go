package signaling

import (
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"yizhan/media"
)

// FuzzSignalRequest (issue 12 reliability campaign): whatever frame a client sends, as
// protobuf or as JSON, the signal handler answers without panicking and the bounds on
// what a participant may make the server hold are kept.
func FuzzSignalRequest(f *testing.F) {
	for _, req := range []*livekit.SignalRequest{
		{Message: &livekit.SignalRequest_Subscription{Subscription: &livekit.UpdateSubscription{TrackSids: []string{"TR_x", "TR_y"}, Subscribe: true}}},
		{Message: &livekit.SignalRequest_AddTrack{AddTrack: &livekit.AddTrackRequest{Cid: "c", Type: livekit.TrackType_AUDIO, Source: livekit.TrackSource_MICROPHONE}}},
		{Message: &livekit.SignalRequest_Mute{Mute: &livekit.MuteTrackRequest{Sid: "TR_x", Muted: true}}},
		{Message: &livekit.SignalRequest_Trickle{Trickle: &livekit.TrickleRequest{CandidateInit: `{"candidate":"candidate:1 1 udp 1 127.0.0.1 9 typ host"}`}}},
		{Message: &livekit.SignalRequest_Offer{Offer: &livekit.SessionDescription{Type: "offer", Sdp: "v=0\r\n"}}},
		{Message: &livekit.SignalRequest_Answer{Answer: &livekit.SessionDescription{Type: "answer", Sdp: "v=0\r\n"}}},
		{Message: &livekit.SignalRequest_UpdateMetadata{UpdateMetadata: &livekit.UpdateParticipantMetadata{Name: "x", Attributes: map[string]string{"a": "b"}}}},
		{Message: &livekit.SignalRequest_PingReq{PingReq: &livekit.Ping{Timestamp: 1}}},
		{Message: &livekit.SignalRequest_TrackSetting{TrackSetting: &livekit.UpdateTrackSettings{TrackSids: []string{"TR_x"}, Width: 100}}},
	} {
		b, _ := proto.Marshal(req)
		f.Add(b, false)
		j, _ := protojson.Marshal(req)
		f.Add(j, true)
	}
	p, s := fuzzParticipant(f)
	lim := s.cfg.Limits
	f.Fuzz(func(t *testing.T, data []byte, text bool) {
		req := &livekit.SignalRequest{}
		var err error
		if text {
			err = protojson.UnmarshalOptions{DiscardUnknown: true}.Unmarshal(data, req)
		} else {
			err = proto.Unmarshal(data, req)
		}
		if err != nil {
			return // conn.Read counts it as malformed
		}
		p.handle(req)
		p.room.mu.Lock()
		defer p.room.mu.Unlock()
		if len(p.subOverride) > lim.SubscriptionOverrides || len(p.pending) > lim.PendingTracks || attributesSize(p.attributes) > lim.AttributesBytes {
			t.Fatalf("bounds broken: %d overrides, %d pending, %d attribute bytes", len(p.subOverride), len(p.pending), attributesSize(p.attributes))
		}
	})
}

// fuzzParticipant joins one participant over a real websocket and returns it.
func fuzzParticipant(f *testing.F) (*participant, *Server) {
	f.Helper()
	log := slog.New(slog.DiscardHandler)
	eng, err := media.NewEngine(media.Config{BindIP: "127.0.0.1", Logger: log})
	if err != nil {
		f.Fatal(err)
	}
	s := NewServer(Config{APIKey: "k", APISecret: "fuzz-secret-fuzz-secret-fuzz-secret", Logger: log}, eng)
	hs := httptest.NewServer(s.Handler())
	tok, err := s.MintToken(TokenSpec{Room: "fuzz", Identity: "f", CanPublish: true, CanSubscribe: true, CanPublishData: true, TTL: time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	ws, _, err := websocket.DefaultDialer.Dial("ws://"+strings.TrimPrefix(hs.URL, "http://")+"/rtc?protocol=17&access_token="+tok, nil)
	if err != nil {
		f.Fatal(err)
	}
	go func() { // drain what the server sends; ends when the socket closes
		for {
			if _, _, err := ws.ReadMessage(); err != nil {
				return
			}
		}
	}()
	f.Cleanup(func() {
		ws.Close()
		s.Close()
		hs.Close()
		_ = eng.Close()
	})
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if _, p, err := s.find("fuzz", "f"); err == nil {
			return p, s
		}
	}
	f.Fatal("participant did not join")
	return nil, nil
}
