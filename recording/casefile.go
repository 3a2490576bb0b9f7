package recording

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// The case file on disk:
//
//	<data>/cases/<case>/custody.jsonl              who viewed, downloaded, exported (chained)
//	<data>/cases/<case>/<session>/                 one folder per session (or "<session>-partN")
//	    .recording                                 marker: open, not yet sealed
//	    events.jsonl                               the hash-chained event log
//	    video-<identity>-<track>.webm              one file per track
//	    audio-<identity>-<track>.webm
//	    *.webm.journal                             per-track notes until sealed
//	    sealed/...webm                             caucus media, restricted
//	    manifest.json, manifest.sig, manifest.sm2.sig   written at seal; then never rewritten

const (
	markerName   = ".recording"
	eventsName   = "events.jsonl"
	manifestName = "manifest.json"
	sigName      = "manifest.sig"
	sm2SigName   = "manifest.sm2.sig"
	sealedDir    = "sealed"
	custodyName  = "custody.jsonl"
)

var (
	ErrSealed           = errors.New("recording: session is sealed")
	ErrInProgress       = errors.New("recording: session folder is open (not sealed); run Recover first")
	ErrUnsupportedCodec = errors.New("recording: codec not recordable to WebM")
)

// SessionMeta describes a session; it is written into the first event and the manifest.
type SessionMeta struct {
	Case         string `json:"case"`    // case number; CheckName applies
	Session      string `json:"session"` // session id; CheckName applies
	Title        string `json:"title,omitempty"`
	Kind         string `json:"kind,omitempty"`          // "mediation", "reception"
	CaucusPolicy string `json:"caucus_policy,omitempty"` // "off" or "sealed"
	Centre       string `json:"centre,omitempty"`
}

// Participant is a person in the session as the manifest lists them.
type Participant struct {
	Identity  string `json:"identity"`
	Name      string `json:"name,omitempty"`
	Role      string `json:"role,omitempty"`       // mediator, party, lawyer, judge, clerk ...
	Side      string `json:"side,omitempty"`       // applicant, respondent
	Centre    string `json:"centre,omitempty"`     //
	JoinedVia string `json:"joined_via,omitempty"` // invitation link, staff login ...
}

// Consent is one answer to the recording notice.
type Consent struct {
	Identity string    `json:"identity"`
	Given    bool      `json:"given"`
	Scope    string    `json:"scope,omitempty"`  // "recording", "face" ...
	Notice   string    `json:"notice,omitempty"` // which notice text (version) was shown
	Actor    string    `json:"actor,omitempty"`  // who recorded the answer, if not the person
	Time     time.Time `json:"time"`
}

// TrackFailure is passed to the session's OnError callback.
type TrackFailure struct {
	Track TrackMeta
	File  string // relative to the session folder
	Err   error
}

// Session is one open session folder: its event log and its track writers.
type Session struct {
	dir    string
	folder string
	meta   SessionMeta
	log    *slog.Logger
	events *EventLog
	// create opens a new track file; tests replace it to fail writes (disk full).
	create func(path string) (trackFile, error)

	mu      sync.Mutex // guards writers, sealing, onError
	writers map[*TrackWriter]struct{}
	sealing bool
	onError func(TrackFailure)
}

