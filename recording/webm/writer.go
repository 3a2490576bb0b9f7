// Package webm writes one media track as a WebM file (RFC 9559, Matroska, the WebM
// subset) that survives a kill, and reads back what it wrote. It imports no package
// of ours: frames in, bytes out, like pion's pkg/media writers.
//
// The layout: EBML header, Segment of unknown size, a reserved SeekHead, Info
// (TimestampScale 1 ms, DateUTC = wall time of timestamp 0), Tracks, then Clusters of
// unknown size (each starts on a keyframe after >= 1 s, or after 5 s) with every
// SimpleBlock written through as it comes. Whatever was written when the process died
// is a readable file; Finish adds Cues, Duration, the SeekHead and the sizes.
package webm

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// Codec IDs of the WebM codec mappings we write.
const (
	CodecVP8  = "V_VP8"
	CodecOpus = "A_OPUS"
)

// Track describes the single track of one WebM file.
type Track struct {
	Video         bool
	CodecID       string // CodecVP8 or CodecOpus
	Width, Height int    // video: from the first keyframe
	Channels      int    // audio
	CodecPrivate  []byte // audio: OpusHead
	Name          string // TrackEntry Name: who and which track, for players
	UID           uint64
	Date          time.Time // Info DateUTC: wall time of timestamp 0
}

// OpusHead is the CodecPrivate of an Opus track (RFC 7845 §5.1, the Matroska Opus
// mapping): WebRTC Opus is negotiated as 48 kHz stereo, channel mapping family 0.
func OpusHead() []byte {
	b := []byte("OpusHead")
	b = append(b, 1, 2)                            // version, channels
	b = binary.LittleEndian.AppendUint16(b, 0)     // pre-skip: RTP Opus carries none
	b = binary.LittleEndian.AppendUint32(b, 48000) // input sample rate (informational)
	b = binary.LittleEndian.AppendUint16(b, 0)     // output gain
	return append(b, 0)                            // mapping family
}

const (
	// seekHeadReserve is the Void written right after the Segment header and replaced at
	// close by a SeekHead pointing at Info, Tracks and Cues (plus a smaller Void).
	seekHeadReserve = 96
	// durationReserve is the Void inside Info replaced at close by Duration (float, 11 bytes).
	// We cannot write Duration up front: a truncated file would claim the wrong length.
	durationReserve = 11
	// A new Cluster starts on a video keyframe after clusterMinMs, and always after
	// clusterMaxMs, so the int16 relative block timestamp (SimpleBlock) never overflows.
	clusterMinMs = 1000
	clusterMaxMs = 5000
)

type cuePoint struct{ pos, tc int64 }

// Writer writes one track as WebM. Appends too go through WriteAt at its own position,
// so they never depend on a file's offset (a reopened file starts at 0). Not safe for
// concurrent use.
type Writer struct {
	f     io.WriterAt
	video bool
	pos   int64 // bytes written so far: the next append offset

	segSizePos  int64 // offset of the Segment's 8-byte size field
	segData     int64 // offset of the Segment's data; SeekPosition and CueClusterPosition are relative to it
	seekVoidPos int64
	infoPos     int64
	tracksPos   int64
	durVoidPos  int64

	cluster   int64 // offset of the open Cluster's ID; -1 when none is open
	clusterTC int64
	lastTC    int64
	prevTC    int64
	frames    int64
	cues      []cuePoint
	buf       []byte // reused for every block: one Write call per frame
}

// dateEpoch is Matroska's DateUTC origin (RFC 9559 §5.1.2.4): 2001-01-01T00:00:00 UTC.
var dateEpoch = time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)

