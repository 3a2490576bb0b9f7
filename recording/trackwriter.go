package recording

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"

	"yizhan/recording/framer"
	"yizhan/recording/webm"
)

// One file per track, not per participant: a participant's camera and microphone start,
// stop, mute and get republished independently; a per-track file needs no interleaving
// buffer (which would hold seconds of media in memory, lost on kill -9); a failing or
// odd track cannot spoil the other; and the manifest's start offsets put every file on
// one timeline, which is all a player or the composite export needs.

// trackFile is what a TrackWriter writes to: an *os.File in production, a wrapper that
// fails on demand in tests (disk full).
type trackFile interface {
	io.WriterAt
	Sync() error
	Close() error
}

// TrackMeta says what a TrackWriter records.
type TrackMeta struct {
	Participant string // display name, free text: written into the file and manifest only
	Identity    string // participant identity: part of the file name, so CheckName applies
	TrackSID    string // track id: part of the file name, so CheckName applies
	Kind        string // "video" or "audio"
	MimeType    string // "video/VP8" or "audio/opus"
	Sealed      bool   // caucus media: written under sealed/ and marked restricted

	// RequestKeyframe, if set, asks the publisher for a keyframe. Called whenever a
	// video track waits for one (it starts, or lost packets: a VP8 stream cannot be
	// decoded again until the next keyframe), at most one call at a time. The SFU's up
	// track is the one throttle: one PLI per layer per interval, a held one sent when
	// the interval ends, so asking again while we wait is also the retry after a lost PLI.
	RequestKeyframe func() `json:"-"`
}

// Gap is a stretch of a track's timeline with no media in the file.
type Gap struct {
	AtMs     int64  `json:"at_ms"`     // on the file's own timeline
	LengthMs int64  `json:"length_ms"` //
	Packets  uint64 `json:"packets,omitempty"`
	Reason   string `json:"reason"` // "lost" (never arrived), "queue_full" (the SFU dropped them: we were slow), "discontinuity", "no_media" (>2 s without media), "timestamp_jump"
}

// TrackStats is a snapshot of a TrackWriter's counters.
type TrackStats struct {
	Frames, Keyframes, Bytes int64
	DurationMs               int64
	LostPackets, Late        int64
	DroppedFrames            int64 // received but unusable (incomplete, or before a keyframe)
	QueueDrops               int64 // of LostPackets, dropped by the SFU because our queue was full
	Gaps                     int
}

// TrackWriter records one RTP track into one WebM file. It has the shape of a media
// sink (WriteRTP, Close, WriteSenderReport) and is safe for concurrent use.
type TrackWriter struct {
	meta    TrackMeta
	rel     string // path relative to the session folder, e.g. "sealed/video-a-TR1.webm"
	path    string
	codec   codecInfo
	log     *slog.Logger
	onError func(TrackMeta, string, error) // the session's: logs the failure, tells the host
	onClose func(*TrackWriter)

	srMu      sync.Mutex // guards pendingSR; never held across I/O so RTCP never waits on disk
	pendingSR *senderReport

	mu         sync.Mutex // guards all below; held across this writer's own file I/O only
	file       trackFile
	journal    *os.File
	w          *webm.Writer
	closed     bool
	failed     error
	reported   bool // failed has been passed to onError
	jb         *framer.Buffer
	vp8        framer.VP8
	waitKey    bool
	srDone     bool
	lastTS     uint32
	tsExt      int64 // extended RTP timestamp of the last frame
	baseExt    int64 // extended RTP timestamp of timestamp 0
	rebaseMs   int64 // added after a timestamp jump so the timeline follows the wall clock
	lastTC     int64
	lastArr    int64 // arrival (unix ns) of the last written frame
	frameDur   int64
	pending    *Gap // a gap whose end we learn at the next written frame
	gaps       []Gap
	lastSync   time.Time
	keyAsking  atomic.Bool // a RequestKeyframe call is on its way; not guarded by mu
	stats      TrackStats
	queueDrops int64 // dropped by the SFU's queue and not yet matched to a gap
}

