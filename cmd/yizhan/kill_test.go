package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"yizhan/internal/lktest"
	"yizhan/recording"
)

// TestKillRecording: the built server records a mediation (mediator and one party, real
// VP8 and Opus) through the API, is killed with SIGKILL, and started again on the same
// data folder. The files left by the kill play up to about a second before it; at the
// restart the session is sealed and marked interrupted, `yizhan verify` passes, and
// `yizhan verify` fails on each kind of tampering, naming it.
func TestKillRecording(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	bin := buildBinary(t)
	data := t.TempDir()
	cl := lktest.MustClip(t)

	srv := recStart(t, bin, data)
	api := newRecAPI(t, srv.base)
	api.login("east-mediator", srv.passwords["east-mediator"])
	inv := srv.invitation(t, "party", "applicant")
	sess := inv.session

	var med, party struct {
		URL, Token, Identity string
	}
	api.call("POST", fmt.Sprintf("/api/sessions/%d/join", sess), ``, 200, &med)
	api.call("POST", "/api/join/"+inv.code, `{"consent":true}`, 200, &party)
	mc := recConnect(t, med.URL, med.Token)
	pc := recConnect(t, party.URL, party.Token)
	mc.MustPublishClip(t, cl)
	pc.MustPublishClip(t, cl)
	recWait(t, "the party knocks", func() bool {
		var live struct {
			Lobby []struct{ Identity string } `json:"lobby"`
		}
		api.call("GET", fmt.Sprintf("/api/sessions/%d/live", sess), "", 200, &live)
		return len(live.Lobby) == 1
	})
	api.call("POST", fmt.Sprintf("/api/sessions/%d/admit", sess), `{"identity":"`+party.Identity+`"}`, 200, nil)
	recWait(t, "recording runs", func() bool {
		var live struct {
			Recording struct{ Active, Healthy bool } `json:"recording"`
		}
		api.call("GET", fmt.Sprintf("/api/sessions/%d/live", sess), "", 200, &live)
		return live.Recording.Active && live.Recording.Healthy
	})
	recWait(t, "media flows both ways", func() bool {
		return mc.PacketsFrom(party.Identity, "video") > 30 && pc.PacketsFrom(med.Identity, "audio") > 30
	})
	sessDir := srv.sessionDir(t, sess)
	recWait(t, "four track files", func() bool { return len(recWebmFiles(sessDir)) == 4 })
	time.Sleep(5 * time.Second)

	if err := srv.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	_ = srv.cmd.Wait()

	// What the kill left, before any recovery: every file plays up to about a second
	// before the kill.
	raw := t.TempDir()
	for _, f := range recWebmFiles(sessDir) {
		recCopyFile(t, f, filepath.Join(raw, filepath.Base(f)))
	}
	startTimes := recStartTimes(t, sessDir)
	for _, f := range recWebmFiles(raw) {
		codec, dur := recProbe(t, f)
		start, ok := startTimes[filepath.Base(f)]
		if !ok {
			t.Fatalf("no start time for %s", f)
		}
		want := killedAt.Sub(start).Seconds()
		t.Logf("after kill: %s %s %.2fs, recorded %.2fs before the kill", filepath.Base(f), codec, dur, want)
		if dur < want-1.5 || dur > want+0.5 {
			t.Errorf("%s plays %.2fs, want about %.2fs (the kill)", filepath.Base(f), dur, want)
		}
	}

	// The restart seals it, marked interrupted.
	mc.Close()
	pc.Close()
	srv2 := recStart(t, bin, data)
	m := recManifest(t, sessDir)
	if !m.Interrupted || !strings.Contains(m.Interruption, "kill") {
		t.Errorf("manifest interrupted=%v %q", m.Interrupted, m.Interruption)
	}
	evs, err := recording.ReadEvents(filepath.Join(sessDir, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, e := range evs {
		kinds[e.Kind]++
		if e.Kind == recording.KindInterrupted && e.Detail["reason"] != recording.InterruptedReason {
			t.Errorf("interrupted reason %q", e.Detail["reason"])
		}
	}
	for _, k := range []string{recording.KindSessionOpened, recording.KindRecordingStarted, recording.KindTrackStarted, recording.KindInterrupted, recording.KindSealed} {
		if kinds[k] == 0 {
			t.Errorf("events.jsonl has no %q: %v", k, kinds)
		}
	}
	if len(m.Files) < 4 {
		t.Fatalf("manifest files %+v", m.Files)
	}
	for _, fe := range m.Files {
		if fe.Kind != "video" && fe.Kind != "audio" {
			continue
		}
		f := filepath.Join(sessDir, filepath.FromSlash(fe.Path))
		codec, dur := recProbe(t, f)
		if msg := lktest.DecodeErrors(f); msg != "" {
			t.Errorf("%s does not decode cleanly after recovery: %s", fe.Path, msg)
		}
		want := killedAt.Sub(fe.StartTime).Seconds()
		t.Logf("sealed: %s %s %.2fs (manifest %d ms, status %s), kill at %.2fs", fe.Path, codec, dur, fe.DurationMs, fe.Status, want)
		if wantCodec := map[string]string{"video": "vp8", "audio": "opus"}[fe.Kind]; codec != wantCodec {
			t.Errorf("%s codec %s, want %s", fe.Path, codec, wantCodec)
		}
		if dur < want-1.5 || dur > want+0.5 {
			t.Errorf("%s plays %.2fs, want about %.2fs", fe.Path, dur, want)
		}
	}
	api2 := newRecAPI(t, srv2.base)
	api2.login("east-mediator", srv2.passwords["east-mediator"])
	var cf struct {
		Sealed bool `json:"sealed"`
	}
	api2.call("GET", fmt.Sprintf("/api/sessions/%d/casefile", sess), "", 200, &cf)
	if !cf.Sealed {
		t.Error("the API does not show the case file sealed")
	}
	var pem bytes.Buffer
	api2.get("/api/signing-key", &pem)

	// yizhan verify: the sealed folder passes (pinned to the server's key, and to the
	// key the API serves), and each kind of tampering fails with its name.
	out, err := recRun(bin, "verify", sessDir, "--data", data)
	if err != nil || !strings.Contains(out, "OK") {
		t.Fatalf("verify of the recovered folder: %v\n%s", err, out)
	}
	caseFolder := filepath.Base(filepath.Dir(sessDir)) // case<id>_<number>
	for _, name := range []string{caseFolder, caseFolder[strings.Index(caseFolder, "_")+1:], strings.TrimPrefix(caseFolder[:strings.Index(caseFolder, "_")], "case")} {
		if out, err := recRun(bin, "verify", name, "--data", data); err != nil || !strings.Contains(out, "OK") {
			t.Errorf("verify %s (the case by name): %v\n%s", name, err, out)
		}
	}
	keyFile := filepath.Join(t.TempDir(), "server.pem")
	if err := os.WriteFile(keyFile, pem.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := recRun(bin, "verify", filepath.Dir(sessDir), "--key", keyFile); err != nil {
		t.Fatalf("verify of the case folder with the served key: %v\n%s", err, out)
	}
	if out, err := exec.Command(bin, "signing-key", "--data", data).Output(); err != nil || !bytes.Equal(out, pem.Bytes()) {
		t.Errorf("yizhan signing-key differs from /api/signing-key: %v\n%s\n%s", err, out, pem.Bytes())
	}

	// yizhan export: a composite MP4 by case number and session id, with a progress bar;
	// without ffmpeg, a message that says so.
	mp4 := filepath.Join(t.TempDir(), "session.mp4")
	ex := exec.Command(bin, "export", m.Case[strings.LastIndex(m.Case, "_")+1:], strconv.FormatInt(sess, 10), "--out", mp4, "--data", data)
	var exErr bytes.Buffer
	ex.Stderr = &exErr
	if err := ex.Run(); err != nil {
		t.Fatalf("export: %v\n%s", err, exErr.String())
	}
	if !strings.Contains(exErr.String(), "100%") {
		t.Errorf("export drew no progress bar: %q", exErr.String())
	}
	vcodec, vdur := lktest.Probe(t, mp4, "v:0")
	acodec, _ := lktest.Probe(t, mp4, "a:0")
	t.Logf("export: %s + %s, %.2fs", vcodec, acodec, vdur)
	if vcodec != "h264" || acodec != "aac" || vdur < 4 {
		t.Errorf("export: %s %s %.2fs", vcodec, acodec, vdur)
	}
	noFF := exec.Command(bin, "export", filepath.Base(filepath.Dir(sessDir)), "--out", mp4+"2", "--data", data)
	noFF.Env = append(os.Environ(), "PATH="+t.TempDir())
	if out, err := noFF.CombinedOutput(); err == nil || !strings.Contains(string(out), "ffmpeg is not installed") {
		t.Errorf("export without ffmpeg: %v %s", err, out)
	}
	custody, err := recording.ReadEvents(filepath.Join(filepath.Dir(sessDir), "custody.jsonl"))
	if err != nil || len(custody) == 0 || custody[len(custody)-1].Kind != recording.KindExported {
		t.Errorf("the export is not in the custody log: %v %+v", err, custody)
	}

	video := ""
	for _, fe := range m.Files {
		if fe.Kind == "video" {
			video = fe.Path
		}
	}
	for _, tc := range []struct {
		name   string
		tamper func(dir string)
		want   string // in the first problem named
	}{
		{"one byte of a track file", func(dir string) { recFlip(t, filepath.Join(dir, video), 5000) }, video},
		{"one event line removed", func(dir string) { recDropLine(t, filepath.Join(dir, "events.jsonl"), 3) }, "events.jsonl"},
		{"manifest edited", func(dir string) {
			recEdit(t, filepath.Join(dir, "manifest.json"), `"interrupted": true`, `"interrupted": false`)
		}, "manifest"},
		{"signature replaced", func(dir string) {
			sig := filepath.Join(dir, "manifest.sig")
			b, _ := os.ReadFile(sig)
			for i := range b {
				b[i] ^= 0x5a
			}
			if err := os.WriteFile(sig, b, 0o600); err != nil {
				t.Fatal(err)
			}
		}, "signature"},
	} {
		dir := filepath.Join(t.TempDir(), filepath.Base(sessDir))
		recCopyDir(t, sessDir, dir)
		tc.tamper(dir)
		out, err := recRun(bin, "verify", dir, "--data", data)
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() == 0 {
			t.Errorf("%s: verify did not fail: %v\n%s", tc.name, err, out)
			continue
		}
		last := recLastLine(out)
		t.Logf("%s: %s", tc.name, last)
		if !strings.Contains(strings.ToLower(last), strings.ToLower(tc.want)) {
			t.Errorf("%s: verify's error %q does not name %q", tc.name, last, tc.want)
		}
	}
}

// recRun runs the binary and returns its stdout and stderr together.
func recRun(bin string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, args...).CombinedOutput()
	return string(out), err
}

func recLastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// recServer is one run of `yizhan serve --dev` on a given data folder.
type recServer struct {
	cmd       *exec.Cmd
	base      string
	passwords map[string]string // demo staff
	invites   []recInvite
	stderr    *recBuffer // what it logged
}

type recInvite struct {
	code, role, side string
	session          int64
}

var (
	recReListening = regexp.MustCompile(`listening on (http://\S+)`)
	recReStaff     = regexp.MustCompile(`^\s+([a-z-]+)\s+(\S+)\s+\S+\s+\S+`)
	recReInvite    = regexp.MustCompile(`/j/(\S+)\s+\S+ \((\S+) (\S*)\) -> mediation #(\d+)`)
)

// recStart runs the server on data and reads what it prints: its address, the
// demo staff passwords, the demo invitations.
func recStart(t *testing.T, bin, data string) *recServer {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--dev", "--http", "127.0.0.1:0", "--udp-port", "0", "--tcp-port", "0", "--data", data)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr recBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	p := &recServer{cmd: cmd, passwords: map[string]string{}, stderr: &stderr}
	ready := make(chan struct{})
	go func() { // ends when the process exits
		sc := bufio.NewScanner(stdout)
		started := false
		for sc.Scan() {
			line := sc.Text()
			if m := recReListening.FindStringSubmatch(line); m != nil {
				p.base, started = m[1], true
			} else if m := recReInvite.FindStringSubmatch(line); m != nil {
				id, _ := strconv.ParseInt(m[4], 10, 64)
				p.invites = append(p.invites, recInvite{code: m[1], role: m[2], side: m[3], session: id})
			} else if m := recReStaff.FindStringSubmatch(line); m != nil && started {
				p.passwords[m[1]] = m[2]
			}
			if strings.Contains(line, "staff console") {
				close(ready)
			}
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not start; stderr:\n%s", stderr.String())
	}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server stderr:\n%s", stderr.String())
		}
	})
	return p
}

