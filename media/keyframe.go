package media

import "strings"

// codecKind is what the forwarding path needs to know about a codec: whether
// and how to find keyframes in its payload.
type codecKind uint8

const (
	codecOther codecKind = iota // audio and unknown codecs: every packet is a switch point
	codecVP8
	codecH264
)

func codecKindOf(mime string) codecKind {
	switch strings.ToLower(mime) {
	case "video/vp8":
		return codecVP8
	case "video/h264":
		return codecH264
	}
	return codecOther
}

// isKeyframeStart reports whether payload is the first packet of a keyframe,
// the only place a subscriber can start decoding or switch layers.
func isKeyframeStart(k codecKind, payload []byte) bool {
	switch k {
	case codecVP8:
		return vp8KeyframeStart(payload)
	case codecH264:
		return h264KeyframeStart(payload)
	}
	return false
}

// vp8KeyframeStart parses the VP8 payload descriptor (RFC 7741 §4.2) and the
// first byte of the VP8 payload header (§4.3, RFC 6386 §9.1).
//
//	 0 1 2 3 4 5 6 7
//	|X|R|N|S|R| PID |  S: start of partition, PID: partition index
//	|I|L|T|K| RSV   |  (X) I: picture id, L: TL0PICIDX, T/K: TID/KEYIDX
//	|M| PictureID   |  (I) M: 15-bit picture id
//	|   PictureID   |  (M)
//	|   TL0PICIDX   |  (L)
//	|TID|Y| KEYIDX  |  (T or K)
//	|Size0|H| VER |P|  payload header: P = 0 on a key frame
func vp8KeyframeStart(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	// Keyframe data starts at the start of partition 0.
	if p[0]&0x10 == 0 || p[0]&0x07 != 0 {
		return false
	}
	i := 1
	if p[0]&0x80 != 0 { // X
		if len(p) < 2 {
			return false
		}
		x := p[1]
		i++
		if x&0x80 != 0 { // I
			if len(p) <= i {
				return false
			}
			if p[i]&0x80 != 0 { // M: two-byte picture id
				i++
			}
			i++
		}
		if x&0x40 != 0 { // L
			i++
		}
		if x&0x30 != 0 { // T or K
			i++
		}
	}
	if len(p) <= i {
		return false
	}
	return p[i]&0x01 == 0
}

// H.264 NAL unit types (ITU-T H.264 Table 7-1) and RFC 6184 aggregation types.
const (
	naluIDR  = 5
	naluSPS  = 7
	naluSTAP = 24
	naluFUA  = 28
)

// h264KeyframeStart finds an SPS or the start of an IDR slice (RFC 6184 §5.6-5.8).
// Browsers send SPS and PPS right before each IDR, so the SPS is the switch point.
func h264KeyframeStart(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	switch t := p[0] & 0x1f; t {
	case naluIDR, naluSPS:
		return true
	case naluSTAP:
		for i := 1; i+2 < len(p); {
			n := int(p[i])<<8 | int(p[i+1])
			i += 2
			if i >= len(p) {
				return false
			}
			if nt := p[i] & 0x1f; nt == naluIDR || nt == naluSPS {
				return true
			}
			i += n
		}
	case naluFUA:
		if len(p) < 2 {
			return false
		}
		start := p[1]&0x80 != 0
		nt := p[1] & 0x1f
		return start && (nt == naluIDR || nt == naluSPS)
	}
	return false
}

// Simulcast layers, low to high. LiveKit clients use rids q, h, f; other
// clients number them.
const maxLayers = 3

// layerIndex maps a rid to a spatial layer index; ok is false for a rid we do
// not know, which AddLayer then puts in the first free slot.
func layerIndex(rid string) (int, bool) {
	switch rid {
	case "", "q", "0", "l", "low":
		return 0, true
	case "h", "1", "m", "mid":
		return 1, true
	case "f", "2", "hi", "high":
		return 2, true
	}
	return 0, false
}