type senderReport struct {
	ntp     time.Time
	rtp     uint32
	arrival time.Time
}

// syncEvery bounds what an OS crash or power cut can take: a kill of the process loses
// nothing already written, since every frame goes to the file as it is written.
const syncEvery = time.Second

func newTrackWriter(meta TrackMeta, codec codecInfo, rel, path string, f trackFile, log *slog.Logger) *TrackWriter {
	t := &TrackWriter{meta: meta, rel: rel, path: path, codec: codec, file: f, log: log, waitKey: codec.video, lastTC: -1}
	t.jb = framer.NewBuffer(codec.window)
	return t
}

// Path is the file's path relative to the session folder.
func (t *TrackWriter) Path() string { return t.rel }

// WriteRTP takes one packet of the track. The packet is read-only; what is kept is copied.
// After a write failure it returns that error and drops everything.
func (t *TrackWriter) WriteRTP(p *rtp.Packet) error {
	now := time.Now()
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return os.ErrClosed
	}
	if t.failed != nil {
		err := t.failed
		t.mu.Unlock()
		return err
	}
	t.takeSRLocked()
	t.jb.Push(p, now.UnixNano(), t.onPacketLocked, t.onLostLocked)
	if t.failed == nil && now.Sub(t.lastSync) >= syncEvery && t.w != nil {
		t.lastSync = now
		if err := t.file.Sync(); err != nil {
			t.failLocked(fmt.Errorf("sync: %w", err))
		} else if t.journal != nil {
			t.journal.Sync()
		}
	}
	err, report := t.takeFailureLocked()
	t.mu.Unlock()
	if report && t.onError != nil {
		t.onError(t.meta, t.rel, err)
	}
	return err
}

// takeFailureLocked returns the failure and whether it is yet to be reported: the
// session hears of a failure once, at once, and never with our lock held.
func (t *TrackWriter) takeFailureLocked() (error, bool) {
	if t.failed == nil || t.reported {
		return t.failed, false
	}
	t.reported = true
	return t.failed, true
}

// WriteGap is told, before the next packet, that dropped packets never reached us
// because our queue in the SFU was full (media.GapSink). They also show as missing
// sequence numbers; this only names the cause in the gap ("queue_full").
func (t *TrackWriter) WriteGap(dropped int) {
	t.mu.Lock()
	t.queueDrops += int64(dropped)
	t.stats.QueueDrops += int64(dropped)
	t.mu.Unlock()
}

// WriteSenderReport records an RTCP sender report's NTP/RTP time pair (RFC 3550 §6.4.1),
// which places the track on the sender's wall clock for A/V sync.
func (t *TrackWriter) WriteSenderReport(ntpTime uint64, rtpTime uint32) {
	sr := &senderReport{ntp: ntpToTime(ntpTime), rtp: rtpTime, arrival: time.Now()}
	t.srMu.Lock()
	t.pendingSR = sr
	t.srMu.Unlock()
}

// ntpToTime converts a 64-bit NTP timestamp (seconds since 1900, 32.32 fixed point).
func ntpToTime(v uint64) time.Time {
	sec := int64(v>>32) - 2208988800
	nsec := int64((v & 0xFFFFFFFF) * 1_000_000_000 >> 32)
	return time.Unix(sec, nsec).UTC()
}

// takeSRLocked maps the first sender report after the first frame onto the file's timeline.
func (t *TrackWriter) takeSRLocked() {
	if t.srDone || t.w == nil {
		return
	}
	t.srMu.Lock()
	sr := t.pendingSR
	t.srMu.Unlock()
	if sr == nil {
		return
	}
	t.srDone = true
	ext := t.tsExt + int64(int32(sr.rtp-t.lastTS))
	tc := (ext-t.baseExt)*1000/int64(t.codec.clock) + t.rebaseMs
	t.journalLocked(journalEntry{K: "sr", SRNTP: sr.ntp, SRTC: tc, SRArrival: sr.arrival})
}