// NewWriter writes the header of a file holding track t to f, at offset 0.
func NewWriter(f io.WriterAt, t Track) (*Writer, error) {
	w := &Writer{f: f, video: t.Video, cluster: -1, lastTC: -1, prevTC: -1}
	var b []byte
	var h []byte
	h = appendUint(h, idEBMLVersion, 1)
	h = appendUint(h, idEBMLReadVersion, 1)
	h = appendUint(h, idEBMLMaxIDLength, 4)
	h = appendUint(h, idEBMLMaxSizeLength, 8)
	h = appendString(h, idDocType, "webm")
	h = appendUint(h, idDocTypeVersion, 4)
	h = appendUint(h, idDocTypeReadVersion, 2)
	b = appendMaster(b, idEBML, h)

	b = appendID(b, idSegment)
	w.segSizePos = int64(len(b))
	b = append(b, unknownSize[:]...)
	w.segData = int64(len(b))

	w.seekVoidPos = int64(len(b))
	b = appendVoid(b, seekHeadReserve)

	var info []byte
	info = appendUint(info, idTimestampScale, 1_000_000) // 1 ms per timestamp tick
	if !t.Date.IsZero() {
		info = appendInt(info, idDateUTC, t.Date.Sub(dateEpoch).Nanoseconds())
	}
	info = appendString(info, idMuxingApp, "yizhan")
	info = appendString(info, idWritingApp, "yizhan recording")
	info = appendVoid(info, durationReserve)
	w.infoPos = int64(len(b))
	b = appendMaster(b, idInfo, info)
	w.durVoidPos = int64(len(b)) - durationReserve

	var te []byte
	te = appendUint(te, idTrackNumber, 1)
	te = appendUint(te, idTrackUID, t.UID)
	te = appendUint(te, idFlagLacing, 0)
	te = appendString(te, idCodecID, t.CodecID)
	if t.Name != "" {
		te = appendString(te, idName, t.Name)
	}
	if t.Video {
		te = appendUint(te, idTrackType, 1)
		var v []byte
		v = appendUint(v, idPixelWidth, uint64(t.Width))
		v = appendUint(v, idPixelHeight, uint64(t.Height))
		te = appendMaster(te, idVideo, v)
	} else {
		te = appendUint(te, idTrackType, 2)
		// Opus in Matroska: CodecDelay = pre-skip, SeekPreRoll 80 ms (the codec mapping's advice).
		te = appendUint(te, idCodecDelay, 0)
		te = appendUint(te, idSeekPreRoll, 80_000_000)
		te = appendBytes(te, idCodecPrivate, t.CodecPrivate)
		var a []byte
		a = appendFloat(a, idSamplingFrequency, 48000)
		a = appendUint(a, idChannels, uint64(t.Channels))
		te = appendMaster(te, idAudio, a)
	}
	w.tracksPos = int64(len(b))
	b = appendMaster(b, idTracks, appendMaster(nil, idTrackEntry, te))

	n, err := f.WriteAt(b, 0)
	w.pos += int64(n)
	if err != nil {
		return w, fmt.Errorf("write webm header: %w", err)
	}
	return w, nil
}

// WriteFrame appends one frame at tc milliseconds from the file's start. tc must not
// go backwards (the caller drops frames that would).
func (w *Writer) WriteFrame(tc int64, key bool, data []byte) error {
	b := w.buf[:0]
	if w.cluster < 0 || tc-w.clusterTC >= clusterMaxMs ||
		(tc-w.clusterTC >= clusterMinMs && (key || !w.video)) {
		if err := w.patchClusterSize(); err != nil {
			return err
		}
		w.cluster = w.pos
		w.clusterTC = tc
		if key {
			w.cues = append(w.cues, cuePoint{pos: w.pos - w.segData, tc: tc})
		}
		b = appendID(b, idCluster)
		b = append(b, unknownSize[:]...)
		b = appendUint(b, idTimestamp, uint64(tc))
	}
	b = appendID(b, idSimpleBlock)
	b = appendSize(b, uint64(4+len(data)))
	rel := int16(tc - w.clusterTC)
	flags := byte(0)
	if key {
		flags = 0x80
	}
	b = append(b, 0x81, byte(uint16(rel)>>8), byte(rel), flags) // track number 1 as a VINT
	b = append(b, data...)
	w.buf = b
	n, err := w.f.WriteAt(b, w.pos)
	w.pos += int64(n)
	if err != nil {
		return fmt.Errorf("write webm block: %w", err)
	}
	w.prevTC, w.lastTC = w.lastTC, tc
	w.frames++
	return nil
}