func (p *recServer) invitation(t *testing.T, role, side string) recInvite {
	for _, inv := range p.invites {
		if inv.role == role && inv.side == side {
			return inv
		}
	}
	t.Fatalf("no demo invitation for a %s %s in %+v", role, side, p.invites)
	return recInvite{}
}

// sessionDir finds the session's folder under <data>/cases/<case>/s<id>.
func (p *recServer) sessionDir(t *testing.T, sess int64) string {
	t.Helper()
	data := p.cmd.Args[len(p.cmd.Args)-1]
	var dir string
	recWait(t, "the session folder", func() bool {
		m, _ := filepath.Glob(filepath.Join(data, "cases", "*", "s"+strconv.FormatInt(sess, 10)))
		if len(m) == 1 {
			dir = m[0]
		}
		return dir != ""
	})
	return dir
}

type recBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *recBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *recBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// recAPI talks to /api with a cookie jar, as a browser would.
type recAPI struct {
	t    *testing.T
	base string
	c    *http.Client
}

func newRecAPI(t *testing.T, base string) *recAPI {
	jar, _ := cookiejar.New(nil)
	return &recAPI{t: t, base: base, c: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
}

func (a *recAPI) login(user, pw string) {
	a.t.Helper()
	a.call("POST", "/api/login", fmt.Sprintf(`{"username":%q,"password":%q}`, user, pw), 200, nil)
}

func (a *recAPI) call(method, path, body string, want int, out any) {
	a.t.Helper()
	req, err := http.NewRequest(method, a.base+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := a.c.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != want {
		a.t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			a.t.Fatalf("%s %s: %v in %s", method, path, err, b)
		}
	}
}

func (a *recAPI) get(path string, w io.Writer) {
	a.t.Helper()
	resp, err := a.c.Get(a.base + path)
	if err != nil {
		a.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		a.t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
	_, _ = io.Copy(w, resp.Body)
}

func recConnect(t *testing.T, url, token string) *lktest.Client {
	t.Helper()
	c, err := lktest.Connect(url, token)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func recWait(t *testing.T, what string, cond func() bool) {
	t.Helper()
	if !lktest.Eventually(20*time.Second, cond) {
		t.Fatalf("timed out waiting for: %s", what)
	}
}

// recProbe returns a file's codec and how long it plays: the end of its last packet, which
// ffprobe finds also in a file cut by a kill (no Duration element yet).
func recProbe(t *testing.T, f string) (string, float64) {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_name:packet=pts_time,duration_time", "-of", "json", f).Output()
	if err != nil {
		t.Fatalf("ffprobe %s: %v", f, err)
	}
	var r struct {
		Streams []struct {
			Codec string `json:"codec_name"`
		} `json:"streams"`
		Packets []struct {
			PTS string `json:"pts_time"`
			Dur string `json:"duration_time"`
		} `json:"packets"`
	}
	if err := json.Unmarshal(out, &r); err != nil || len(r.Streams) != 1 || len(r.Packets) == 0 {
		t.Fatalf("ffprobe %s: %v %s", f, err, out)
	}
	var end float64
	for _, p := range r.Packets {
		pts, _ := strconv.ParseFloat(p.PTS, 64)
		d, _ := strconv.ParseFloat(p.Dur, 64)
		end = max(end, pts+d)
	}
	return r.Streams[0].Codec, end
}

func recWebmFiles(dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, "*.webm"))
	s, _ := filepath.Glob(filepath.Join(dir, "sealed", "*.webm"))
	return append(m, s...)
}

// recStartTimes reads, for each track file of an open session folder, the wall-clock
// time of its timestamp 0 from the WebM header's DateUTC, via ffprobe's creation_time.
func recStartTimes(t *testing.T, dir string) map[string]time.Time {
	t.Helper()
	out := map[string]time.Time{}
	for _, f := range recWebmFiles(dir) {
		b, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format_tags=creation_time", "-of", "default=nw=1:nk=1", f).Output()
		if err != nil {
			t.Fatalf("ffprobe %s: %v", f, err)
		}
		ts, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(string(b)))
		if err != nil {
			t.Fatalf("%s creation_time %q: %v", f, b, err)
		}
		out[filepath.Base(f)] = ts
	}
	return out
}

