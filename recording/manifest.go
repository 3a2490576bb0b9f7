package recording

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm3"

	"yizhan/recording/webm"
)

// ManifestFormat names the layout of manifest.json; Verify refuses others.
const ManifestFormat = "yizhan-casefile/1"

// Manifest is manifest.json: everything a reader needs to trust and line up the files.
// It is built at seal only from what is on disk (events.jsonl, the track files and their
// journals), so that a session sealed by Recover after a crash gets the same manifest as
// one sealed normally.
type Manifest struct {
	Format       string        `json:"format"`
	Case         string        `json:"case"`
	Session      string        `json:"session"`
	Folder       string        `json:"folder"` // the session folder's name ("<session>" or "<session>-partN")
	Title        string        `json:"title,omitempty"`
	Kind         string        `json:"kind,omitempty"`
	CaucusPolicy string        `json:"caucus_policy,omitempty"`
	Centre       string        `json:"centre,omitempty"`
	OpenedAt     time.Time     `json:"opened_at"` // time 0 of the session timeline
	SealedAt     time.Time     `json:"sealed_at"`
	Interrupted  bool          `json:"interrupted,omitempty"`
	Interruption string        `json:"interruption,omitempty"` // the reason logged
	Participants []Participant `json:"participants"`
	Consents     []Consent     `json:"consents"`
	Files        []FileEntry   `json:"files"`
	Events       EventsEntry   `json:"events"`
	Signing      SigningEntry  `json:"signing"`
	// FileLayout says why files are per track; for the human reader.
	FileLayout string `json:"file_layout"`
}

// FileEntry describes one file of the session folder.
type FileEntry struct {
	Path       string `json:"path"` // relative, '/'-separated
	Kind       string `json:"kind"` // "video", "audio", "other"
	Restricted bool   `json:"restricted,omitempty"`
	Size       int64  `json:"size"`
	SHA256     string `json:"sha256"`
	SM3        string `json:"sm3"`

	Identity    string `json:"identity,omitempty"`
	Participant string `json:"participant,omitempty"`
	TrackSID    string `json:"track,omitempty"`
	Codec       string `json:"codec,omitempty"`
	Width       int    `json:"width,omitempty"`
	Height      int    `json:"height,omitempty"`
	Frames      int64  `json:"frames,omitempty"`
	DurationMs  int64  `json:"duration_ms,omitempty"`
	// StartOffsetMs places the file's timestamp 0 on the session timeline (OpenedAt = 0).
	StartOffsetMs int64     `json:"start_offset_ms"`
	StartTime     time.Time `json:"start_time,omitzero"`
	// StartSource: "sender_report" (RTCP SR, lip-synced with the sender's other tracks)
	// or "arrival" (first packet's arrival at the server).
	StartSource  string    `json:"start_source,omitempty"`
	FirstArrival time.Time `json:"first_arrival,omitzero"`
	FirstRTP     uint32    `json:"first_rtp_timestamp,omitempty"`
	ClockRate    uint32    `json:"clock_rate,omitempty"`
	SenderReport *SRMap    `json:"sender_report,omitempty"`
	Gaps         []Gap     `json:"gaps,omitempty"`
	LostPackets  int64     `json:"lost_packets,omitempty"`   // never arrived, or dropped before us
	DroppedFrame int64     `json:"dropped_frames,omitempty"` // arrived but not decodable (waiting for a keyframe)
	Status       string    `json:"status,omitempty"`         // "complete", "recovered", "failed", "unreadable"
	Error        string    `json:"error,omitempty"`
}

// SRMap is the sender-report mapping: at file time AtMs the sender's clock read NTP.
type SRMap struct {
	NTP  time.Time `json:"ntp"`
	AtMs int64     `json:"at_ms"`
}

// EventsEntry pins the event log: its hashes, its length and its last line.
type EventsEntry struct {
	Path     string `json:"path"`
	Count    int64  `json:"count"`
	LastHash string `json:"last_hash"` // hex SHA-256 of the last line, as the chain defines it
	Size     int64  `json:"size"`
	SHA256   string `json:"sha256"`
	SM3      string `json:"sm3"`
}

// SigningEntry names the keys that signed manifest.sig and manifest.sm2.sig.
type SigningEntry struct {
	KeyID            string `json:"key_id"`
	Ed25519PublicKey string `json:"ed25519_public_key"` // base64 PKIX DER
	SM2PublicKey     string `json:"sm2_public_key,omitempty"`
	SM2ID            string `json:"sm2_id,omitempty"`
}

