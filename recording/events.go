package recording

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"
)

// Event is one line of a hash-chained event log (events.jsonl, custody.jsonl).
// Prev is the hex SHA-256 of the previous line's bytes (without its newline); the first
// line's Prev is 64 zeros. Editing a line breaks the next line's Prev, removing or
// reordering lines breaks Prev or Seq, and removing the last lines breaks the hash the
// manifest records for the last line.
type Event struct {
	Seq     int64             `json:"seq"`
	Time    time.Time         `json:"time"`
	Kind    string            `json:"kind"`
	Actor   string            `json:"actor,omitempty"`   // who did it: a staff identity, "system"
	Subject string            `json:"subject,omitempty"` // whom or what it is about: an identity, a file
	Detail  map[string]string `json:"detail,omitempty"`
	Prev    string            `json:"prev"`
}

// Event kinds. The mediation layer may log others; these are the ones this package
// writes or reads back (participant and consent kinds build the manifest).
const (
	KindSessionOpened    = "session_opened"    // first line; Detail: the SessionMeta
	KindParticipant      = "participant"       // Subject identity; Detail: name, role, side, centre, joined_via
	KindConsented        = "consented"         // Subject identity; Detail: scope, notice
	KindDeclined         = "declined"          // Subject identity; Detail: scope, notice
	KindJoined           = "joined"            //
	KindAdmitted         = "admitted"          //
	KindMoved            = "moved"             // Detail: space
	KindLeft             = "left"              //
	KindMuted            = "muted"             //
	KindRecordingStarted = "recording_started" // Detail: reason
	KindRecordingStopped = "recording_stopped" // Detail: reason
	KindRecordingPaused  = "recording_paused"  // Detail: reason
	KindRecordingFailed  = "recording_failed"  // Subject identity; Detail: file, error
	KindTrackStarted     = "track_started"     // Subject identity; Detail: file, track, kind
	KindTrackStopped     = "track_stopped"     //
	KindInterrupted      = "interrupted"       // Detail: reason, found_at, last_write
	KindEnded            = "ended"             // Detail: reason
	KindSealed           = "sealed"            // last line of a sealed session
	KindViewed           = "viewed"            // custody log: Actor viewed Subject (a file)
	KindDownloaded       = "downloaded"        // custody log
	KindExported         = "exported"          // custody log
)

// zeroHash is the Prev of a log's first line.
var zeroHash = strings.Repeat("0", 64)

// EventLog appends events to a JSON-lines file, each line fsynced before Append returns.
type EventLog struct {
	path string
	mu   sync.Mutex // guards f, seq, last; held across append+fsync so the chain stays in order
	f    *os.File
	seq  int64
	last string // hex SHA-256 of the last line
	size int64  // bytes of whole lines: where the next line starts
	torn int    // bytes of a torn last line cut off at open (a crash mid-append)
}

// OpenEventLog opens or creates the log at path and continues its chain. A torn last
// line (no newline: the process died while writing it) is cut off; Torn reports it.
// A log whose chain does not verify is refused.
func OpenEventLog(path string) (*EventLog, error) {
	data, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return nil, fmt.Errorf("read event log: %w", err)
	}
	l := &EventLog{path: path, last: zeroHash}
	if i := bytes.LastIndexByte(data, '\n'); i+1 < len(data) {
		l.torn = len(data) - (i + 1)
		data = data[:i+1]
		if err := os.Truncate(path, int64(len(data))); err != nil {
			return nil, fmt.Errorf("cut torn event line: %w", err)
		}
	}
	n, last, err := verifyChain(data)
	if err != nil {
		return nil, fmt.Errorf("event log %s: %w", path, err)
	}
	l.seq, l.last, l.size = n, last, int64(len(data))
	l.f, err = os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, fileMode)
	if err != nil {
		return nil, fmt.Errorf("open event log: %w", err)
	}
	return l, nil
}

// Append fills in Seq, Prev and (if zero) Time, writes the line and fsyncs it.
func (l *EventLog) Append(ev Event) (Event, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return ev, os.ErrClosed
	}
	ev.Seq = l.seq + 1
	ev.Prev = l.last
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	ev.Time = ev.Time.UTC()
	if ev.Kind == "" {
		return ev, fmt.Errorf("event without kind")
	}
	line, err := json.Marshal(ev)
	if err != nil {
		return ev, fmt.Errorf("encode event: %w", err)
	}
	// A failed write (a full disk) may leave part of the line; it is cut off again, so
	// that the log stays whole lines and the next append, once there is room, continues
	// the chain (issue 12: a torn line in the middle made the session unsealable).
	if _, err := l.f.Write(append(line, '\n')); err != nil {
		_ = l.f.Truncate(l.size)
		return ev, fmt.Errorf("append event: %w", err)
	}
	if err := l.f.Sync(); err != nil {
		_ = l.f.Truncate(l.size)
		return ev, fmt.Errorf("sync event log: %w", err)
	}
	l.seq = ev.Seq
	l.last = lineHash(line)
	l.size += int64(len(line)) + 1
	return ev, nil
}

// Last returns the number of events and the hash of the last line.
func (l *EventLog) Last() (count int64, hash string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.seq, l.last
}

// Torn is the number of bytes of a torn last line cut off when the log was opened.
func (l *EventLog) Torn() int { return l.torn }

// Close closes the file. Idempotent.
func (l *EventLog) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.f == nil {
		return nil
	}
	err := l.f.Close()
	l.f = nil
	return err
}

func lineHash(line []byte) string {
	h := sha256.Sum256(line)
	return hex.EncodeToString(h[:])
}

// verifyChain checks every line of a log: valid JSON, Seq counting from 1, Prev the hash
// of the line before. It returns the count and the last line's hash, or an error naming
// the first bad line.
func verifyChain(data []byte) (int64, string, error) {
	last := zeroHash
	var n int64
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return n, last, fmt.Errorf("line %d: no newline at end (torn or appended)", n+1)
		}
		line := data[:i]
		data = data[i+1:]
		var ev Event
		if err := json.Unmarshal(line, &ev); err != nil {
			return n, last, fmt.Errorf("line %d: not a JSON event: %v", n+1, err)
		}
		if ev.Seq != n+1 {
			return n, last, fmt.Errorf("line %d: seq %d, want %d (a line removed or reordered)", n+1, ev.Seq, n+1)
		}
		if ev.Prev != last {
			return n, last, fmt.Errorf("line %d (seq %d, %s): prev hash does not match the line before (a line edited, removed or reordered)", n+1, ev.Seq, ev.Kind)
		}
		last = lineHash(line)
		n++
	}
	return n, last, nil
}

// ReadEvents parses a log without checking its chain (use Verify for that).
func ReadEvents(path string) ([]Event, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var evs []Event
	for _, line := range bytes.Split(data, []byte{'\n'}) {
		if len(line) == 0 {
			continue
		}
		var ev Event
		if err := json.Unmarshal(line, &ev); err != nil {
			return evs, fmt.Errorf("event %d: %w", len(evs)+1, err)
		}
		evs = append(evs, ev)
	}
	return evs, nil
}
