package main

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // the TURN REST scheme
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/livekit/protocol/livekit"
	pionturn "github.com/pion/turn/v5"
	"github.com/pion/webrtc/v4"
	"google.golang.org/protobuf/proto"

	"yizhan/signaling"
)

// joinResponse joins room as identity over the app's /rtc (wss when TLS is on) and
// returns the JoinResponse; the websocket stays open until the test ends.
func joinResponse(t *testing.T, a *runningApp, pool *x509.CertPool, room, identity string) *livekit.JoinResponse {
	t.Helper()
	tok, err := a.sig.MintToken(signaling.TokenSpec{Room: room, Identity: identity, TTL: time.Hour, CanPublish: true, CanSubscribe: true})
	if err != nil {
		t.Fatal(err)
	}
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second, TLSClientConfig: &tls.Config{RootCAs: pool}}
	scheme := "ws"
	if pool != nil {
		scheme = "wss"
	}
	ws, _, err := d.Dial(scheme+"://"+a.addr+"/rtc?access_token="+tok+"&protocol=15", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ws.Close() })
	_ = ws.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, b, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("read join: %v", err)
		}
		var res livekit.SignalResponse
		if err := proto.Unmarshal(b, &res); err != nil {
			t.Fatal(err)
		}
		if j := res.GetJoin(); j != nil {
			return j
		}
	}
}

// tlsDialer dials TURN over TLS for Pion's ICE agent, trusting the test CA: Pion verifies
// TURNS certificates against the system roots only, which a test cannot touch.
type tlsDialer struct{ pool *x509.CertPool }

func (d tlsDialer) Dial(network, addr string) (net.Conn, error) {
	host, _, _ := net.SplitHostPort(addr)
	nd := &net.Dialer{Timeout: 5 * time.Second}
	return tls.DialWithDialer(nd, network, addr, &tls.Config{RootCAs: d.pool, ServerName: host})
}

// TestTURNOverTLS: a participant's JoinResponse carries the embedded TURN with fresh
// credentials; clients that may only relay (their UDP and direct TCP blocked) publish
// and receive video through TURN over TLS; the same credentials cannot open a relay to
// any address but the SFU's.
func TestTURNOverTLS(t *testing.T) {
	noLeaks(t)
	dir := t.TempDir()
	pool, _ := writeCert(t, dir)
	cfg := testConfig(t)
	cfg.TLSCert, cfg.TLSKey = dir+"/cert.pem", dir+"/key.pem"
	cfg.TURNUDPPort, cfg.TURNTLSPort = -1, -1 // ephemeral
	cfg.TURNDomain = "localhost"
	a := startApp(t, cfg)
	tlsPort := a.deploy().turn.TLSAddr().Port

	join := joinResponse(t, a, pool, "r1", "party-1")
	var turns *livekit.ICEServer
	var turnsURL string
	for _, s := range join.GetIceServers() {
		for _, u := range s.GetUrls() {
			if strings.HasPrefix(u, "turns:") {
				turns, turnsURL = s, u
			}
		}
	}
	if want := "turns:localhost:" + strconv.Itoa(tlsPort) + "?transport=tcp"; turnsURL != want {
		t.Fatalf("ice servers %v: want %s", join.GetIceServers(), want)
	}
	if want := "turn:localhost:" + strconv.Itoa(a.deploy().turn.UDPAddr().Port) + "?transport=udp"; !strings.Contains(strings.Join(turns.GetUrls(), " "), want) {
		t.Errorf("urls %v: want %s too", turns.GetUrls(), want)
	}
	exp, ident, ok := strings.Cut(turns.GetUsername(), ":")
	if !ok || ident != "party-1" {
		t.Fatalf("username %q", turns.GetUsername())
	}
	if e, _ := strconv.ParseInt(exp, 10, 64); time.Until(time.Unix(e, 0)) < 50*time.Minute {
		t.Errorf("credential expires at %s", time.Unix(e, 0))
	}

	t.Run("media", func(t *testing.T) {
		api := pionClient(t, func(se *webrtc.SettingEngine) {
			se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4, webrtc.NetworkTypeTCP4})
			se.SetICEProxyDialer(tlsDialer{pool: pool})
		})
		conf := webrtc.Configuration{
			ICETransportPolicy: webrtc.ICETransportPolicyRelay,
			ICEServers:         []webrtc.ICEServer{{URLs: []string{turnsURL}, Username: turns.GetUsername(), Credential: turns.GetCredential()}},
		}
		s := newMediaSession(t, a.eng, api, conf)
		waitUntil(t, 20*time.Second, "video through TURN over TLS", func() bool { return s.received.Load() >= 50 })
		for name, pc := range map[string]*webrtc.PeerConnection{"publisher": s.pub, "subscriber": s.sub} {
			if p := selectedPair(t, pc); p.Local.Typ != webrtc.ICECandidateTypeRelay {
				t.Errorf("%s pair %s, want a relay candidate", name, p)
			}
		}
		if n := a.deploy().turn.Allocations(); n < 2 {
			t.Errorf("%d TURN allocations, want one per client", n)
		}
	})

	t.Run("refused", func(t *testing.T) {
		c, err := tls.Dial("tcp4", a.deploy().turn.TLSAddr().String(), &tls.Config{RootCAs: pool, ServerName: "localhost"})
		if err != nil {
			t.Fatal(err)
		}
		conn := pionturn.NewSTUNConn(c)
		cl, err := pionturn.NewClient(&pionturn.ClientConfig{
			TURNServerAddr: a.deploy().turn.TLSAddr().String(), STUNServerAddr: a.deploy().turn.TLSAddr().String(),
			Username: turns.GetUsername(), Password: turns.GetCredential(), Conn: conn, RTO: 200 * time.Millisecond,
		})
		if err != nil {
			t.Fatal(err)
		}
		defer func() { cl.Close(); _ = conn.Close() }()
		if err := cl.Listen(); err != nil {
			t.Fatal(err)
		}
		relay, err := cl.Allocate()
		if err != nil {
			t.Fatalf("allocate with the JoinResponse credentials: %v", err)
		}
		defer relay.Close()

		// Another loopback address, and the SFU's own IP on another port (the HTTP port
		// is TCP; a UDP socket of our own stands in for any other local service).
		if err := cl.CreatePermission(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 53}); err == nil {
			t.Error("permission toward 127.0.0.2 granted")
		}
		other, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		before := a.deploy().turn.Refused()
		for range 5 {
			if _, err := relay.WriteTo([]byte("let me out"), other.LocalAddr()); err != nil {
				t.Fatal(err)
			}
		}
		_ = other.SetReadDeadline(time.Now().Add(time.Second))
		if n, from, err := other.ReadFrom(make([]byte, 1500)); err == nil {
			t.Fatalf("relay delivered %d bytes from %s to a port that is not the SFU's", n, from)
		}
		if a.deploy().turn.Refused() == before {
			t.Error("refusals not counted")
		}
	})
}

