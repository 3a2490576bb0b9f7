package mediation

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestPublicURLNotHost (row 5): links, the websocket URL and the cookie's Secure flag
// derive from the public URL, never from the Host header a client sends.
func TestPublicURLNotHost(t *testing.T) {
	fx := newFixture(t)
	sc := fx.scene()
	fx.svc.cfg.PublicURL = "https://tiaojie.example.cn" // before any request reads it

	req, _ := http.NewRequestWithContext(fx.ctx, "POST", fx.srv.URL+"/api/login",
		strings.NewReader(`{"username":"med","password":"`+fixturePassword+`"}`))
	req.Host = "evil.example"
	req.Header.Set("X-Forwarded-Proto", "http")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var secure bool
	for _, c := range resp.Cookies() {
		if c.Name == cookieName {
			secure = c.Secure
		}
	}
	if resp.StatusCode != 200 || !secure {
		t.Errorf("login behind the https public URL: %d, Secure %v; want 200 and a Secure cookie", resp.StatusCode, secure)
	}

	st, body := doHost(t, fx, "mediator", "POST", fmt.Sprintf("/api/sessions/%d/invitations", sc.sessID), `{"role":"observer","name":"Obs"}`, "https://tiaojie.example.cn")
	if st != 201 {
		t.Fatalf("create invitation: %d %s", st, body)
	}
	var inv struct {
		Link string `json:"url"`
	}
	_ = json.Unmarshal([]byte(body), &inv)
	if !strings.HasPrefix(inv.Link, "https://tiaojie.example.cn/j/") {
		t.Errorf("invitation link %q, want it under the public URL", inv.Link)
	}
	st, body = doHost(t, fx, "party", "POST", "/api/join/"+sc.code, `{"consent":true}`, "")
	if st != 200 || !strings.Contains(body, `"url":"wss://tiaojie.example.cn"`) {
		t.Errorf("join: %d %s; want url wss://tiaojie.example.cn", st, body)
	}
}

// TestOriginSchemeCompared (row 13): an https Origin on a plain-http server is another
// origin.
func TestOriginSchemeCompared(t *testing.T) {
	fx := newFixture(t)
	httpsSame := "https://" + strings.TrimPrefix(fx.srv.URL, "http://")
	for _, tc := range []struct {
		origin string
		want   int
	}{
		{fx.srv.URL, 201},
		{httpsSame, 403},
		{"http://evil.example", 403},
	} {
		st, body := fx.do("mediator", "POST", "/api/cases", `{"title":"t","category":"land","risk":"red"}`, "Origin", tc.origin)
		if st != tc.want {
			t.Errorf("Origin %s: %d %s, want %d", tc.origin, st, body, tc.want)
		}
	}
}

// doHost is fx.do with Host: evil.example.
func doHost(t *testing.T, fx *fixture, role, method, path, body, origin string) (int, string) {
	ctx, cancel := context.WithTimeout(fx.ctx, 20*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, method, fx.srv.URL+path, strings.NewReader(body))
	req.Host = "evil.example"
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	if c := fx.cookies[role]; c != nil {
		req.AddCookie(c)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}
