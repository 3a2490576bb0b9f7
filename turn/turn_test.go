package turn

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"net"
	"net/netip"
	"testing"
	"time"

	pionturn "github.com/pion/turn/v5"
)

const testSecret = "test-turn-secret"

// sfuStub stands in for the SFU's ICE UDP port: it echoes what it receives.
func sfuStub(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	go func() { // echo loop; ends when the test closes c
		buf := make([]byte, 1500)
		for {
			n, from, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			_, _ = c.WriteToUDP(buf[:n], from)
		}
	}()
	return c
}

func startTURN(t *testing.T, sfu *net.UDPConn, aliases []Alias, maxPerUser ...int) (*Server, *x509.CertPool) {
	t.Helper()
	limit := 0
	if len(maxPerUser) > 0 {
		limit = maxPerUser[0]
	}
	cert, pool := selfSigned(t)
	s, err := New(Config{
		Realm:      "yizhan.test",
		Secret:     testSecret,
		UDPAddr:    "127.0.0.1:0",
		TLSAddr:    "127.0.0.1:0",
		TLSConfig:  &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		Peers:      []netip.AddrPort{sfu.LocalAddr().(*net.UDPAddr).AddrPort()},
		Aliases:    aliases,
		MaxPerUser: limit,
		Logger:     testLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s, pool
}

// dialTURN opens a TURN client over "udp" or "tls" with credentials for identity.
func dialTURN(t *testing.T, s *Server, pool *x509.CertPool, transport, user, pass string) *pionturn.Client {
	t.Helper()
	var conn net.PacketConn
	var server string
	switch transport {
	case "udp":
		c, err := net.ListenPacket("udp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		conn, server = c, s.UDPAddr().String()
	case "tls":
		d := &net.Dialer{Timeout: 5 * time.Second}
		c, err := tls.DialWithDialer(d, "tcp4", s.TLSAddr().String(), &tls.Config{RootCAs: pool, ServerName: "localhost"})
		if err != nil {
			t.Fatal(err)
		}
		conn, server = pionturn.NewSTUNConn(c), s.TLSAddr().String()
	}
	cl, err := pionturn.NewClient(&pionturn.ClientConfig{
		TURNServerAddr: server, STUNServerAddr: server,
		Username: user, Password: pass, Realm: "yizhan.test",
		Conn: conn, RTO: 200 * time.Millisecond,
		LoggerFactory: pionLogs{log: testLogger()},
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := cl.Listen(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close(); _ = conn.Close() })
	return cl
}

func allocate(t *testing.T, cl *pionturn.Client) net.PacketConn {
	t.Helper()
	relay, err := cl.Allocate()
	if err != nil {
		t.Fatalf("allocate: %v", err)
	}
	t.Cleanup(func() { _ = relay.Close() })
	return relay
}

// roundTrip sends msg through the relay to `to` and waits for the echo.
func roundTrip(t *testing.T, relay net.PacketConn, to net.Addr, msg []byte) net.Addr {
	t.Helper()
	buf := make([]byte, 1500)
	// The first packets may race the permission; resend until the echo arrives.
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if _, err := relay.WriteTo(msg, to); err != nil {
			t.Fatalf("relay write: %v", err)
		}
		_ = relay.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		n, from, err := relay.ReadFrom(buf)
		if err == nil && bytes.Equal(buf[:n], msg) {
			return from
		}
	}
	t.Fatalf("no echo of %q from %s through the relay", msg, to)
	return nil
}

// TestRelayReachesTheSFUOnly: over UDP and over TLS, with the credentials the SFU hands
// out, a client relays to the SFU and back; a permission toward any other address is
// refused, and packets to another port of the SFU's IP, or from it, are dropped.
func TestRelayReachesTheSFUOnly(t *testing.T) {
	checkGoroutines(t)
	sfu := sfuStub(t)
	s, pool := startTURN(t, sfu, nil)
	for _, transport := range []string{"udp", "tls"} {
		t.Run(transport, func(t *testing.T) {
			user, pass := Credentials(testSecret, "alice", time.Hour, time.Now())
			cl := dialTURN(t, s, pool, transport, user, pass)
			relay := allocate(t, cl)

			from := roundTrip(t, relay, sfu.LocalAddr(), []byte("to the sfu "+transport))
			if from.String() != sfu.LocalAddr().String() {
				t.Errorf("echo came from %s, want %s", from, sfu.LocalAddr())
			}

			// Another address: refused at CreatePermission (403 Forbidden).
			if err := cl.CreatePermission(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 9}); err == nil {
				t.Error("permission toward 127.0.0.2 was granted")
			}

			// The SFU's IP but another port: the permission (per IP) exists, the packet dies.
			other, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			refused := s.Refused()
			for range 5 {
				if _, err := relay.WriteTo([]byte("to someone else"), other.LocalAddr()); err != nil {
					t.Fatalf("relay write: %v", err)
				}
			}
			_ = other.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			if n, from, err := other.ReadFrom(make([]byte, 1500)); err == nil {
				t.Fatalf("relay delivered %d bytes from %s to a port that is not the SFU's", n, from)
			}
			if s.Refused() <= refused {
				t.Error("refused packets were not counted")
			}

			// And nothing comes back in from that port either. The relayed address is the
			// relay socket's own here (it binds 127.0.0.1 in tests).
			relayLocal := relay.LocalAddr()
			for range 3 {
				_, _ = other.WriteTo([]byte("unsolicited"), relayLocal)
			}
			_ = relay.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
			buf := make([]byte, 1500)
			for {
				n, from, err := relay.ReadFrom(buf)
				if err != nil {
					break
				}
				if string(buf[:n]) == "unsolicited" {
					t.Fatalf("relay passed a packet from %s", from)
				}
			}
		})
	}
}

// TestCredentials: the embedded server accepts what Credentials makes, and refuses an
// expired username, a wrong secret and a TCP relay allocation (RFC 6062).
func TestCredentials(t *testing.T) {
	checkGoroutines(t)
	sfu := sfuStub(t)
	s, pool := startTURN(t, sfu, nil)

	user, pass := Credentials(testSecret, "bob", time.Minute, time.Now())
	allocate(t, dialTURN(t, s, pool, "udp", user, pass))

	cases := map[string][2]string{}
	u, p := Credentials(testSecret, "bob", -time.Minute, time.Now())
	cases["expired"] = [2]string{u, p}
	u, p = Credentials("another secret", "bob", time.Minute, time.Now())
	cases["wrong secret"] = [2]string{u, p}
	u, _ = Credentials(testSecret, "bob", time.Minute, time.Now())
	_, p = Credentials(testSecret, "mallory", time.Minute, time.Now())
	cases["someone else's password"] = [2]string{u, p}
	for name, c := range cases {
		if _, err := dialTURN(t, s, pool, "udp", c[0], c[1]).Allocate(); err == nil {
			t.Errorf("%s: allocation granted", name)
		}
	}

	cl := dialTURN(t, s, pool, "tls", user, pass)
	if _, err := cl.AllocateTCP(); err == nil {
		t.Error("TCP allocation granted")
	}
}

// TestAlias: a client naming the announced NodeIP reaches the SFU's local address, and
// the answers wear the announced address the client knows.
func TestAlias(t *testing.T) {
	checkGoroutines(t)
	sfu := sfuStub(t)
	local := sfu.LocalAddr().(*net.UDPAddr).AddrPort()
	announced := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.3"), local.Port())
	s, pool := startTURN(t, sfu, []Alias{{Announced: announced, Local: local}})
	user, pass := Credentials(testSecret, "carol", time.Hour, time.Now())
	relay := allocate(t, dialTURN(t, s, pool, "udp", user, pass))
	from := roundTrip(t, relay, net.UDPAddrFromAddrPort(announced), []byte("via the node ip"))
	if from.String() != announced.String() {
		t.Errorf("echo came from %s, want %s", from, announced)
	}
}

func TestCredentialsFormat(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	u, p := Credentials("s3cret", "alice", time.Hour, now)
	if u != "1700003600:alice" {
		t.Errorf("username %q", u)
	}
	// echo -n 1700003600:alice | openssl dgst -sha1 -hmac s3cret -binary | base64
	if p != "YAFdW/YDZewZsR1QSgUk2IrfbRI=" {
		t.Errorf("password %q", p)
	}
	if DeriveSecret("a") == DeriveSecret("b") || DeriveSecret("a") != DeriveSecret("a") {
		t.Error("DeriveSecret is not a function of the secret")
	}
}

// TestQuota: one identity holds at most MaxPerUser relays; others are not affected, and
// a released relay frees its place.
func TestQuota(t *testing.T) {
	checkGoroutines(t)
	sfu := sfuStub(t)
	s, pool := startTURN(t, sfu, nil, 2)
	user, pass := Credentials(testSecret, "dave", time.Hour, time.Now())
	r1 := allocate(t, dialTURN(t, s, pool, "udp", user, pass))
	allocate(t, dialTURN(t, s, pool, "udp", user, pass))
	if _, err := dialTURN(t, s, pool, "udp", user, pass).Allocate(); err == nil {
		t.Fatal("third relay for one identity granted")
	}
	u2, p2 := Credentials(testSecret, "erin", time.Hour, time.Now())
	allocate(t, dialTURN(t, s, pool, "udp", u2, p2))
	_ = r1.Close() // refresh with lifetime 0: the allocation goes
	deadline := time.Now().Add(5 * time.Second)
	for {
		relay, err := dialTURN(t, s, pool, "udp", user, pass).Allocate()
		if err == nil {
			_ = relay.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("quota not released after a relay closed")
		}
		time.Sleep(100 * time.Millisecond)
	}
}
