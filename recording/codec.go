package recording

import (
	"strings"

	"yizhan/recording/webm"
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
		return codecInfo{video: true, codecID: webm.CodecVP8, clock: 90000, window: 96}, true
	case mimeOpus:
		// 50 packets/s: 16 packets is about 300 ms.
		return codecInfo{codecID: webm.CodecOpus, clock: 48000, window: 16}, true
	}
	return codecInfo{}, false
}