// TestSFUPeers: the relay's allowed peers are the ICE UDP port on the addresses ICE
// announces; a node IP not on this host becomes an alias of a local address.
func TestSFUPeers(t *testing.T) {
	lo := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 7882}
	any4 := &net.UDPAddr{IP: net.IPv4zero, Port: 7882}

	peers, aliases, err := sfuPeers(lo, "")
	if err != nil || len(peers) != 1 || peers[0].String() != "127.0.0.1:7882" || len(aliases) != 0 {
		t.Errorf("loopback: %v %v %v", peers, aliases, err)
	}
	peers, aliases, err = sfuPeers(lo, "203.0.113.7")
	if err != nil || len(aliases) != 1 || aliases[0].Announced.String() != "203.0.113.7:7882" || aliases[0].Local.String() != "127.0.0.1:7882" {
		t.Errorf("node ip behind NAT: %v %v %v", peers, aliases, err)
	}
	peers, aliases, err = sfuPeers(any4, "203.0.113.7")
	if err != nil || len(aliases) != 1 || aliases[0].Local.String() != "127.0.0.1:7882" {
		t.Errorf("all interfaces: %v %v %v", peers, aliases, err)
	}
	for _, p := range peers {
		if p.Port() != 7882 || !p.Addr().Is4() {
			t.Errorf("peer %s", p)
		}
	}
	// A node IP on an interface is just one of the peers.
	if _, aliases, _ := sfuPeers(any4, "127.0.0.1"); len(aliases) != 0 {
		t.Errorf("local node ip aliased: %v", aliases)
	}
}

// TestExternalTURN: external TURN servers reach the JoinResponse, with time-limited
// credentials from their shared secret, or with the static ones.
func TestExternalTURN(t *testing.T) {
	cfg := testConfig(t)
	cfg.TURNExternal = []string{"turns:turn.example.org:443?transport=tcp", "stun:stun.example.org:3478"}
	cfg.TURNExternalSecret = "coturn-static-auth-secret"
	a := startApp(t, cfg)
	j := joinResponse(t, a, nil, "r", "party-2")
	if len(j.GetIceServers()) != 1 {
		t.Fatalf("ice servers %v", j.GetIceServers())
	}
	s := j.GetIceServers()[0]
	if strings.Join(s.GetUrls(), " ") != strings.Join(cfg.TURNExternal, " ") || !strings.HasSuffix(s.GetUsername(), ":party-2") {
		t.Fatalf("ice server %v", s)
	}
	if exp, _ := strconv.ParseInt(strings.TrimSuffix(s.GetUsername(), ":party-2"), 10, 64); time.Until(time.Unix(exp, 0)) < 50*time.Minute {
		t.Errorf("username %q expires too soon", s.GetUsername())
	}
	if want := hmacB64(cfg.TURNExternalSecret, s.GetUsername()); s.GetCredential() != want {
		t.Errorf("credential %q, want HMAC-SHA1 of the username %q", s.GetCredential(), want)
	}

	cfg = testConfig(t)
	cfg.TURNExternal = []string{"turn:turn.example.org:3478"}
	cfg.TURNExternalUsername, cfg.TURNExternalCredential = "u", "p"
	a = startApp(t, cfg)
	s = joinResponse(t, a, nil, "r", "party-3").GetIceServers()[0]
	if s.GetUsername() != "u" || s.GetCredential() != "p" {
		t.Errorf("static credentials: %v", s)
	}
}

func hmacB64(secret, msg string) string {
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(msg))
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}