const fileLayoutNote = "one WebM file per track: tracks start, stop and fail independently, " +
	"nothing is held in memory to interleave them, and start_offset_ms puts each on the session timeline"

// sealDir writes the manifest and signatures of a session folder whose event log ends
// with the sealed event and whose track files are closed.
func sealDir(dir string, key *Signer) (*Manifest, error) {
	if exists(filepath.Join(dir, manifestName)) {
		return nil, ErrSealed
	}
	data, err := os.ReadFile(filepath.Join(dir, eventsName))
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	count, last, err := verifyChain(data)
	if err != nil {
		return nil, fmt.Errorf("event log: %w", err)
	}
	m := &Manifest{Format: ManifestFormat, Folder: filepath.Base(dir), FileLayout: fileLayoutNote,
		Participants: []Participant{}, Consents: []Consent{}, Files: []FileEntry{}}
	evs, err := ReadEvents(filepath.Join(dir, eventsName))
	if err != nil {
		return nil, err
	}
	m.fromEvents(evs)
	ev := EventsEntry{Path: eventsName, Count: count, LastHash: last}
	if ev.Size, ev.SHA256, ev.SM3, err = hashFile(filepath.Join(dir, eventsName)); err != nil {
		return nil, err
	}
	m.Events = ev

	if err := m.listFiles(dir); err != nil {
		return nil, err
	}
	alignTracks(m.Files, m.OpenedAt)

	pub := key.Public()
	m.Signing = SigningEntry{KeyID: pub.KeyID(), Ed25519PublicKey: pub.Ed25519Base64(), SM2PublicKey: pub.SM2Base64()}
	if pub.SM2 != nil {
		m.Signing.SM2ID = string(sm2UID)
	}
	body, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	body = append(body, '\n')
	edSig, smSig, err := key.sign(body)
	if err != nil {
		return nil, err
	}
	// Signatures first, manifest last: the manifest's presence is what "sealed" means.
	if err := writeFileAtomic(filepath.Join(dir, sigName), edSig, sealedMode, true); err != nil {
		return nil, fmt.Errorf("write signature: %w", err)
	}
	if smSig != nil {
		if err := writeFileAtomic(filepath.Join(dir, sm2SigName), smSig, sealedMode, true); err != nil {
			return nil, fmt.Errorf("write sm2 signature: %w", err)
		}
	}
	if err := writeFileAtomic(filepath.Join(dir, manifestName), body, sealedMode, true); err != nil {
		return nil, fmt.Errorf("write manifest: %w", err)
	}
	cleanupSealed(dir)
	return m, nil
}

// fromEvents fills the session's description, participants and consents from its log.
func (m *Manifest) fromEvents(evs []Event) {
	seen := map[string]int{}
	for _, e := range evs {
		d := e.Detail
		switch e.Kind {
		case KindSessionOpened:
			m.Case, m.Session, m.Title, m.Kind = d["case"], d["session"], d["title"], d["kind"]
			m.CaucusPolicy, m.Centre, m.OpenedAt = d["caucus_policy"], d["centre"], e.Time
		case KindParticipant:
			p := Participant{Identity: e.Subject, Name: d["name"], Role: d["role"], Side: d["side"],
				Centre: d["centre"], JoinedVia: d["joined_via"]}
			if i, ok := seen[p.Identity]; ok {
				m.Participants[i] = p // the latest description wins
			} else {
				seen[p.Identity] = len(m.Participants)
				m.Participants = append(m.Participants, p)
			}
		case KindConsented, KindDeclined:
			m.Consents = append(m.Consents, Consent{Identity: e.Subject, Given: e.Kind == KindConsented,
				Scope: d["scope"], Notice: d["notice"], Actor: e.Actor, Time: e.Time})
		case KindInterrupted:
			m.Interrupted, m.Interruption = true, d["reason"]
		case KindSealed:
			m.SealedAt = e.Time
		}
	}
}

// listFiles hashes every file in the folder (and sealed/) except the housekeeping ones.
func (m *Manifest) listFiles(dir string) error {
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "." || rel == sealedDir {
				return nil
			}
			return fmt.Errorf("unexpected folder %s in session folder", rel)
		}
		if housekeeping(rel) || rel == eventsName {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file", rel)
		}
		fe := FileEntry{Path: rel, Kind: "other", Restricted: strings.HasPrefix(rel, sealedDir+"/")}
		if fe.Size, fe.SHA256, fe.SM3, err = hashFile(path); err != nil {
			return err
		}
		if strings.HasSuffix(rel, ".webm") {
			describeTrack(&fe, path)
		}
		m.Files = append(m.Files, fe)
		return nil
	})
	sort.Slice(m.Files, func(i, j int) bool { return m.Files[i].Path < m.Files[j].Path })
	return err
}

