package mediation

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCustodyLogOneBoundedLinePerView (row 7): a read with a 240 KB Range header adds one
// short line to the custody log, not the header; HEAD, 416 and conditional requests add
// none. Before: the line held the header, and 416 and HEAD were logged as views.
func TestCustodyLogOneBoundedLinePerView(t *testing.T) {
	rs := newRecorderServer(t)
	ls := rs.ls
	c, _, dir, _, _ := rs.caucusSession(t, "sealed")
	base := fmt.Sprintf("/api/cases/%d/file", c.ID)
	var l caseFolderJSON
	ls.call("mediator", "GET", base, "", 200, &l)
	var open string
	for _, f := range l.Files {
		if strings.HasSuffix(f.Path, ".webm") && !f.Restricted {
			open = f.Path
		}
	}
	if open == "" {
		t.Fatalf("no open track file in %+v", l.Files)
	}
	custody := filepath.Join(filepath.Dir(dir), "custody.jsonl")
	lines := func() []string {
		b, err := os.ReadFile(custody)
		if err != nil {
			t.Fatal(err)
		}
		return strings.Split(strings.TrimSpace(string(b)), "\n")
	}
	req := func(method, rg string, hdr ...string) int {
		r, _ := http.NewRequest(method, ls.srv.URL+base+"/"+open, nil)
		if rg != "" {
			r.Header.Set("Range", rg)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		r.AddCookie(ls.cookies["mediator"])
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}

	before := len(lines())
	huge := "bytes=0-0" + strings.Repeat(",0-0", 240<<10/4)
	if st := req("GET", huge); st != 200 && st != 206 {
		t.Fatalf("huge range: %d", st)
	}
	got := lines()
	if len(got) != before+1 {
		t.Fatalf("custody log grew by %d lines, want 1", len(got)-before)
	}
	if last := got[len(got)-1]; len(last) > 1024 {
		t.Errorf("custody line of %d bytes for one view", len(last))
	}

	for _, tc := range []struct {
		name, method, rg string
		hdr              []string
		status           int
	}{
		{"HEAD", "HEAD", "", nil, 200},
		{"416", "GET", "bytes=999999999-", nil, 416},
		{"bad range", "GET", "bytes=x-y", nil, 416},
		{"If-Range does not turn a refused range into the whole file", "GET", "bytes=999999999-", []string{"If-Range", `"nope"`}, 416},
	} {
		n := len(lines())
		if st := req(tc.method, tc.rg, tc.hdr...); st != tc.status {
			t.Errorf("%s: %d, want %d", tc.name, st, tc.status)
		}
		if d := len(lines()) - n; d != 0 {
			t.Errorf("%s: logged %d views, want none", tc.name, d)
		}
	}
	n := len(lines())
	if st := req("GET", "bytes=0-3"); st != 206 {
		t.Fatalf("range: %d", st)
	}
	got = lines()
	if len(got) != n+1 || !strings.Contains(got[len(got)-1], `"range":"bytes=0-3"`) {
		t.Errorf("a range view: %d new lines, last %s", len(got)-n, got[len(got)-1])
	}
}

func TestServedSpan(t *testing.T) {
	for _, tc := range []struct {
		hdr    string
		span   string
		served bool
	}{
		{"", "", true},
		{"bytes=0-3", "bytes=0-3", true},
		{"bytes=5-", "bytes=5-99", true},
		{"bytes=-10", "bytes=90-99", true},
		{"bytes=0-1,4-5", "bytes=0-1 +1 more", true},
		{"bytes=0-99,0-99", "", true}, // more than the file: the whole file
		{"bytes=100-", "", false},
		{"bytes=3-1", "", false},
		{"items=0-1", "", false},
		{"bytes=,", "", true},
	} {
		span, served := servedSpan(tc.hdr, 100)
		if span != tc.span || served != tc.served {
			t.Errorf("%q: %q %v, want %q %v", tc.hdr, span, served, tc.span, tc.served)
		}
	}
}
