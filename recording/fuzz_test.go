package recording

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// Fuzz targets of the reliability campaign (issue 12): whatever bytes a case file holds
// (a torn write, a disk error, someone editing it), the scanner and the verifier answer
// without panicking, and a changed manifest or event log never verifies. `make test`
// runs each for a few seconds on its corpus (testdata/fuzz), `make fuzz` for longer.

// FuzzEventChain: verifyChain answers any bytes; what it accepts, OpenEventLog continues.
func FuzzEventChain(f *testing.F) {
	f.Add(sampleEvents(f))
	f.Add([]byte("{}\n"))
	f.Add([]byte(`{"seq":1,"kind":"x","prev":"` + zeroHash + `"}` + "\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		n, last, err := verifyChain(data)
		if err != nil {
			return
		}
		if n < 0 || len(last) != len(zeroHash) {
			t.Fatalf("chain of %d ending %q", n, last)
		}
		path := filepath.Join(t.TempDir(), "events.jsonl")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		l, err := OpenEventLog(path)
		if err != nil {
			t.Fatalf("verifyChain accepts what OpenEventLog refuses: %v", err)
		}
		ev, err := l.Append(Event{Kind: "fuzz"})
		_ = l.Close()
		if err != nil || ev.Seq != n+1 || ev.Prev != last {
			t.Fatalf("append after %d: %+v %v", n, ev, err)
		}
	})
}

func sampleEvents(tb testing.TB) []byte {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "events.jsonl")
	l, err := OpenEventLog(path)
	if err != nil {
		tb.Fatal(err)
	}
	for _, ev := range []Event{
		{Kind: KindSessionOpened, Actor: "system", Detail: map[string]string{"case": "2026-0001"}},
		{Kind: KindParticipant, Subject: "guest-1", Detail: map[string]string{"name": "张三", "role": "party"}},
		{Kind: KindJoined, Subject: "guest-1"},
		{Kind: KindEnded, Detail: map[string]string{"reason": "host"}},
		{Kind: KindSealed},
	} {
		if _, err := l.Append(ev); err != nil {
			tb.Fatal(err)
		}
	}
	_ = l.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// sealedSample is a sealed session folder (no media) and its files' bytes.
type sealedSample struct {
	files map[string][]byte
	key   PublicKey
}

func newSealedSample(tb testing.TB) *sealedSample {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), "s1")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, eventsName), sampleEvents(tb), 0o600); err != nil {
		tb.Fatal(err)
	}
	key, err := LoadOrCreateKey(tb.TempDir())
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := sealDir(dir, key); err != nil {
		tb.Fatal(err)
	}
	s := &sealedSample{files: map[string][]byte{}, key: key.Public()}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			tb.Fatal(err)
		}
		s.files[e.Name()] = b
	}
	return s
}

// verifyWith writes the sample with name replaced by data and verifies it.
func (s *sealedSample) verifyWith(t *testing.T, name string, data []byte) Report {
	dir := filepath.Join(t.TempDir(), "s1")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	for n, b := range s.files {
		if n == name {
			b = data
		}
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := Verify(dir, &s.key)
	if err != nil {
		return Report{Problems: []string{err.Error()}}
	}
	return rep
}

// FuzzVerifyManifest: any manifest other than the signed one fails verification.
func FuzzVerifyManifest(f *testing.F) {
	s := newSealedSample(f)
	orig := s.files[manifestName]
	f.Add(orig)
	f.Add(bytes.Replace(orig, []byte(`"count": 5`), []byte(`"count": 4`), 1))
	f.Add([]byte(`{"format":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep := s.verifyWith(t, manifestName, data)
		if bytes.Equal(data, orig) != rep.OK() {
			t.Fatalf("manifest changed %v, verify ok %v: %v", !bytes.Equal(data, orig), rep.OK(), rep.Problems)
		}
	})
}

// FuzzVerifyEvents: any event log other than the sealed one fails verification.
func FuzzVerifyEvents(f *testing.F) {
	s := newSealedSample(f)
	orig := s.files[eventsName]
	f.Add(orig)
	f.Add(orig[:len(orig)-1])
	f.Add(append(append([]byte(nil), orig...), orig...))
	f.Fuzz(func(t *testing.T, data []byte) {
		rep := s.verifyWith(t, eventsName, data)
		if bytes.Equal(data, orig) != rep.OK() {
			t.Fatalf("events changed %v, verify ok %v: %v", !bytes.Equal(data, orig), rep.OK(), rep.Problems)
		}
	})
}
