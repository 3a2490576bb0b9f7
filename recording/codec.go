package recording

import (
	"encoding/binary"
	"strings"
)

// Codec mappings we record without transcoding. WebM allows VP8, VP9, AV1, Vorbis and
// Opus; the SFU forwards VP8, H264 and Opus, so H264 is refused here (it would need
// Matroska with an avcC built from SPS/PPS: a known gap, see doc.go).
const (
	mimeVP8  = "video/vp8"
	mimeOpus = "audio/opus"
)

type codecInfo struct {
	video   bool
	codecID string // Matroska CodecID
	clock   uint32 // RTP clock rate
	window  uint64 // jitter buffer window in packets (~300 ms at typical rates)
}

func lookupCodec(mime string) (codecInfo, bool) {
	switch strings.ToLower(mime) {
	case mimeVP8:
		// ~300 packets/s at 1 Mbit/s: 96 packets is about 300 ms of reordering tolerance.
		return codecInfo{video: true, codecID: "V_VP8", clock: 90000, window: 96}, true
	case mimeOpus:
		// 50 packets/s: 16 packets is about 300 ms.
		return codecInfo{codecID: "A_OPUS", clock: 48000, window: 16}, true
	}
	return codecInfo{}, false
}

// opusHead is the CodecPrivate of an Opus track (RFC 7845 §5.1, the Matroska Opus
// mapping): WebRTC Opus is negotiated as 48 kHz stereo, channel mapping family 0.
func opusHead() []byte {
	b := []byte("OpusHead")
	b = append(b, 1, 2)                            // version, channels
	b = binary.LittleEndian.AppendUint16(b, 0)     // pre-skip: RTP Opus carries none
	b = binary.LittleEndian.AppendUint32(b, 48000) // input sample rate (informational)
	b = binary.LittleEndian.AppendUint16(b, 0)     // output gain
	return append(b, 0)                            // mapping family
}

// vp8Keyframe reports whether a whole VP8 frame is a keyframe and, if so, its size
// (RFC 6386 §9.1: P bit 0 of the frame tag; start code 9d 01 2a; 14-bit width, height).
func vp8Keyframe(f []byte) (key bool, w, h int) {
	if len(f) < 3 || f[0]&0x01 != 0 {
		return false, 0, 0
	}
	if len(f) >= 10 && f[3] == 0x9d && f[4] == 0x01 && f[5] == 0x2a {
		w = int(binary.LittleEndian.Uint16(f[6:8]) & 0x3fff)
		h = int(binary.LittleEndian.Uint16(f[8:10]) & 0x3fff)
	}
	return true, w, h
}
