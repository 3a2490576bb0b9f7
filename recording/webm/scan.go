package webm

import (
	"fmt"
	"io"
)

// Info is what Scan learns from a file this package wrote: enough to describe it, to
// tell how much of it is whole, and to close out a file left open by a crash (Resume).
type Info struct {
	Size      int64 // file size
	GoodEnd   int64 // end of the last complete element: bytes past it are a torn write
	Finished  bool  // the Segment has a known size: Finish ran
	Video     bool
	Width     int
	Height    int
	Frames    int64
	Keyframes int64
	FirstTC   int64 // timestamp of the first frame, ms; -1 if none
	LastTC    int64 // of the last frame
	prevTC    int64

	segSizePos, segData, seekVoidPos, infoPos, tracksPos, durVoidPos int64
	cluster, clusterTC                                               int64 // the last Cluster
	cues                                                             []cuePoint
}

// DurationMs is the track's length: the last timestamp plus one frame.
func (s *Info) DurationMs() int64 { return durationMs(s.Video, s.LastTC, s.prevTC) }

// Scan walks the element headers of a WebM file written by Writer, reading only headers
// (and the 4-byte SimpleBlock header), so it is cheap even for long recordings.
func Scan(r io.ReaderAt, size int64) (*Info, error) {
	s := &Info{Size: size, cluster: -1, FirstTC: -1, LastTC: -1, prevTC: -1}
	var hdr [16]byte
	// head reads an element header at off: ID, data offset, data size (-1 = unknown).
	head := func(off int64) (id uint32, data, n int64, ok bool) {
		k, _ := r.ReadAt(hdr[:], off)
		b := hdr[:k]
		id, il := readID(b)
		if il == 0 {
			return 0, 0, 0, false
		}
		v, sl, unknown := readVint(b[il:])
		if sl == 0 {
			return 0, 0, 0, false
		}
		n = int64(v)
		if unknown {
			n = -1
		}
		return id, off + int64(il+sl), n, true
	}
	id, data, n, ok := head(0)
	if !ok || id != idEBML || n < 0 {
		return nil, fmt.Errorf("not a WebM file: no EBML header")
	}
	off := data + n
	id, data, n, ok = head(off)
	if !ok || id != idSegment {
		return nil, fmt.Errorf("not a WebM file: no Segment")
	}
	s.segSizePos = off + 4
	s.segData = data
	s.Finished = n >= 0
	s.GoodEnd = data
	end := size
	if n >= 0 && data+n < end {
		end = data + n
	}
	off = data
	for off < end {
		id, data, n, ok = head(off)
		if !ok {
			break
		}
		switch id {
		case idVoid:
			if off == s.segData {
				s.seekVoidPos = off
			}
		case idSeekHead:
			s.seekVoidPos = off
		case idInfo:
			s.infoPos = off
			s.scanChildren(head, data, n, func(cid uint32, coff, _, _ int64) {
				if cid == idVoid || cid == idDuration {
					s.durVoidPos = coff
				}
			})
		case idTracks:
			s.tracksPos = off
			s.scanTracks(r, head, data, n)
		case idCluster:
			s.cluster = off
			next := s.scanCluster(r, head, off, data, n, end)
			if next < 0 { // torn inside the cluster
				return s, nil
			}
			off = next
			s.GoodEnd = off
			continue
		}
		if n < 0 || data+n > end {
			break // torn header element
		}
		off = data + n
		s.GoodEnd = off
	}
	return s, nil
}

type headFunc func(off int64) (id uint32, data, n int64, ok bool)

func (s *Info) scanChildren(head headFunc, data, n int64, fn func(id uint32, off, data, n int64)) {
	if n < 0 {
		return
	}
	for off := data; off < data+n; {
		id, cd, cn, ok := head(off)
		if !ok || cn < 0 {
			return
		}
		fn(id, off, cd, cn)
		off = cd + cn
	}
}

func (s *Info) scanTracks(r io.ReaderAt, head headFunc, data, n int64) {
	readUint := func(d, n int64) int {
		if n < 0 || n > 8 { // an EBML uint has at most 8 bytes; a damaged size must not allocate
			return 0
		}
		b := make([]byte, n)
		r.ReadAt(b, d)
		v := 0
		for _, c := range b {
			v = v<<8 | int(c)
		}
		return v
	}
	s.scanChildren(head, data, n, func(id uint32, _, d, n int64) {
		if id != idTrackEntry {
			return
		}
		s.scanChildren(head, d, n, func(id uint32, _, d, n int64) {
			switch id {
			case idTrackType:
				s.Video = readUint(d, n) == 1
			case idVideo:
				s.scanChildren(head, d, n, func(id uint32, _, d, n int64) {
					switch id {
					case idPixelWidth:
						s.Width = readUint(d, n)
					case idPixelHeight:
						s.Height = readUint(d, n)
					}
				})
			}
		})
	})
}

// scanCluster walks one Cluster; it returns the offset after it, or -1 if the file ends
// inside it with a torn element (goodEnd then marks the last whole block).
func (s *Info) scanCluster(r io.ReaderAt, head headFunc, start, data, n, end int64) int64 {
	cend := end
	if n >= 0 {
		cend = data + n
	}
	s.GoodEnd = data
	var bh [4]byte
	first := true
	for off := data; off < cend; {
		id, d, cn, ok := head(off)
		if !ok {
			return -1
		}
		switch id {
		case idTimestamp, idSimpleBlock, idBlockGroup, idVoid:
		default:
			if n < 0 { // an unknown-size Cluster ends at the first element that is not its child
				return off
			}
		}
		if cn < 0 || d+cn > end {
			return -1
		}
		switch id {
		case idTimestamp:
			b := make([]byte, cn)
			r.ReadAt(b, d)
			var v int64
			for _, c := range b {
				v = v<<8 | int64(c)
			}
			s.clusterTC = v
		case idSimpleBlock:
			if _, err := r.ReadAt(bh[:], d+1); err != nil || cn < 4 {
				return -1
			}
			tc := s.clusterTC + int64(int16(uint16(bh[0])<<8|uint16(bh[1])))
			key := bh[2]&0x80 != 0
			if first && key {
				s.cues = append(s.cues, cuePoint{pos: start - s.segData, tc: s.clusterTC})
			}
			first = false
			s.Frames++
			if key {
				s.Keyframes++
			}
			if s.FirstTC < 0 {
				s.FirstTC = tc
			}
			s.prevTC, s.LastTC = s.LastTC, tc
		}
		off = d + cn
		s.GoodEnd = off
	}
	return cend
}

// Resume reopens a file this package wrote and was killed while writing, after the
// caller has cut it at s.GoodEnd, so that Finish can close it out.
func Resume(f io.WriterAt, s *Info) *Writer {
	return &Writer{
		f: f, video: s.Video, pos: s.GoodEnd,
		segSizePos: s.segSizePos, segData: s.segData, seekVoidPos: s.seekVoidPos,
		infoPos: s.infoPos, tracksPos: s.tracksPos, durVoidPos: s.durVoidPos,
		cluster: s.cluster, clusterTC: s.clusterTC,
		lastTC: s.LastTC, prevTC: s.prevTC, frames: s.Frames, cues: s.cues,
	}
}