func (t *TrackWriter) onLostLocked(n uint64) {
	t.stats.LostPackets += int64(n)
	defer func() { t.queueDrops = max(0, t.queueDrops-int64(n)) }()
	if t.w == nil {
		return // nothing written yet: nothing is missing from the file
	}
	if t.pending == nil {
		reason := "lost"
		switch {
		case n == 0:
			reason = "discontinuity" // the sender restarted its sequence numbers
		case t.queueDrops > 0:
			reason = "queue_full" // we were too slow: the SFU dropped them for us
		}
		t.pending = &Gap{AtMs: t.lastTC + t.frameDur, Reason: reason}
	}
	t.pending.Packets += n
	if t.codec.video {
		t.vp8.Reset()
		t.waitKey = true
		t.requestKeyframeLocked()
	}
}

func (t *TrackWriter) requestKeyframeLocked() {
	if t.meta.RequestKeyframe == nil || !t.keyAsking.CompareAndSwap(false, true) {
		return
	}
	go func() { // never call out of the package with our lock held
		defer t.keyAsking.Store(false)
		t.meta.RequestKeyframe()
	}()
}

func (t *TrackWriter) onPacketLocked(s *framer.Packet) {
	if t.failed != nil {
		return
	}
	if !t.codec.video {
		if len(s.Payload) > 0 {
			t.writeFrameLocked(s.TS, s.Arrival, true, s.Payload, 0, 0)
		}
		return
	}
	frame, dropped := t.vp8.Push(s)
	if dropped {
		t.stats.DroppedFrames++
	}
	if frame == nil {
		return
	}
	key, w, h := framer.VP8Keyframe(frame)
	if t.waitKey && !key {
		t.stats.DroppedFrames++
		t.requestKeyframeLocked()
		return
	}
	t.waitKey = false
	t.writeFrameLocked(s.TS, s.Arrival, key, frame, w, h)
}

func (t *TrackWriter) writeFrameLocked(ts uint32, arrival int64, key bool, data []byte, width, height int) {
	if t.w == nil {
		if err := t.startLocked(ts, arrival, width, height); err != nil {
			t.failLocked(err)
			return
		}
	}
	t.tsExt += int64(int32(ts - t.lastTS))
	t.lastTS = ts
	tc := (t.tsExt-t.baseExt)*1000/int64(t.codec.clock) + t.rebaseMs
	if t.lastTC >= 0 {
		// A sender restart or SSRC change makes the RTP clock jump; follow the wall clock.
		expected := t.lastTC + (arrival-t.lastArr)/1e6
		if d := tc - expected; d > 5000 || d < -5000 {
			t.rebaseMs -= d
			tc = expected
			if t.pending == nil {
				t.pending = &Gap{AtMs: t.lastTC + t.frameDur, Reason: "timestamp_jump"}
			}
		}
		if tc < t.lastTC {
			t.stats.DroppedFrames++
			return
		}
		if t.pending == nil && tc-t.lastTC > 2000 {
			t.pending = &Gap{AtMs: t.lastTC + t.frameDur, Reason: "no_media"}
		}
		if d := tc - t.lastTC; d > 0 && d < 200 {
			t.frameDur = d
		}
	}
	if err := t.w.WriteFrame(tc, key, data); err != nil {
		t.failLocked(err)
		return
	}
	if g := t.pending; g != nil {
		t.pending = nil
		if g.LengthMs = tc - g.AtMs; g.LengthMs < 0 {
			g.LengthMs = 0
		}
		t.gaps = append(t.gaps, *g)
		t.stats.Gaps++
		t.journalLocked(journalEntry{K: "gap", Gap: g})
	}
	t.lastTC, t.lastArr = tc, arrival
	t.stats.Frames++
	if key {
		t.stats.Keyframes++
	}
	t.stats.Bytes = t.w.Size()
	t.stats.DurationMs = t.w.DurationMs()
}

