package webm

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"
)

// memFile is an in-memory file: a Writer writes to it, the test reads it back.
// (bytes.Buffer has no WriteAt, and the writer patches sizes in place.)
type memFile struct {
	b      []byte
	failAt int64 // a write reaching past this offset fails (a full disk); 0: never
}

var errDiskFull = errors.New("disk full")

func (m *memFile) WriteAt(p []byte, off int64) (int, error) {
	if m.failAt > 0 && off+int64(len(p)) > m.failAt {
		return 0, errDiskFull
	}
	if end := int(off) + len(p); end > len(m.b) {
		m.b = append(m.b, make([]byte, end-len(m.b))...)
	}
	return copy(m.b[off:], p), nil
}

// element is one EBML element read back: its ID, where it starts, its data.
type element struct {
	id       uint32
	off      int64 // of the ID
	dataOff  int64
	data     []byte
	unknown  bool // size was "unknown" (a live file's Segment or Cluster)
	children []element
}

// masters are the element IDs we descend into.
var masters = map[uint32]bool{idSegment: true, idSeekHead: true, idSeek: true, idInfo: true, idTracks: true,
	idTrackEntry: true, idVideo: true, idAudio: true, idCluster: true, idCues: true, idCuePoint: true,
	idCueTrackPositions: true, idEBML: true}

// clusterChildren are what a Cluster of unknown size may hold: anything else ends it.
var clusterChildren = map[uint32]bool{idTimestamp: true, idSimpleBlock: true, idBlockGroup: true, idVoid: true}

// parse reads the elements in b[off:end], independently of Scan, as a player would.
func parse(t *testing.T, b []byte, off, end int64, parent uint32) []element {
	t.Helper()
	var out []element
	for off < end {
		id, il := readID(b[off:])
		if il == 0 {
			t.Fatalf("bad element ID at %d", off)
		}
		v, sl, unknown := readVint(b[off+int64(il):])
		if sl == 0 {
			t.Fatalf("bad element size at %d", off)
		}
		if parent == idCluster && !clusterChildren[id] {
			return out // the end of a Cluster of unknown size
		}
		e := element{id: id, off: off, dataOff: off + int64(il+sl), unknown: unknown}
		stop := e.dataOff + int64(v)
		if unknown {
			stop = end
		}
		if stop > end && (id == idCluster || id == idSegment) {
			stop = end // a file cut while this Cluster was written: read what is there
		}
		if stop > end {
			t.Fatalf("element %x at %d runs past the end (%d > %d)", id, off, stop, end)
		}
		if masters[id] {
			e.children = parse(t, b, e.dataOff, stop, id)
			if unknown { // it ends where its last child ends
				stop = e.dataOff
				if n := len(e.children); n > 0 {
					last := e.children[n-1]
					stop = last.dataOff + int64(len(last.data))
				}
			}
		}
		e.data = b[e.dataOff:stop]
		out = append(out, e)
		off = stop
	}
	return out
}

func (e element) child(id uint32) (element, bool) {
	for _, c := range e.children {
		if c.id == id {
			return c, true
		}
	}
	return element{}, false
}

func (e element) uint(t *testing.T, id uint32) uint64 {
	t.Helper()
	c, ok := e.child(id)
	if !ok {
		t.Fatalf("element %x has no %x", e.id, id)
	}
	var v uint64
	for _, x := range c.data {
		v = v<<8 | uint64(x)
	}
	return v
}

// block is a SimpleBlock read back, on the file's timeline.
type block struct {
	tc   int64
	key  bool
	data string
}

