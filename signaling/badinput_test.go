package signaling_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/gorilla/websocket"
	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	"google.golang.org/protobuf/proto"

	"yizhan/internal/lktest"
)

func TestTokenCheckedBeforeUpgrade(t *testing.T) {
	ts := startServer(t)
	base := ts.http.URL
	// auth.AccessToken will not mint an expired token; sign the claims by hand.
	expired, _ := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": testKey, "sub": "x", "exp": time.Now().Add(-time.Hour).Unix(), "nbf": time.Now().Add(-2 * time.Hour).Unix(),
		"video": map[string]any{"roomJoin": true, "room": "r"},
	}).SignedString([]byte(testSecret))
	wrongSecret, _ := auth.NewAccessToken(testKey, "another-secret-another-secret-0000").SetIdentity("x").
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true, Room: "r"}).ToJWT()
	noRoom, _ := auth.NewAccessToken(testKey, testSecret).SetIdentity("x").
		SetVideoGrant(&auth.VideoGrant{RoomJoin: true}).ToJWT()
	good := ts.token(t, "r", "x", true)

	cases := []struct {
		name, path string
		want       int
	}{
		{"no token", "/rtc", 401},
		{"garbage token", "/rtc?access_token=not.a.jwt", 401},
		{"expired", "/rtc?access_token=" + expired, 401},
		{"wrong secret", "/rtc?access_token=" + wrongSecret, 401},
		{"no room grant", "/rtc?access_token=" + noRoom, 401},
		{"single-pc join request", "/rtc?join_request=abc&access_token=" + good, 400},
		{"validate bad", "/rtc/validate?access_token=" + expired, 401},
		{"validate good", "/rtc/validate?access_token=" + good, 200},
		{"v1 declined", "/rtc/v1?access_token=" + good, 404},
		{"v1 validate declined", "/rtc/v1/validate?access_token=" + good, 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, err := http.Get(base + c.path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, c.want)
			}
			if resp.Header.Get("Access-Control-Allow-Origin") != "*" {
				t.Fatalf("no CORS header: the browser would hide the answer")
			}
		})
	}
	// A bad token on a websocket dial is refused before any upgrade.
	_, resp, err := websocket.DefaultDialer.Dial(ts.url+"/rtc?access_token="+expired, nil)
	if err == nil || resp == nil || resp.StatusCode != 401 {
		t.Fatalf("dial with expired token: err=%v resp=%v", err, resp)
	}
}

// rawClient is a hand-made signal client, to send what real clients never would.
type rawClient struct {
	t  *testing.T
	ws *websocket.Conn
}

func dialRaw(t *testing.T, ts *testServer, room, identity, query string) *rawClient {
	t.Helper()
	u := ts.url + "/rtc?protocol=17&access_token=" + ts.token(t, room, identity, true) + query
	ws, _, err := websocket.DefaultDialer.Dial(u, nil)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { ws.Close() })
	return &rawClient{t: t, ws: ws}
}

func (c *rawClient) next() (*livekit.SignalResponse, error) {
	_ = c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, b, err := c.ws.ReadMessage()
	if err != nil {
		return nil, err
	}
	msg := &livekit.SignalResponse{}
	if err := proto.Unmarshal(b, msg); err != nil {
		c.t.Fatalf("server sent undecodable frame: %v", err)
	}
	return msg, nil
}

// waitFor reads until a response matches.
func (c *rawClient) waitFor(match func(*livekit.SignalResponse) bool) *livekit.SignalResponse {
	c.t.Helper()
	for {
		msg, err := c.next()
		if err != nil {
			c.t.Fatalf("read: %v", err)
		}
		if match(msg) {
			return msg
		}
	}
}

func (c *rawClient) send(req *livekit.SignalRequest) {
	b, _ := proto.Marshal(req)
	if err := c.ws.WriteMessage(websocket.BinaryMessage, b); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

func TestJoinResponseFields(t *testing.T) {
	ts := startServer(t)
	c := dialRaw(t, ts, "jr", "alice", "")
	msg, err := c.next()
	if err != nil {
		t.Fatal(err)
	}
	j := msg.GetJoin()
	if j == nil {
		t.Fatalf("first message is %T, want join", msg.Message)
	}
	if j.Room == nil || j.Room.Name != "jr" || !strings.HasPrefix(j.Room.Sid, "RM_") {
		t.Errorf("room = %v", j.Room)
	}
	p := j.Participant
	if p == nil || !strings.HasPrefix(p.Sid, "PA_") || p.Identity != "alice" || p.Permission == nil || !p.Permission.CanPublish || p.Version == 0 {
		t.Errorf("participant = %v", p)
	}
	if j.ServerInfo == nil || j.ServerInfo.Version < "1.8.0" || j.ServerVersion == "" {
		t.Errorf("server info = %v / %q", j.ServerInfo, j.ServerVersion)
	}
	if j.SubscriberPrimary || !j.FastPublish || j.PingInterval == 0 || j.PingTimeout == 0 {
		t.Errorf("flags: subscriber_primary=%v fast_publish=%v ping=%d/%d", j.SubscriberPrimary, j.FastPublish, j.PingInterval, j.PingTimeout)
	}
	mimes := map[string]bool{}
	for _, codec := range j.EnabledPublishCodecs {
		mimes[strings.ToLower(codec.Mime)] = true
	}
	if !mimes["video/vp8"] || !mimes["audio/opus"] {
		t.Errorf("enabled_publish_codecs = %v", j.EnabledPublishCodecs)
	}
	// ping / ping_req are answered.
	c.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Ping{Ping: 42}})
	c.waitFor(func(m *livekit.SignalResponse) bool { return m.GetPong() != 0 })
	c.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_PingReq{PingReq: &livekit.Ping{Timestamp: 77}}})
	c.waitFor(func(m *livekit.SignalResponse) bool { return m.GetPongResp().GetLastPingTimestamp() == 77 })
	// add_track is answered with track_published for the same cid.
	c.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_AddTrack{AddTrack: &livekit.AddTrackRequest{
		Cid: "my-cid", Name: "cam", Type: livekit.TrackType_VIDEO, Source: livekit.TrackSource_CAMERA}}})
	tp := c.waitFor(func(m *livekit.SignalResponse) bool { return m.GetTrackPublished() != nil }).GetTrackPublished()
	if tp.Cid != "my-cid" || !strings.HasPrefix(tp.Track.GetSid(), "TR_") {
		t.Errorf("track_published = %v", tp)
	}
}