// OpenSession creates <dataDir>/cases/<case>/<session>/ and its event log. If that folder
// is already sealed (the session was recorded, stopped by a crash and recovered, and goes
// on), it opens "<session>-part2", "-part3" ... instead: a sealed folder is never touched.
func OpenSession(dataDir string, meta SessionMeta, log *slog.Logger) (*Session, error) {
	if err := CheckName(meta.Case); err != nil {
		return nil, fmt.Errorf("case number: %w", err)
	}
	if err := CheckName(meta.Session); err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	if log == nil {
		log = slog.Default()
	}
	caseDir := filepath.Join(dataDir, "cases", meta.Case)
	if err := os.MkdirAll(caseDir, dirMode); err != nil {
		return nil, fmt.Errorf("create case folder: %w", err)
	}
	var dir, folder string
	for part := 1; ; part++ {
		if part > 100 {
			return nil, fmt.Errorf("%s: too many parts", filepath.Join(caseDir, meta.Session))
		}
		folder = meta.Session
		if part > 1 {
			folder = meta.Session + "-part" + strconv.Itoa(part)
		}
		if err := CheckName(folder); err != nil {
			return nil, fmt.Errorf("session: %w", err)
		}
		dir = filepath.Join(caseDir, folder)
		err := os.Mkdir(dir, dirMode)
		if err == nil {
			break
		}
		if !os.IsExist(err) {
			return nil, fmt.Errorf("create session folder: %w", err)
		}
		if exists(filepath.Join(dir, markerName)) {
			return nil, fmt.Errorf("%s: %w", dir, ErrInProgress)
		}
		// sealed (or not ours): never touched; try the next part
	}
	marker := fmt.Sprintf("pid %d opened %s\n", os.Getpid(), time.Now().UTC().Format(time.RFC3339Nano))
	if err := os.WriteFile(filepath.Join(dir, markerName), []byte(marker), fileMode); err != nil {
		return nil, fmt.Errorf("create marker: %w", err)
	}
	events, err := OpenEventLog(filepath.Join(dir, eventsName))
	if err != nil {
		return nil, err
	}
	syncDir(dir)
	syncDir(caseDir)
	s := &Session{dir: dir, folder: folder, meta: meta, log: log.With("case", meta.Case, "session", folder),
		events: events, writers: map[*TrackWriter]struct{}{}, create: createTrackFile}
	detail := nonEmpty(map[string]string{"case": meta.Case, "session": meta.Session, "folder": folder,
		"title": meta.Title, "kind": meta.Kind, "caucus_policy": meta.CaucusPolicy, "centre": meta.Centre})
	if _, err := events.Append(Event{Kind: KindSessionOpened, Actor: "system", Detail: detail}); err != nil {
		events.Close()
		return nil, err
	}
	return s, nil
}

func createTrackFile(path string) (trackFile, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, fileMode)
}

// Dir is the session folder's path.
func (s *Session) Dir() string { return s.dir }

// OnError sets the callback told at once when a track writer fails (disk full, write
// error). The failure is also logged as a recording_failed event, and what the file
// holds is kept. It runs on the writer's caller's goroutine with no lock held.
func (s *Session) OnError(fn func(TrackFailure)) {
	s.mu.Lock()
	s.onError = fn
	s.mu.Unlock()
}

// Log appends an event to the session's event log (Seq, Prev and a zero Time are
// filled in). After Seal it returns ErrSealed.
func (s *Session) Log(ev Event) error {
	_, err := s.events.Append(ev)
	if errors.Is(err, os.ErrClosed) {
		return ErrSealed
	}
	return err
}

// nonEmpty drops empty values so events carry only what was said.
func nonEmpty(m map[string]string) map[string]string {
	for k, v := range m {
		if v == "" {
			delete(m, k)
		}
	}
	return m
}

// AddParticipant logs who a participant is; the manifest lists participants from these.
func (s *Session) AddParticipant(p Participant) error {
	return s.Log(Event{Kind: KindParticipant, Actor: "system", Subject: p.Identity, Detail: nonEmpty(map[string]string{
		"name": p.Name, "role": p.Role, "side": p.Side, "centre": p.Centre, "joined_via": p.JoinedVia})})
}

// Consent logs an answer to the recording notice (consented or declined).
func (s *Session) Consent(c Consent) error {
	kind := KindDeclined
	if c.Given {
		kind = KindConsented
	}
	actor := c.Actor
	if actor == "" {
		actor = c.Identity
	}
	return s.Log(Event{Kind: kind, Time: c.Time, Actor: actor, Subject: c.Identity,
		Detail: nonEmpty(map[string]string{"scope": c.Scope, "notice": c.Notice})})
}

