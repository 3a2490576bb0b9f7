package webm

import (
	"encoding/binary"
	"math"
)

// A minimal EBML encoder (RFC 8794) for the few Matroska/WebM elements we write.
// We write our own rather than use ebml-go's webm.NewSimpleBlockWriter because that
// writer runs its own goroutines, buffers frames, and gives us no control over when
// bytes reach the disk or how a write error surfaces; evidence files need every frame
// written through at once, a periodic fsync, and an error returned to the caller.

// Element IDs (RFC 9559, Matroska; WebM uses a subset). IDs keep their length marker bits.
const (
	idEBML               = 0x1A45DFA3
	idEBMLVersion        = 0x4286
	idEBMLReadVersion    = 0x42F7
	idEBMLMaxIDLength    = 0x42F2
	idEBMLMaxSizeLength  = 0x42F3
	idDocType            = 0x4282
	idDocTypeVersion     = 0x4287
	idDocTypeReadVersion = 0x4285
	idVoid               = 0xEC

	idSegment      = 0x18538067
	idSeekHead     = 0x114D9B74
	idSeek         = 0x4DBB
	idSeekID       = 0x53AB
	idSeekPosition = 0x53AC

	idInfo           = 0x1549A966
	idTimestampScale = 0x2AD7B1
	idDuration       = 0x4489
	idDateUTC        = 0x4461
	idMuxingApp      = 0x4D80
	idWritingApp     = 0x5741

	idTracks            = 0x1654AE6B
	idTrackEntry        = 0xAE
	idTrackNumber       = 0xD7
	idTrackUID          = 0x73C5
	idTrackType         = 0x83
	idFlagLacing        = 0x9C
	idCodecID           = 0x86
	idCodecPrivate      = 0x63A2
	idCodecDelay        = 0x56AA
	idSeekPreRoll       = 0x56BB
	idName              = 0x536E
	idVideo             = 0xE0
	idPixelWidth        = 0xB0
	idPixelHeight       = 0xBA
	idAudio             = 0xE1
	idSamplingFrequency = 0xB5
	idChannels          = 0x9F

	idCluster     = 0x1F43B675
	idTimestamp   = 0xE7
	idSimpleBlock = 0xA3
	idBlockGroup  = 0xA0

	idCues               = 0x1C53BB6B
	idCuePoint           = 0xBB
	idCueTime            = 0xB3
	idCueTrackPositions  = 0xB7
	idCueTrack           = 0xF7
	idCueClusterPosition = 0xF1
)

// unknownSize is the 8-byte VINT with all value bits set: "size unknown" (RFC 8794 §6.2).
// A Segment or Cluster of unknown size ends where the file ends or where an element
// that cannot be its child begins, which is what makes a truncated file readable.
var unknownSize = [8]byte{0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}

func appendID(b []byte, id uint32) []byte {
	switch {
	case id >= 1<<24:
		return append(b, byte(id>>24), byte(id>>16), byte(id>>8), byte(id))
	case id >= 1<<16:
		return append(b, byte(id>>16), byte(id>>8), byte(id))
	case id >= 1<<8:
		return append(b, byte(id>>8), byte(id))
	}
	return append(b, byte(id))
}

// appendSize writes n as the shortest VINT. All-ones values are reserved, hence 2^(7k)-1.
func appendSize(b []byte, n uint64) []byte {
	for k := 1; k <= 8; k++ {
		if n < 1<<(7*k)-1 {
			v := n | 1<<(7*k) // length marker bit
			for i := k - 1; i >= 0; i-- {
				b = append(b, byte(v>>(8*i)))
			}
			return b
		}
	}
	panic("ebml: size too large")
}

// size8 encodes n as an 8-byte VINT, so a size can be patched in place later.
func size8(n uint64) [8]byte {
	var s [8]byte
	binary.BigEndian.PutUint64(s[:], n|1<<56)
	return s
}

func appendUint(b []byte, id uint32, v uint64) []byte {
	n := 1
	for n < 8 && v>>(8*n) != 0 {
		n++
	}
	b = appendID(b, id)
	b = appendSize(b, uint64(n))
	for i := n - 1; i >= 0; i-- {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

func appendInt(b []byte, id uint32, v int64) []byte {
	b = appendID(b, id)
	b = append(b, 0x88)
	return binary.BigEndian.AppendUint64(b, uint64(v))
}

func appendFloat(b []byte, id uint32, v float64) []byte {
	b = appendID(b, id)
	b = append(b, 0x88)
	return binary.BigEndian.AppendUint64(b, math.Float64bits(v))
}

func appendBytes(b []byte, id uint32, v []byte) []byte {
	b = appendID(b, id)
	b = appendSize(b, uint64(len(v)))
	return append(b, v...)
}

func appendString(b []byte, id uint32, v string) []byte {
	return appendBytes(b, id, []byte(v))
}

// appendMaster wraps already-encoded children in a master element of known size.
func appendMaster(b []byte, id uint32, children []byte) []byte {
	b = appendID(b, id)
	b = appendSize(b, uint64(len(children)))
	return append(b, children...)
}

// appendVoid writes a Void element (RFC 9559 §5.1.7) of exactly total bytes (total >= 2):
// reserved space that readers skip and that we overwrite at close.
func appendVoid(b []byte, total int) []byte {
	if total < 2 {
		panic("ebml: void too small")
	}
	if total-2 < 127 {
		b = append(b, idVoid, byte(0x80|(total-2)))
		return append(b, make([]byte, total-2)...)
	}
	b = append(b, idVoid)
	s := size8(uint64(total - 9))
	b = append(b, s[:]...)
	return append(b, make([]byte, total-9)...)
}

// readVint reads a VINT at b[0:]. It returns the value (marker removed), its length,
// and whether it is the reserved "unknown" value. n == 0 means b is too short or invalid.
func readVint(b []byte) (v uint64, n int, unknown bool) {
	if len(b) == 0 || b[0] == 0 {
		return 0, 0, false
	}
	for n = 1; n <= 8; n++ {
		if b[0]&(0x80>>(n-1)) != 0 {
			break
		}
	}
	if len(b) < n {
		return 0, 0, false
	}
	v = uint64(b[0] & (0xFF >> n))
	all := v == uint64(0xFF>>n)
	for i := 1; i < n; i++ {
		v = v<<8 | uint64(b[i])
		all = all && b[i] == 0xFF
	}
	return v, n, all
}

// readID reads an element ID (a VINT that keeps its marker bits).
func readID(b []byte) (id uint32, n int) {
	_, n, _ = readVint(b)
	if n == 0 || n > 4 {
		return 0, 0
	}
	for i := 0; i < n; i++ {
		id = id<<8 | uint32(b[i])
	}
	return id, n
}
