package main

import (
	"bytes"
	"regexp"
	"testing"
	"time"

	"yizhan/internal/lktest"
	"yizhan/signaling"
)

// TestWebsocketsPerAddrFlag: --max-websockets-per-addr reaches signaling and config
// check. A lecture's viewers in one village may share a carrier-NAT address, and the
// benchmark's hundred clients share 127.0.0.1: the default of 64 must be movable.
func TestWebsocketsPerAddrFlag(t *testing.T) {
	var out, errb bytes.Buffer
	if err := cmdConfig([]string{"check", "--dev", "--data", t.TempDir(), "--http", "127.0.0.1:0", "--udp-port", "0", "--tcp-port", "0",
		"--max-websockets-per-addr", "300"}, nil, &out, &errb); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	if !regexp.MustCompile(`signal_websockets_per_addr +300 `).MatchString(out.String()) {
		t.Errorf("config check does not show the flag's value:\n%s", out.String())
	}
	if err := cmdConfig([]string{"check", "--dev", "--data", t.TempDir(), "--http", "127.0.0.1:0", "--max-websockets-per-addr", "0"}, nil, &out, &errb); err == nil {
		t.Error("--max-websockets-per-addr 0 accepted")
	}

	cfg := testConfig(t)
	cfg.MaxWSPerAddr = 1
	a := startApp(t, cfg)
	token := func(id string) string {
		tok, err := a.sig.MintToken(signaling.TokenSpec{Room: "r", Identity: id, TTL: time.Hour, CanSubscribe: true})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	url := "ws://" + a.addr
	first, err := lktest.Connect(url, token("a"))
	if err != nil {
		t.Fatalf("first connection refused: %v", err)
	}
	defer first.Close()
	if second, err := lktest.Connect(url, token("b")); err == nil {
		second.Close()
		t.Fatal("a second signal connection from 127.0.0.1 was let in with --max-websockets-per-addr 1")
	}
	if hits := a.sig.LimitHits()["signal_websockets_per_addr"]; hits == 0 {
		t.Error("the refusal was not counted")
	}
}
