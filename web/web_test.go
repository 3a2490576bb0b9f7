package web_test

import (
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"yizhan/web"
)

func get(t *testing.T, h http.Handler, path string, hdr map[string]string) *http.Response {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, path, nil)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec.Result()
}

func TestHandlerRoutesToIndex(t *testing.T) {
	h := web.Handler()
	for _, p := range []string{"/", "/room", "/room?url=ws://x&token=y", "/j/ABC123", "/console", "/console/cases/7", "/nope/deeper"} {
		res := get(t, h, p, nil)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("%s: status %d", p, res.StatusCode)
		}
		if !strings.Contains(string(body), `<div id="app">`) {
			t.Fatalf("%s: not index.html: %.200s", p, body)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Fatalf("%s: Cache-Control %q", p, cc)
		}
	}
}

func TestHandlerAssets(t *testing.T) {
	h := web.Handler()
	res := get(t, h, "/", nil)
	body, _ := io.ReadAll(res.Body)
	m := regexp.MustCompile(`src="(/assets/main-[A-Z0-9]{8}\.js)"`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no main script in index: %s", body)
	}
	js := string(m[1])
	res = get(t, h, js, nil)
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/javascript") {
		t.Fatalf("%s: %d %s", js, res.StatusCode, res.Header.Get("Content-Type"))
	}
	if !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("%s: Cache-Control %q", js, res.Header.Get("Cache-Control"))
	}
	if len(raw) < 200 {
		t.Fatalf("%s: only %d bytes", js, len(raw))
	}

	// every chunk over 1 KiB has a gzip copy; the entry imports the others
	big := regexp.MustCompile(`"\./(c-[A-Z0-9]{8}\.js)"`).FindAllStringSubmatch(string(raw), -1)
	if len(big) == 0 {
		t.Fatalf("entry imports no chunk: %s", raw)
	}
	raw = nil
	for _, m := range big {
		res := get(t, h, "/assets/"+m[1], nil)
		b, _ := io.ReadAll(res.Body)
		if len(b) > len(raw) {
			js, raw = "/assets/"+m[1], b
		}
	}
	if len(raw) < 1024 {
		t.Fatalf("largest chunk %s is only %d bytes", js, len(raw))
	}
	res = get(t, h, js, map[string]string{"Accept-Encoding": "gzip, deflate"})
	if res.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("no gzip for %s", js)
	}
	zr, err := gzip.NewReader(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	unz, _ := io.ReadAll(zr)
	if string(unz) != string(raw) {
		t.Fatalf("gzip copy differs from the asset")
	}

	if res := get(t, h, "/assets/missing-AAAAAAAA.js", nil); res.StatusCode != 404 {
		t.Fatalf("missing asset: %d", res.StatusCode)
	}
	if res := get(t, h, "/assets/../index.html", nil); res.StatusCode != 200 {
		t.Fatalf("cleaned path: %d", res.StatusCode)
	}
	res = get(t, h, "/assets/favicon.svg", nil)
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("favicon: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
}

func TestHandlerRejectsPost(t *testing.T) {
	req := httptest.NewRequest(http.MethodPost, "/room", nil)
	rec := httptest.NewRecorder()
	web.Handler().ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST: %d", rec.Code)
	}
}

func TestIndexLoadsNothingFromOutside(t *testing.T) {
	res := get(t, web.Handler(), "/", nil)
	body, _ := io.ReadAll(res.Body)
	if regexp.MustCompile(`(src|href)="(https?:)?//`).Match(body) {
		t.Fatalf("index.html references another host: %s", body)
	}
}