func TestReconnectIsAskedToRejoin(t *testing.T) {
	ts := startServer(t)
	c := dialRaw(t, ts, "rc", "alice", "&reconnect=1&sid=PA_unknown")
	msg, err := c.next()
	if err != nil {
		t.Fatal(err)
	}
	l := msg.GetLeave()
	if l == nil || l.Action != livekit.LeaveRequest_RECONNECT {
		t.Fatalf("got %v, want leave with action RECONNECT", msg)
	}
}

// TestBadFramesHurtNobody: malformed protobuf, garbage SDP, out-of-order answers,
// unknown requests and oversized frames from one client leave the server and the
// other participants of its room untouched.
func TestBadFramesHurtNobody(t *testing.T) {
	ts := startServer(t)
	alice := ts.connect(t, "bad", "alice", true)
	bob := ts.connect(t, "bad", "bob", false)
	if _, err := alice.PublishVP8(lktest.VideoOptions{BitrateKbps: 200}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "bob receives alice", func() bool { return bob.PacketsFrom("alice", "video") > 10 })

	m := dialRaw(t, ts, "bad", "mallory", "")
	if msg, err := m.next(); err != nil || msg.GetJoin() == nil {
		t.Fatalf("mallory's join: %v %v", msg, err)
	}
	// Malformed protobuf, then protojson text that is not a request.
	_ = m.ws.WriteMessage(websocket.BinaryMessage, []byte{0xff, 0xff, 0xff, 0x01, 0x02})
	_ = m.ws.WriteMessage(websocket.TextMessage, []byte(`{"offer": 12}`))
	// Garbage SDP, an answer with no offer in flight, a trickle with a bad candidate,
	// an empty request.
	m.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Offer{Offer: &livekit.SessionDescription{Type: "offer", Sdp: "v=banana", Id: 1}}})
	m.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Answer{Answer: &livekit.SessionDescription{Type: "answer", Sdp: "v=0", Id: 99}}})
	m.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Trickle{Trickle: &livekit.TrickleRequest{CandidateInit: "{{{"}}})
	m.send(&livekit.SignalRequest{})
	// Mute of a track that does not exist, metadata it may not change.
	m.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Mute{Mute: &livekit.MuteTrackRequest{Sid: "TR_nope", Muted: true}}})
	m.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_UpdateMetadata{UpdateMetadata: &livekit.UpdateParticipantMetadata{Name: "boss", RequestId: 5}}})
	rr := m.waitFor(func(r *livekit.SignalResponse) bool { return r.GetRequestResponse() != nil }).GetRequestResponse()
	if rr.RequestId != 5 || rr.Reason != livekit.RequestResponse_NOT_ALLOWED {
		t.Fatalf("metadata answer = %v", rr)
	}
	// Still connected: a ping is answered.
	m.send(&livekit.SignalRequest{Message: &livekit.SignalRequest_Ping{Ping: 1}})
	m.waitFor(func(r *livekit.SignalResponse) bool { return r.GetPong() != 0 })

	// An oversized frame closes mallory's connection, and only hers.
	_ = m.ws.WriteMessage(websocket.BinaryMessage, make([]byte, 1<<20))
	for {
		if _, err := m.next(); err != nil {
			break
		}
	}
	waitFor(t, "mallory removed", func() bool {
		for _, p := range ts.sig.Participants("bad") {
			if p.Identity == "mallory" {
				return false
			}
		}
		return true
	})
	before := bob.PacketsFrom("alice", "video")
	waitFor(t, "bob still receives alice", func() bool { return bob.PacketsFrom("alice", "video") > before+20 })
}

// TestTokenRefresh: a participant gets fresh tokens for its session, so that it can
// resume after its join token expired.
func TestTokenRefresh(t *testing.T) {
	ts := startServer(t)
	c := dialRaw(t, ts, "fresh", "alice", "")
	msg := c.waitFor(func(m *livekit.SignalResponse) bool { return m.GetRefreshToken() != "" })
	v, err := auth.ParseAPIToken(msg.GetRefreshToken())
	if err != nil {
		t.Fatal(err)
	}
	claims, g, err := v.Verify(testSecret)
	if err != nil {
		t.Fatal(err)
	}
	if g.Identity != "alice" || g.Video.Room != "fresh" || !g.Video.GetCanPublish() {
		t.Fatalf("refreshed grants %+v %+v", g, g.Video)
	}
	if left := time.Until(claims.ExpiresAt.Time); left < 3*time.Second {
		t.Fatalf("refreshed token expires in %v", left)
	}
}