// NewTrackWriter starts recording one track into a new file of the session.
func (s *Session) NewTrackWriter(meta TrackMeta) (*TrackWriter, error) {
	if err := CheckName(meta.Identity); err != nil {
		return nil, fmt.Errorf("identity: %w", err)
	}
	if err := CheckName(meta.TrackSID); err != nil {
		return nil, fmt.Errorf("track: %w", err)
	}
	codec, ok := lookupCodec(meta.MimeType)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnsupportedCodec, meta.MimeType)
	}
	kind := "audio"
	if codec.video {
		kind = "video"
	}
	if meta.Kind != "" && meta.Kind != kind {
		return nil, fmt.Errorf("track kind %q does not match %s", meta.Kind, meta.MimeType)
	}
	meta.Kind = kind
	s.mu.Lock()
	sealing := s.sealing
	s.mu.Unlock()
	if sealing {
		return nil, ErrSealed
	}
	sub := ""
	if meta.Sealed {
		sub = sealedDir
		if err := os.MkdirAll(filepath.Join(s.dir, sub), dirMode); err != nil {
			return nil, fmt.Errorf("create sealed folder: %w", err)
		}
	}
	var (
		f        trackFile
		rel, abs string
		err      error
	)
	for n := 1; n <= 100; n++ {
		name := kind + "-" + meta.Identity + "-" + meta.TrackSID
		if n > 1 {
			name += "-" + strconv.Itoa(n) // the same track recorded again after a stop
		}
		rel = filepath.ToSlash(filepath.Join(sub, name+".webm"))
		abs = filepath.Join(s.dir, sub, name+".webm")
		if f, err = s.create(abs); err == nil || !os.IsExist(err) {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("create track file: %w", err)
	}
	t := newTrackWriter(meta, codec, rel, abs, f, s.log.With("identity", meta.Identity, "track", meta.TrackSID))
	t.onError = s.trackFailed
	t.onClose = s.trackClosed
	s.mu.Lock()
	if s.sealing { // Seal began while we created the file: it will not close this writer
		s.mu.Unlock()
		f.Close()
		os.Remove(abs)
		return nil, ErrSealed
	}
	s.writers[t] = struct{}{}
	s.mu.Unlock()
	err = s.Log(Event{Kind: KindTrackStarted, Actor: "system", Subject: meta.Identity, Detail: map[string]string{
		"file": rel, "track": meta.TrackSID, "kind": kind, "codec": codec.codecID, "sealed": strconv.FormatBool(meta.Sealed)}})
	return t, err
}

func (s *Session) trackFailed(meta TrackMeta, rel string, err error) {
	if lerr := s.Log(Event{Kind: KindRecordingFailed, Actor: "system", Subject: meta.Identity,
		Detail: map[string]string{"file": rel, "track": meta.TrackSID,
			"error": HidePaths(err, s.dir)}}); lerr != nil {
		s.log.Error("log recording failure", "err", lerr)
	}
	s.mu.Lock()
	fn := s.onError
	s.mu.Unlock()
	if fn != nil {
		fn(TrackFailure{Track: meta, File: rel, Err: err})
	}
}

func (s *Session) trackClosed(t *TrackWriter) {
	s.mu.Lock()
	delete(s.writers, t)
	s.mu.Unlock()
	st := t.Stats()
	s.Log(Event{Kind: KindTrackStopped, Actor: "system", Subject: t.meta.Identity, Detail: map[string]string{
		"file": t.rel, "track": t.meta.TrackSID, "frames": strconv.FormatInt(st.Frames, 10),
		"duration_ms": strconv.FormatInt(st.DurationMs, 10), "gaps": strconv.Itoa(st.Gaps),
		"lost_packets": strconv.FormatInt(st.LostPackets, 10)}})
}

// Seal closes every open track writer, logs the sealed event, and writes the manifest
// and its signatures. The folder is never written again.
func (s *Session) Seal(key *Signer) (*Manifest, error) {
	s.mu.Lock()
	if s.sealing {
		s.mu.Unlock()
		return nil, ErrSealed
	}
	s.sealing = true
	ws := make([]*TrackWriter, 0, len(s.writers))
	for t := range s.writers {
		ws = append(ws, t)
	}
	s.mu.Unlock()
	for _, t := range ws {
		if err := t.Close(); err != nil {
			s.log.Warn("close track at seal", "file", t.rel, "err", err)
		}
	}
	if err := closeOutTracks(s.dir, s.events, "failed while recording"); err != nil {
		return nil, err
	}
	if _, err := s.events.Append(Event{Kind: KindSealed, Actor: "system"}); err != nil {
		return nil, err
	}
	if err := s.events.Close(); err != nil {
		return nil, fmt.Errorf("close event log: %w", err)
	}
	return sealDir(s.dir, key)
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// syncDir fsyncs a directory so that a file's creation or rename survives a power cut.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}
