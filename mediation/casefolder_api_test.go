package mediation

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"yizhan/recording"
)

// TestCaseFileAPI: a sealed session with a sealed caucus, read through the case-file
// API by staff of different standing. Everyone who can see the case lists and reads its
// files (range requests work); restricted caucus media only the case's mediator and an
// admin; staff of another centre see nothing; the public key is public; every list,
// view and download is in the custody log, whose chain verifies; verify answers ok, and
// names the file after one byte of it changed.
func TestCaseFileAPI(t *testing.T) {
	rs := newRecorderServer(t)
	ls := rs.ls
	for _, role := range []string{"admin", "observer", "other-mediator"} {
		ls.cookies[role] = ls.login(fixtureUsers[role].Username, fixturePassword)
	}
	c, m, dir, _, _ := rs.caucusSession(t, "sealed")
	base := fmt.Sprintf("/api/cases/%d/file", c.ID)

	// The public key: no login, the server's key.
	st, pem := ls.do("anonymous", "GET", "/api/signing-key", "")
	if st != 200 || pem != string(rs.key.Public().PEM()) {
		t.Fatalf("signing key: %d %q", st, pem)
	}
	if k, err := recording.ParsePublicKeyPEM([]byte(pem)); err != nil || k.KeyID() != m.Signing.KeyID {
		t.Fatalf("served key %v does not match the manifest's %s", err, m.Signing.KeyID)
	}

	// Listing: restricted files only for the mediator and the admin.
	list := func(role string) caseFolderJSON {
		var out caseFolderJSON
		ls.call(role, "GET", base, "", 200, &out)
		return out
	}
	var restricted, open string
	for role, wantHidden := range map[string]int{"mediator": 0, "admin": 0, "leader": 4, "observer": 4} {
		l := list(role)
		hidden, shown := 0, 0
		for _, f := range l.Files {
			if f.Restricted {
				restricted = f.Path
				hidden-- // listed although restricted
			}
			if strings.HasSuffix(f.Path, ".webm") {
				shown++
				if !f.Restricted {
					open = f.Path
				}
			}
			if !f.Sealed {
				t.Errorf("%s: %s not marked sealed", role, f.Path)
			}
		}
		hidden += l.Restricted
		if l.Restricted != wantHidden || (wantHidden == 0 && hidden != -4) {
			t.Errorf("%s: %d restricted files hidden, want %d (%+v)", role, l.Restricted, wantHidden, l.Files)
		}
		if want := 14 - wantHidden; shown != want {
			t.Errorf("%s sees %d track files, want %d", role, shown, want)
		}
	}
	for role, want := range map[string]int{"other-mediator": 404, "anonymous": 401} {
		if st, b := ls.do(role, "GET", base, ""); st != want {
			t.Errorf("%s lists the case file: %d %s", role, st, b)
		}
		if st, _ := ls.do(role, "GET", base+"/"+open, ""); st != want {
			t.Errorf("%s reads %s: %d", role, open, st)
		}
	}

	// Reading: a range of an open file; the restricted file by its readers only.
	onDisk := func(rel string) []byte {
		b, err := os.ReadFile(filepath.Join(filepath.Dir(dir), filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	resp := rangeGet(t, ls, "observer", base+"/"+open, "bytes=0-3")
	if resp.status != 206 || string(resp.body) != "\x1a\x45\xdf\xa3" || resp.header.Get("Content-Type") != "video/webm" {
		t.Errorf("range of %s: %d %x %q", open, resp.status, resp.body, resp.header.Get("Content-Type"))
	}
	resp = rangeGet(t, ls, "observer", base+"/"+open, "bytes=100-")
	if whole := onDisk(open); resp.status != 206 || !bytes.Equal(resp.body, whole[100:]) {
		t.Errorf("open range of %s: %d, %d bytes of %d", open, resp.status, len(resp.body), len(whole)-100)
	}
	for role, want := range map[string]int{"leader": 403, "observer": 403, "mediator": 200, "admin": 200} {
		st, b := ls.do(role, "GET", base+"/"+restricted+"?download=1", "")
		if st != want {
			t.Errorf("%s reads restricted %s: %d", role, restricted, st)
		}
		if st == 200 && b != string(onDisk(restricted)) {
			t.Errorf("%s: restricted file differs from the disk", role)
		}
	}
	session := strings.SplitN(open, "/", 2)[0]
	for _, bad := range []string{session + "/.recording", session + "/" + strings.SplitN(open, "/", 2)[1] + ".journal", "custody.jsonl",
		session + "/x/y/z.webm", session + "/%2e%2e/%2e%2e/yizhan.db", "..%2f..%2fsigning.pem"} {
		if st, b := ls.do("admin", "GET", base+"/"+bad, ""); st != 404 {
			t.Errorf("GET %s: %d %s", bad, st, b)
		}
	}

	// The custody log has every list, view and download, chained.
	caseDir := filepath.Dir(dir)
	custody, err := recording.ReadEvents(filepath.Join(caseDir, "custody.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, e := range custody {
		count[e.Kind+" "+e.Actor]++
	}
	for k, want := range map[string]int{"viewed staff-med": 1, "viewed staff-adm": 1, "viewed staff-lead": 1, "viewed staff-obs": 3,
		"downloaded staff-med": 1, "downloaded staff-adm": 1} {
		if count[k] < want {
			t.Errorf("custody log has %d %q, want %d: %v", count[k], k, want, count)
		}
	}
	if count["downloaded staff-lead"] != 0 || count["downloaded staff-obs"] != 0 {
		t.Errorf("a refused read is logged as a download: %v", count)
	}

	// Verify: ok, then one byte changed in the open file is named.
	var rep struct {
		OK       bool     `json:"ok"`
		Sessions []string `json:"sessions"`
		Checked  []string `json:"checked"`
		Problems []string `json:"problems"`
	}
	ls.call("observer", "POST", base+"/verify", "", 200, &rep)
	if !rep.OK || len(rep.Sessions) != 1 || len(rep.Checked) < 10 {
		t.Fatalf("verify: %+v", rep)
	}
	if !strings.Contains(strings.Join(rep.Checked, "\n"), "custody") {
		t.Errorf("verify did not check the custody log: %v", rep.Checked)
	}
	f := filepath.Join(caseDir, filepath.FromSlash(open))
	b := onDisk(open)
	b[len(b)/2] ^= 0xff
	if err := os.Chmod(f, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(f, b, 0o644); err != nil {
		t.Fatal(err)
	}
	ls.call("observer", "POST", base+"/verify", "", 200, &rep)
	if rep.OK || len(rep.Problems) == 0 || !strings.Contains(rep.Problems[0], filepath.Base(open)) {
		t.Errorf("verify after tampering: %+v", rep.Problems)
	}
}

// TestCaseFileAPINothingRecorded: a case without recordings lists empty and verifies 404.
func TestCaseFileAPINothingRecorded(t *testing.T) {
	rs := newRecorderServer(t)
	c, _ := rs.newCase(t, "off")
	var l caseFolderJSON
	rs.ls.call("mediator", "GET", fmt.Sprintf("/api/cases/%d/file", c.ID), "", 200, &l)
	if len(l.Files) != 0 || l.Folder != recording.CaseFolder(c.ID, c.Number) {
		t.Errorf("empty case file: %+v", l)
	}
	if st, b := rs.ls.do("mediator", "POST", fmt.Sprintf("/api/cases/%d/file/verify", c.ID), ""); st != 404 {
		t.Errorf("verify of nothing: %d %s", st, b)
	}
}

type rangeResp struct {
	status int
	header http.Header
	body   []byte
}

func rangeGet(t *testing.T, ls *liveServer, role, path, rg string) rangeResp {
	t.Helper()
	req, err := http.NewRequest("GET", ls.srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Range", rg)
	req.AddCookie(ls.cookies[role])
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return rangeResp{resp.StatusCode, resp.Header, b}
}
