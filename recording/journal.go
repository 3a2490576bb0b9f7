package recording

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"time"
)

// Each track file has a journal beside it ("<file>.journal", JSON lines) holding what the
// manifest needs and the file cannot tell: who and what the track is, when its first
// packet arrived, the sender-report mapping, the gaps. It is appended as things happen
// so that Recover can seal a session after a crash; at seal its content goes into the
// manifest and the journal is removed.
const journalSuffix = ".journal"

type journalEntry struct {
	K    string    `json:"k"` // start | sr | gap | failed | end
	Time time.Time `json:"time"`

	// start
	Meta         *TrackMeta `json:"meta,omitempty"`
	Codec        string     `json:"codec,omitempty"`
	FirstArrival time.Time  `json:"first_arrival,omitzero"` // server clock, at timestamp 0
	BaseRTP      uint32     `json:"base_rtp,omitempty"`
	ClockRate    uint32     `json:"clock_rate,omitempty"`
	Width        int        `json:"width,omitempty"`
	Height       int        `json:"height,omitempty"`

	// sr: the sender's wall clock (NTP) at file time SRTC ms
	SRNTP     time.Time `json:"sr_ntp,omitzero"`
	SRTC      int64     `json:"sr_tc,omitempty"`
	SRArrival time.Time `json:"sr_arrival,omitzero"`

	Gap *Gap `json:"gap,omitempty"`

	Error string `json:"error,omitempty"`

	// end
	Frames     int64 `json:"frames,omitempty"`
	Bytes      int64 `json:"bytes,omitempty"`
	DurationMs int64 `json:"duration_ms,omitempty"`
	Lost       int64 `json:"lost,omitempty"`
	Late       int64 `json:"late,omitempty"`
	Dropped    int64 `json:"dropped,omitempty"`
	Recovered  bool  `json:"recovered,omitempty"` // closed out after a crash or failure
	TornBytes  int64 `json:"torn_bytes,omitempty"`
}

func writeJournal(w io.Writer, e journalEntry) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}

// trackJournal is a journal read back.
type trackJournal struct {
	start  *journalEntry
	sr     *journalEntry
	gaps   []Gap
	failed string
	end    *journalEntry
}

func readJournal(path string) (*trackJournal, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	j := &trackJournal{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		var e journalEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil {
			continue // a torn last line after a crash
		}
		switch e.K {
		case "start":
			j.start = &e
		case "sr":
			j.sr = &e
		case "gap":
			if e.Gap != nil {
				j.gaps = append(j.gaps, *e.Gap)
			}
		case "failed":
			j.failed = e.Error
		case "end":
			j.end = &e
		}
	}
	return j, sc.Err()
}