// startLocked writes the WebM header at the first usable frame (for video we need the
// keyframe's size) and the journal's first line.
func (t *TrackWriter) startLocked(ts uint32, arrival int64, width, height int) error {
	t.lastTS, t.tsExt, t.baseExt = ts, 0, 0
	t.frameDur = 20
	if t.codec.video {
		t.frameDur = 33
	}
	start := time.Unix(0, arrival).UTC()
	j, err := os.OpenFile(t.path+journalSuffix, os.O_WRONLY|os.O_CREATE|os.O_APPEND, fileMode)
	if err != nil {
		return fmt.Errorf("open journal: %w", err)
	}
	t.journal = j
	t.journalLocked(journalEntry{K: "start", Meta: &t.meta, Codec: t.codec.codecID,
		FirstArrival: start, BaseRTP: ts, ClockRate: t.codec.clock, Width: width, Height: height})
	name := t.meta.Participant
	if name == "" {
		name = t.meta.Identity
	}
	wt := webm.Track{Video: t.codec.video, CodecID: t.codec.codecID, Width: width, Height: height,
		Channels: 2, Name: name + " " + t.meta.Kind, UID: uint64(arrival)&(1<<53-1) | 1, Date: start}
	if !t.codec.video {
		wt.CodecPrivate = webm.OpusHead()
	}
	w, err := webm.NewWriter(t.file, wt)
	t.w = w
	return err
}

func (t *TrackWriter) failLocked(err error) {
	if t.failed != nil {
		return
	}
	t.failed = err
	t.log.Error("recording track failed", "file", t.rel, "err", err)
	// the case file names its own files relatively, never the server's folders
	t.journalLocked(journalEntry{K: "failed", Error: HidePaths(err, strings.TrimSuffix(t.path, filepath.FromSlash(t.rel)))})
}

func (t *TrackWriter) journalLocked(e journalEntry) {
	if t.journal == nil {
		return
	}
	e.Time = time.Now().UTC()
	if err := writeJournal(t.journal, e); err != nil && t.failed == nil {
		t.failed = fmt.Errorf("write journal: %w", err)
	}
}

// Stats returns the writer's counters.
func (t *TrackWriter) Stats() TrackStats {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stats
}

// Close flushes what the jitter buffer holds, writes Cues, Duration and sizes, and
// closes the file. After a failure it keeps the file as written. Idempotent.
func (t *TrackWriter) Close() error {
	t.mu.Lock()
	if t.closed {
		t.mu.Unlock()
		return nil
	}
	t.closed = true
	t.takeSRLocked()
	t.jb.Flush(t.onPacketLocked, t.onLostLocked)
	var errs []error
	if t.w != nil && t.failed == nil {
		if err := t.w.Finish(); err != nil {
			t.failLocked(err)
		} else if err := t.file.Sync(); err != nil {
			t.failLocked(fmt.Errorf("sync: %w", err))
		} else {
			t.journalLocked(journalEntry{K: "end", Frames: t.stats.Frames, Bytes: t.w.Size(),
				DurationMs: t.w.DurationMs(), Lost: t.stats.LostPackets, Late: t.jb.Late(),
				Dropped: t.stats.DroppedFrames})
		}
	}
	if t.failed != nil {
		errs = append(errs, t.failed)
	}
	if err := t.file.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close %s: %w", t.rel, err))
	}
	if t.journal != nil {
		t.journal.Sync()
		if err := t.journal.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close journal: %w", err))
		}
	}
	t.stats.Late = t.jb.Late()
	empty := t.w == nil
	failure, report := t.takeFailureLocked()
	t.mu.Unlock()
	if empty {
		os.Remove(t.path) // no frame ever came: no file, and the event log says so
	}
	if report && t.onError != nil {
		t.onError(t.meta, t.rel, failure)
	}
	if t.onClose != nil {
		t.onClose(t)
	}
	return errors.Join(errs...)
}