// read parses a whole file: the Segment, and every block with its absolute timestamp.
func read(t *testing.T, b []byte) (seg element, blocks []block, clusters []element) {
	t.Helper()
	top := parse(t, b, 0, int64(len(b)), 0)
	if len(top) != 2 || top[0].id != idEBML || top[1].id != idSegment {
		t.Fatalf("top level: %d elements", len(top))
	}
	if dt, _ := top[0].child(idDocType); string(dt.data) != "webm" {
		t.Fatalf("DocType %q", dt.data)
	}
	seg = top[1]
	for _, c := range seg.children {
		if c.id != idCluster {
			continue
		}
		clusters = append(clusters, c)
		ctc := int64(c.uint(t, idTimestamp))
		for _, sb := range c.children {
			if sb.id != idSimpleBlock {
				continue
			}
			if sb.data[0] != 0x81 {
				t.Fatalf("block of track %x", sb.data[0])
			}
			rel := int16(binary.BigEndian.Uint16(sb.data[1:3]))
			blocks = append(blocks, block{tc: ctc + int64(rel), key: sb.data[3]&0x80 != 0, data: string(sb.data[4:])})
		}
	}
	return seg, blocks, clusters
}

// frames is a test stream: a video frame every 33 ms, a keyframe every 40 frames
// (1.32 s), with a 6 s pause after frame 100 (a Cluster must end within 5 s).
func videoFrames() []block {
	var out []block
	tc := int64(0)
	for i := range 200 {
		if i == 100 {
			tc += 6000
		}
		out = append(out, block{tc: tc, key: i%40 == 0, data: fmt.Sprintf("frame %03d %s", i, bytes.Repeat([]byte{byte(i)}, i%7))})
		tc += 33
	}
	return out
}