// housekeeping files are not part of the case file: removed at seal, ignored by Verify
// only while a session is open.
func housekeeping(rel string) bool {
	base := rel[strings.LastIndexByte(rel, '/')+1:]
	return rel == markerName || strings.HasSuffix(rel, journalSuffix) || strings.HasPrefix(base, ".") && strings.HasSuffix(base, ".tmp")
}

// describeTrack fills a track file's entry from its journal and the file itself.
func describeTrack(fe *FileEntry, path string) {
	fe.Status = "complete"
	if f, err := os.Open(path); err == nil {
		if sc, err := webm.Scan(f, fe.Size); err == nil {
			fe.Kind = "audio"
			if sc.Video {
				fe.Kind, fe.Width, fe.Height = "video", sc.Width, sc.Height
			}
			fe.Frames = sc.Frames
			fe.DurationMs = sc.DurationMs()
		} else {
			fe.Status, fe.Error = "unreadable", err.Error()
		}
		f.Close()
	}
	j, err := readJournal(path + journalSuffix)
	if err != nil {
		return
	}
	if s := j.start; s != nil {
		if s.Meta != nil {
			fe.Identity, fe.Participant, fe.TrackSID = s.Meta.Identity, s.Meta.Participant, s.Meta.TrackSID
		}
		fe.Codec, fe.FirstArrival, fe.FirstRTP, fe.ClockRate = s.Codec, s.FirstArrival, s.BaseRTP, s.ClockRate
	}
	if j.sr != nil {
		fe.SenderReport = &SRMap{NTP: j.sr.SRNTP, AtMs: j.sr.SRTC}
	}
	fe.Gaps = j.gaps
	if j.end != nil {
		fe.LostPackets, fe.DroppedFrame = j.end.Lost, j.end.Dropped
	}
	switch {
	case j.failed != "":
		fe.Status, fe.Error = "failed", j.failed
	case j.end == nil:
		fe.Status = "incomplete" // could not be closed out; still playable up to its last whole block
	case j.end.Recovered:
		fe.Status = "recovered"
	}
}

// alignTracks sets each track's start on the session timeline. With a sender report the
// track's start is known on its sender's clock; the sender's clock offset to ours is
// estimated per participant as the smallest (arrival - sender time) over its tracks (the
// least-delayed packet), which keeps that participant's audio and video in lip sync.
// Without one, the first packet's arrival is used.
func alignTracks(files []FileEntry, opened time.Time) {
	skew := map[string]time.Duration{}
	senderStart := func(f *FileEntry) time.Time {
		return f.SenderReport.NTP.Add(-time.Duration(f.SenderReport.AtMs) * time.Millisecond)
	}
	for i := range files {
		f := &files[i]
		if f.SenderReport == nil || f.FirstArrival.IsZero() {
			continue
		}
		d := f.FirstArrival.Sub(senderStart(f))
		if cur, ok := skew[f.Identity]; !ok || d < cur {
			skew[f.Identity] = d
		}
	}
	for i := range files {
		f := &files[i]
		if f.Kind != "video" && f.Kind != "audio" || f.FirstArrival.IsZero() {
			continue
		}
		f.StartTime, f.StartSource = f.FirstArrival, "arrival"
		if f.SenderReport != nil {
			f.StartTime, f.StartSource = senderStart(f).Add(skew[f.Identity]), "sender_report"
		}
		f.StartOffsetMs = f.StartTime.Sub(opened).Milliseconds()
	}
}

// hashFile returns a file's size, SHA-256 and SM3 (GB/T 32905) in one pass.
func hashFile(path string) (int64, string, string, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, "", "", err
	}
	defer f.Close()
	h1, h2 := sha256.New(), sm3.New()
	n, err := io.Copy(io.MultiWriter(h1, h2), f)
	if err != nil {
		return 0, "", "", fmt.Errorf("hash %s: %w", path, err)
	}
	return n, hex.EncodeToString(h1.Sum(nil)), hex.EncodeToString(h2.Sum(nil)), nil
}
