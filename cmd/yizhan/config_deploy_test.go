package main

import (
	"bytes"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func configCheck(args ...string) (stdout, stderr string, err error) {
	var out, errb bytes.Buffer
	err = cmdConfig(append([]string{"check"}, args...), nil, &out, &errb)
	return out.String(), errb.String(), err
}

// TestConfigCheck: a good configuration prints its effective settings with every
// secret masked; each kind of problem fails with a message that names it.
func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	writeCert(t, dir)
	cert, key := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	secret := "a-production-secret-of-forty-characters!"
	extSecret := "external-turn-shared-secret"
	good := []string{"--http", "127.0.0.1:0", "--udp-port", "0", "--tcp-port", "0", "--data", t.TempDir(),
		"--api-key", "prod", "--api-secret", secret,
		"--tls-cert", cert, "--tls-key", key, "--turn-tls-port", "0", "--turn-udp-port", "0",
		"--turn-external", "turns:turn.example.org:443?transport=tcp,turn:turn.example.org:3478",
		"--turn-external-secret", extSecret}
	out, errs, err := configCheck(good...)
	if err != nil {
		t.Fatalf("good config refused: %v\n%s%s", err, out, errs)
	}
	for _, want := range []string{"configuration OK", "https, wss", "turns:turn.example.org:443", "api-secret", "******** (40 characters)"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, s := range []string{secret, extSecret} {
		if strings.Contains(out+errs, s) {
			t.Errorf("secret %q printed:\n%s", s, out)
		}
	}

	// A port somebody else holds is a warning (serve may be running), not a failure.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	busy := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)

	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	with := func(extra ...string) []string { return append(append([]string(nil), good...), extra...) }
	bad := []struct {
		name string
		args []string
		want string
	}{
		{"missing cert", with("--tls-cert", filepath.Join(dir, "nope.pem")), "nope.pem"},
		{"key without cert", with("--tls-cert", ""), "--tls-cert and --tls-key go together"},
		{"cert is not a cert", with("--tls-cert", key), "load"},
		{"port clash", with("--udp-port", "3478", "--turn-udp-port", "3478"), "port clash"},
		{"ICE TCP on the HTTP port", with("--http", "127.0.0.1:7880", "--tcp-port", "7880"), "port clash"},
		{"bad node ip", with("--node-ip", "1.2.3"), "not an IP address"},
		{"IPv6 node ip", with("--node-ip", "2001:db8::1"), "IPv4"},
		{"turn tls without cert", with("--tls-cert", "", "--tls-key", "", "--turn-tls-port", "5349", "--node-ip", "192.0.2.1"), "--turn-tls-port needs --tls-cert"},
		{"turn without address", with("--http", "0.0.0.0:0", "--turn-udp-port", "3478"), "--turn-domain or --node-ip"},
		{"turn domain not in cert", with("--turn-tls-port", "5349", "--turn-domain", "turn.example.org"), "not a name of the certificate"},
		{"external without auth", with("--turn-external-secret", ""), "--turn-external-secret or"},
		{"external bad scheme", with("--turn-external", "http://x"), "turn:"},
		{"weak secret", with("--api-secret", "short"), "at least 32"},
		{"data not a directory", with("--data", notDir), "not a directory"},
	}
	for _, c := range bad {
		out, errs, err := configCheck(c.args...)
		if err == nil {
			t.Errorf("%s: accepted\n%s", c.name, out)
			continue
		}
		if !strings.Contains(errs, c.want) {
			t.Errorf("%s: problems do not mention %q:\n%s", c.name, c.want, errs)
		}
		if strings.Contains(out+errs, secret) {
			t.Errorf("%s: secret printed", c.name)
		}
	}

	out, _, err = configCheck(with("--http", "127.0.0.1:"+busy)...)
	if err != nil || !strings.Contains(out, "cannot be opened now") {
		t.Errorf("busy port: err %v\n%s", err, out)
	}
	if _, _, err := configCheck("--no-such-flag"); err == nil {
		t.Error("unknown flag accepted")
	}
}