// patchClusterSize turns the open Cluster's unknown size into its real size. A reader
// that finds the size still unknown (we were killed first) ends the Cluster at the next
// top-level element or at the end of the file, so either form plays.
func (w *Writer) patchClusterSize() error {
	if w.cluster < 0 {
		return nil
	}
	s := size8(uint64(w.pos - (w.cluster + 4 + 8)))
	if _, err := w.f.WriteAt(s[:], w.cluster+4); err != nil {
		return fmt.Errorf("patch cluster size: %w", err)
	}
	return nil
}

// Size is the number of bytes written so far.
func (w *Writer) Size() int64 { return w.pos }

// Frames is the number of frames written.
func (w *Writer) Frames() int64 { return w.frames }

// DurationMs is the track's length: the last timestamp plus one frame.
func (w *Writer) DurationMs() int64 { return durationMs(w.video, w.lastTC, w.prevTC) }

func durationMs(video bool, lastTC, prevTC int64) int64 {
	if lastTC < 0 {
		return 0
	}
	d := int64(20) // an Opus frame; for video the spacing of the last two frames
	if video {
		d = 0
		if prevTC >= 0 {
			d = lastTC - prevTC
		}
	}
	return lastTC + d
}

// Finish writes Cues after the last Cluster and patches the SeekHead, Duration and the
// Segment size in place. Each step leaves a valid file if we die before the next one.
func (w *Writer) Finish() error {
	if err := w.patchClusterSize(); err != nil {
		return err
	}
	w.cluster = -1
	cuesPos := w.pos
	if len(w.cues) > 0 {
		var cues []byte
		for _, c := range w.cues {
			var tp []byte
			tp = appendUint(tp, idCueTrack, 1)
			tp = appendUint(tp, idCueClusterPosition, uint64(c.pos))
			var cp []byte
			cp = appendUint(cp, idCueTime, uint64(c.tc))
			cp = appendMaster(cp, idCueTrackPositions, tp)
			cues = appendMaster(cues, idCuePoint, cp)
		}
		b := appendMaster(nil, idCues, cues)
		n, err := w.f.WriteAt(b, w.pos)
		w.pos += int64(n)
		if err != nil {
			return fmt.Errorf("write cues: %w", err)
		}
	}
	var sh []byte
	seek := func(id uint32, pos int64) {
		var s []byte
		s = appendBytes(s, idSeekID, appendID(nil, id))
		s = appendUint(s, idSeekPosition, uint64(pos))
		sh = appendMaster(sh, idSeek, s)
	}
	seek(idInfo, w.infoPos-w.segData)
	seek(idTracks, w.tracksPos-w.segData)
	if len(w.cues) > 0 {
		seek(idCues, cuesPos-w.segData)
	}
	head := appendMaster(nil, idSeekHead, sh)
	head = appendVoid(head, seekHeadReserve-len(head))
	if _, err := w.f.WriteAt(head, w.seekVoidPos); err != nil {
		return fmt.Errorf("write seek head: %w", err)
	}
	dur := appendFloat(nil, idDuration, float64(w.DurationMs()))
	if _, err := w.f.WriteAt(dur, w.durVoidPos); err != nil {
		return fmt.Errorf("write duration: %w", err)
	}
	s := size8(uint64(w.pos - w.segData))
	if _, err := w.f.WriteAt(s[:], w.segSizePos); err != nil {
		return fmt.Errorf("write segment size: %w", err)
	}
	return nil
}