func recManifest(t *testing.T, dir string) recording.Manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatalf("not sealed: %v", err)
	}
	var m recording.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func recCopyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(to), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func recCopyDir(t *testing.T, from, to string) {
	t.Helper()
	err := filepath.WalkDir(from, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(from, p)
		recCopyFile(t, p, filepath.Join(to, rel))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func recFlip(t *testing.T, f string, at int64) {
	t.Helper()
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	b[min(at, int64(len(b)-1))] ^= 0x01
	if err := os.WriteFile(f, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func recDropLine(t *testing.T, f string, n int) {
	t.Helper()
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(b), "\n")
	lines = append(lines[:n], lines[n+1:]...)
	if err := os.WriteFile(f, []byte(strings.Join(lines, "")), 0o600); err != nil {
		t.Fatal(err)
	}
}

func recEdit(t *testing.T, f, from, to string) {
	t.Helper()
	b, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(b, []byte(from)) {
		t.Fatalf("%s has no %q", f, from)
	}
	if err := os.WriteFile(f, bytes.Replace(b, []byte(from), []byte(to), 1), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestKillTermSeals: SIGTERM (a clean stop) while recording seals the case file at once,
// not interrupted, its end event giving the reason "the server shut down".
func TestKillTermSeals(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	for _, tool := range []string{"ffmpeg", "ffprobe"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed", tool)
		}
	}
	bin := buildBinary(t)
	data := t.TempDir()
	srv := recStart(t, bin, data)
	api := newRecAPI(t, srv.base)
	api.login("east-mediator", srv.passwords["east-mediator"])
	sess := srv.invitation(t, "party", "applicant").session
	var med struct{ URL, Token, Identity string }
	api.call("POST", fmt.Sprintf("/api/sessions/%d/join", sess), ``, 200, &med)
	mc := recConnect(t, med.URL, med.Token)
	mc.MustPublishClip(t, lktest.MustClip(t))
	sessDir := srv.sessionDir(t, sess)
	recWait(t, "two track files", func() bool { return len(recWebmFiles(sessDir)) == 2 })
	time.Sleep(2 * time.Second)
	if err := srv.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := srv.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	m := recManifest(t, sessDir)
	if m.Interrupted {
		t.Errorf("a clean stop marked interrupted: %q", m.Interruption)
	}
	evs, err := recording.ReadEvents(filepath.Join(sessDir, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	reasons := map[string]string{}
	for _, e := range evs {
		reasons[e.Kind] = e.Detail["reason"]
	}
	// serve seals recordings before it closes the rooms: the stop and the end both
	// name the shutdown.
	if reasons[recording.KindRecordingStopped] != "the server shut down" {
		t.Errorf("stop reason %q, want the server shut down", reasons[recording.KindRecordingStopped])
	}
	if reasons[recording.KindEnded] != "the server shut down" {
		t.Errorf("ended reason %q, want the server shut down", reasons[recording.KindEnded])
	}
	if out, err := recRun(bin, "verify", sessDir, "--data", data); err != nil {
		t.Errorf("verify: %v\n%s", err, out)
	}
}
