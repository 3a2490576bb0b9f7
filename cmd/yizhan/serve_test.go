package main

import (
	"bufio"
	"bytes"
	"io"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/livekit/protocol/auth"
	"github.com/livekit/protocol/livekit"
	lksdk "github.com/livekit/server-sdk-go/v2"

	"yizhan/internal/lktest"
	"yizhan/signaling"
)

// buildBinary compiles yizhan once for the process tests.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "yizhan")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// startProcess runs `yizhan serve --dev` on free loopback ports and returns the
// process and its base URL, read from what it prints.
func startProcess(t *testing.T, bin string, extra ...string) (*exec.Cmd, string) {
	t.Helper()
	args := append([]string{"serve", "--dev", "--http", "127.0.0.1:0", "--udp-port", "0", "--tcp-port", "0", "--data", t.TempDir()}, extra...)
	cmd := exec.Command(bin, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		re := regexp.MustCompile(`listening on (http://\S+)`)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				addr <- m[1]
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case a := <-addr:
		return cmd, a
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not start; stderr:\n%s", stderr.String())
	}
	return nil, ""
}

// TestServeShutsDownCleanly: SIGTERM gives every participant a Leave and the process
// exits 0.
func TestServeShutsDownCleanly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := buildBinary(t)
	cmd, base := startProcess(t, bin)
	wsURL := "ws://" + strings.TrimPrefix(base, "http://")
	tok, err := signaling.MintToken(devAPIKey, devAPISecret, signaling.TokenSpec{Room: "r", Identity: "alice", CanPublish: true, CanSubscribe: true, TTL: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	c, err := lktest.Connect(wsURL, tok)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if !lktest.Eventually(10*time.Second, func() bool { return c.Room.ConnectionState() == lksdk.ConnectionStateDisconnected }) {
		t.Fatal("client still connected after SIGTERM")
	}
	if r := c.Room.DisconnectReason(); r != livekit.DisconnectReason_SERVER_SHUTDOWN {
		t.Errorf("disconnect reason %v, want SERVER_SHUTDOWN", r)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("exit: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("process did not exit after SIGTERM")
	}
}

func TestTokenCommand(t *testing.T) {
	var out, errb bytes.Buffer
	code := run([]string{"token", "--api-key", "k1", "--api-secret", "s1-s1-s1-s1-s1-s1-s1-s1-s1-s1-s1-s1",
		"--room", "hall", "--identity", "judge-li", "--name", "Li", "--ttl", "10m", "--publish=false"}, nil, &out, &errb)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	v, err := auth.ParseAPIToken(strings.TrimSpace(out.String()))
	if err != nil {
		t.Fatal(err)
	}
	_, g, err := v.Verify("s1-s1-s1-s1-s1-s1-s1-s1-s1-s1-s1-s1")
	if err != nil {
		t.Fatal(err)
	}
	if g.Identity != "judge-li" || g.Name != "Li" || g.Video.Room != "hall" || g.Video.GetCanPublish() || !g.Video.GetCanSubscribe() {
		t.Fatalf("grants = %+v video=%+v", g, g.Video)
	}
	if code := run([]string{"token", "--room", "x"}, nil, &out, &errb); code == 0 {
		t.Fatal("token without key and identity succeeded")
	}
}

func TestServeRefusesBadConfig(t *testing.T) {
	cases := [][]string{
		{}, // no key or secret
		{"--api-key", "k", "--api-secret", "short"},            // weak secret
		{"--api-key", devAPIKey, "--api-secret", devAPISecret}, // dev credentials outside --dev
		{"--dev", "--udp-port", "70000"},
	}
	for _, args := range cases {
		var errb bytes.Buffer
		if _, err := parseServeConfig(args, &errb); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}

func TestConfigCheckCommand(t *testing.T) {
	var out, errb bytes.Buffer
	if code := run([]string{"config", "check", "--dev", "--data", t.TempDir(), "--http", "127.0.0.1:0", "--udp-port", "0", "--tcp-port", "0"}, nil, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s%s", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), "configuration OK") || strings.Contains(out.String(), devAPISecret) {
		t.Fatalf("output:\n%s", out.String())
	}
	out.Reset()
	errb.Reset()
	if code := run([]string{"config", "check", "--api-key", "k", "--api-secret", "short"}, nil, &out, &errb); code == 0 {
		t.Fatalf("a weak secret passed the check:\n%s", out.String())
	}
}
