package recording

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestCaseFileModes: evidence is readable only by the server's user, whatever the
// umask: every folder under <data>/cases is 0700, every file 0600 while it is written
// and the manifest and signatures 0400 once sealed; so are a custody log and what
// Recover closes out. Recover also closes a cases/ folder left open by an older server.
func TestCaseFileModes(t *testing.T) {
	withTimeout(t, 60*time.Second)
	old := syscall.Umask(0) // the modes must not depend on the operator's umask
	t.Cleanup(func() { syscall.Umask(old) })
	data := t.TempDir()
	key, err := LoadOrCreateKey(t.TempDir())
	must(t, err)

	c := testClip(t)
	s := openTestSession(t, data)
	w, err := s.NewTrackWriter(TrackMeta{Participant: "张三", Identity: "alice", TrackSID: "TR_c", MimeType: "audio/opus", Sealed: true})
	must(t, err)
	feed(t, w, c.audioPackets()[:50])
	checkModes(t, data, "while recording")
	_, err = s.Seal(key)
	must(t, err)
	l, err := OpenCustodyLog(data, filepath.Base(filepath.Dir(s.Dir())))
	must(t, err)
	_, err = l.Append(Event{Kind: KindViewed, Actor: "med1"})
	must(t, err)
	l.Close()
	checkModes(t, data, "sealed")

	// a session killed mid-recording, closed out at the next start
	s2, err := OpenSession(data, SessionMeta{Case: "C2", Session: "S1"}, testLogger(t))
	must(t, err)
	w2, err := s2.NewTrackWriter(TrackMeta{Identity: "bob", TrackSID: "TR_a", MimeType: "audio/opus"})
	must(t, err)
	feed(t, w2, c.audioPackets()[:50])
	must(t, os.Chmod(filepath.Join(data, "cases"), 0o755)) // as an older server left it
	_, err = Recover(data, key, testLogger(t))
	must(t, err)
	checkModes(t, data, "recovered")
}

func checkModes(t *testing.T, data, when string) {
	t.Helper()
	n := 0
	must(t, filepath.WalkDir(filepath.Join(data, "cases"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		want := fs.FileMode(fileMode)
		switch {
		case d.IsDir():
			want = dirMode
		case strings.HasPrefix(d.Name(), "manifest."):
			want = sealedMode
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s: %s is %v, want %v", when, strings.TrimPrefix(p, data), fi.Mode().Perm(), want)
		}
		n++
		return nil
	}))
	t.Logf("%s: %d files and folders checked", when, n)
	if n < 5 {
		t.Errorf("%s: only %d files and folders", when, n)
	}
}