// TestWriteReadBack: every frame written comes back, in order, with its timestamp and
// keyframe flag; Clusters start on keyframes after >= 1 s (or after 5 s) and every one
// that starts on a keyframe is in the Cues; the SeekHead, Duration and Segment size
// that Finish writes are right; Scan agrees with a full parse.
func TestWriteReadBack(t *testing.T) {
	date := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	f := &memFile{}
	w, err := NewWriter(f, Track{Video: true, CodecID: CodecVP8, Width: 640, Height: 360, Name: "张三 video", UID: 7, Date: date})
	if err != nil {
		t.Fatal(err)
	}
	in := videoFrames()
	for _, fr := range in {
		if err := w.WriteFrame(fr.tc, fr.key, []byte(fr.data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	if w.Size() != int64(len(f.b)) || w.Frames() != int64(len(in)) {
		t.Errorf("writer says %d bytes %d frames; file has %d bytes, %d frames were written", w.Size(), w.Frames(), len(f.b), len(in))
	}

	seg, out, clusters := read(t, f.b)
	if seg.unknown || seg.dataOff+int64(len(seg.data)) != int64(len(f.b)) {
		t.Errorf("Segment size not patched to the end of the file")
	}
	if len(out) != len(in) {
		t.Fatalf("%d blocks read back, %d written", len(out), len(in))
	}
	for i := range in {
		if out[i] != in[i] {
			t.Fatalf("block %d: read %+v, wrote %+v", i, out[i], in[i])
		}
	}

	info, _ := seg.child(idInfo)
	if info.uint(t, idTimestampScale) != 1_000_000 {
		t.Errorf("TimestampScale %d", info.uint(t, idTimestampScale))
	}
	if d, ok := info.child(idDuration); !ok || math.Float64frombits(binary.BigEndian.Uint64(d.data)) != float64(in[len(in)-1].tc+33) {
		t.Errorf("Duration %x, want %d ms", d.data, in[len(in)-1].tc+33)
	}
	if got := time.Duration(info.uint(t, idDateUTC)); dateEpoch.Add(got) != date {
		t.Errorf("DateUTC %v", dateEpoch.Add(got))
	}
	tracks, _ := seg.child(idTracks)
	te, _ := tracks.child(idTrackEntry)
	if id, _ := te.child(idCodecID); string(id.data) != CodecVP8 {
		t.Errorf("CodecID %q", id.data)
	}
	if v, _ := te.child(idVideo); v.uint(t, idPixelWidth) != 640 || v.uint(t, idPixelHeight) != 360 {
		t.Errorf("video size %dx%d", v.uint(t, idPixelWidth), v.uint(t, idPixelHeight))
	}

	// Clusters: each starts on a keyframe after >= 1 s, or after 5 s; no block is 5 s
	// or more past its Cluster's timestamp (the int16 offset never overflows).
	var keyClusters []int64
	for i, c := range clusters {
		ctc := int64(c.uint(t, idTimestamp))
		first := blocksOf(t, c)
		if i > 0 {
			prev := int64(clusters[i-1].uint(t, idTimestamp))
			if !(first[0].key && ctc-prev >= clusterMinMs) && ctc-prev < clusterMaxMs {
				t.Errorf("cluster %d at %d ms (previous at %d) does not start on a keyframe", i, ctc, prev)
			}
		}
		if first[0].key {
			keyClusters = append(keyClusters, c.off-seg.dataOff)
		}
		for _, b := range first {
			if b.tc-ctc >= clusterMaxMs {
				t.Errorf("block at %d ms in the cluster of %d ms", b.tc, ctc)
			}
		}
	}
	cues, ok := seg.child(idCues)
	if !ok {
		t.Fatal("no Cues")
	}
	var cued []int64
	for _, cp := range cues.children {
		pos, _ := cp.child(idCueTrackPositions)
		cued = append(cued, int64(pos.uint(t, idCueClusterPosition)))
	}
	if fmt.Sprint(cued) != fmt.Sprint(keyClusters) {
		t.Errorf("cues point at %v, keyframe clusters are at %v", cued, keyClusters)
	}
	t.Logf("%d frames, %d clusters, %d cues, %d bytes", len(out), len(clusters), len(cued), len(f.b))

	// the SeekHead points at Info, Tracks and Cues
	sh, _ := seg.child(idSeekHead)
	for _, s := range sh.children {
		sid, _ := s.child(idSeekID)
		id, _ := readID(sid.data)
		pos := seg.dataOff + int64(s.uint(t, idSeekPosition))
		if got, _ := readID(f.b[pos:]); got != id {
			t.Errorf("SeekHead: %x at %d holds %x", id, pos, got)
		}
	}

	sc, err := Scan(bytes.NewReader(f.b), int64(len(f.b)))
	if err != nil {
		t.Fatal(err)
	}
	want := Info{Size: int64(len(f.b)), GoodEnd: int64(len(f.b)), Finished: true, Video: true, Width: 640, Height: 360,
		Frames: 200, Keyframes: 5, FirstTC: 0, LastTC: in[len(in)-1].tc}
	got := Info{Size: sc.Size, GoodEnd: sc.GoodEnd, Finished: sc.Finished, Video: sc.Video, Width: sc.Width, Height: sc.Height,
		Frames: sc.Frames, Keyframes: sc.Keyframes, FirstTC: sc.FirstTC, LastTC: sc.LastTC}
	if fmt.Sprint(got) != fmt.Sprint(want) || sc.DurationMs() != w.DurationMs() {
		t.Errorf("Scan: %+v (%d ms)\nwant  %+v (%d ms)", got, sc.DurationMs(), want, w.DurationMs())
	}
}

func blocksOf(t *testing.T, c element) []block {
	t.Helper()
	_, bs, _ := read(t, append(ebmlHeader(), segmentOf(c)...))
	return bs
}

// ebmlHeader and segmentOf wrap one Cluster in a file of its own, to read its blocks.
func ebmlHeader() []byte {
	return appendMaster(nil, idEBML, appendString(nil, idDocType, "webm"))
}

func segmentOf(c element) []byte {
	b := appendID(nil, idSegment)
	b = append(b, unknownSize[:]...)
	cl := appendID(nil, idCluster)
	cl = appendSize(cl, uint64(len(c.data)))
	return append(append(b, cl...), c.data...)
}

// TestOpusTrack: an audio track carries its OpusHead, sampling rate and channels, and
// starts a Cluster every second (every frame is a keyframe).
func TestOpusTrack(t *testing.T) {
	f := &memFile{}
	w, err := NewWriter(f, Track{CodecID: CodecOpus, Channels: 2, CodecPrivate: OpusHead(), UID: 1})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 150 { // 3 s of 20 ms frames
		if err := w.WriteFrame(int64(i*20), true, []byte{0xfc, byte(i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	seg, out, clusters := read(t, f.b)
	if len(out) != 150 || out[149].tc != 2980 || out[149].data != string([]byte{0xfc, 149}) {
		t.Fatalf("%d blocks, last %+v", len(out), out[len(out)-1])
	}
	if len(clusters) != 3 {
		t.Errorf("%d clusters for 3 s of audio, want 3", len(clusters))
	}
	tracks, _ := seg.child(idTracks)
	te, _ := tracks.child(idTrackEntry)
	priv, _ := te.child(idCodecPrivate)
	a, _ := te.child(idAudio)
	if !bytes.Equal(priv.data, OpusHead()) || !bytes.HasPrefix(priv.data, []byte("OpusHead")) || a.uint(t, idChannels) != 2 || te.uint(t, idTrackType) != 2 {
		t.Errorf("audio track entry: private %x, channels %d", priv.data, a.uint(t, idChannels))
	}
	if w.DurationMs() != 3000 {
		t.Errorf("duration %d ms, want 3000", w.DurationMs())
	}
}

// TestKilledFileReadsAndResumes: a file cut at any byte while it was being written
// (the process killed, a copy taken) reads up to its last whole block; Scan finds that
// block's end, and Resume + Finish close it out into a complete file with exactly those
// blocks.
func TestKilledFileReadsAndResumes(t *testing.T) {
	f := &memFile{}
	w, err := NewWriter(f, Track{Video: true, CodecID: CodecVP8, Width: 320, Height: 240, UID: 2})
	if err != nil {
		t.Fatal(err)
	}
	in := videoFrames()
	for _, fr := range in {
		if err := w.WriteFrame(fr.tc, fr.key, []byte(fr.data)); err != nil {
			t.Fatal(err)
		}
	}
	live := append([]byte{}, f.b...) // never finished: Segment and last Cluster of unknown size
	cuts := 0
	for cut := len(live); cut > len(live)/3; cut -= 97 {
		b := live[:cut]
		sc, err := Scan(bytes.NewReader(b), int64(len(b)))
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		whole := append([]byte{}, b[:sc.GoodEnd]...)
		_, kept, _ := read(t, whole)
		if int64(len(kept)) != sc.Frames || sc.Finished {
			t.Fatalf("cut at %d: %d blocks read, Scan says %d frames (finished %v)", cut, len(kept), sc.Frames, sc.Finished)
		}
		for i := range kept {
			if kept[i] != in[i] {
				t.Fatalf("cut at %d: block %d is %+v, wrote %+v", cut, i, kept[i], in[i])
			}
		}
		m := &memFile{b: whole}
		rw := Resume(m, sc)
		if err := rw.Finish(); err != nil {
			t.Fatal(err)
		}
		seg, done, _ := read(t, m.b)
		if len(done) != len(kept) || seg.unknown {
			t.Fatalf("cut at %d: resumed file has %d blocks, want %d", cut, len(done), len(kept))
		}
		if rs, _ := Scan(bytes.NewReader(m.b), int64(len(m.b))); !rs.Finished || rs.Frames != sc.Frames {
			t.Fatalf("cut at %d: resumed file scans as %+v", cut, rs)
		}
		cuts++
	}
	t.Logf("%d cuts read back and closed out", cuts)
}

// TestWriteErrorReturned: a write that fails (disk full) is returned, not swallowed.
func TestWriteErrorReturned(t *testing.T) {
	f := &memFile{failAt: 2000}
	w, err := NewWriter(f, Track{CodecID: CodecOpus, Channels: 2, CodecPrivate: OpusHead(), UID: 1})
	if err != nil {
		t.Fatal(err)
	}
	var werr error
	for i := 0; i < 1000 && werr == nil; i++ {
		werr = w.WriteFrame(int64(i*20), true, make([]byte, 100))
	}
	if !errors.Is(werr, errDiskFull) {
		t.Fatalf("write past the limit: %v", werr)
	}
	if _, err := NewWriter(&memFile{failAt: 10}, Track{CodecID: CodecOpus}); !errors.Is(err, errDiskFull) {
		t.Errorf("header write: %v", err)
	}
}
