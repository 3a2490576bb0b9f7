package media

import (
	"strconv"
	"strings"

	"github.com/pion/webrtc/v4"
)

// RED (RFC 2198) carries each Opus frame twice: in its own packet and again,
// as redundancy, in the next one. A subscriber that loses one packet in a
// row still plays every frame; livekit-client publishes audio that way
// (red: true) when the server's answer prefers audio/red. We forward RED as
// it came to subscribers that negotiated it, and the primary Opus frame to
// those that did not (the Go SDK, recorders).

// ptRED is what Chrome offers for audio/red; its fmtp names Opus twice
// (primary and one redundant block).
const ptRED = 63

// MimeTypeRED is RED's MIME type.
const MimeTypeRED = "audio/red"

func redCap() webrtc.RTPCodecCapability {
	return webrtc.RTPCodecCapability{MimeType: MimeTypeRED, ClockRate: 48000, Channels: 2, SDPFmtpLine: "111/111", RTCPFeedback: audioFB}
}

// audioFB is the feedback audio gets: NACK, so a lost frame can still come
// in time when the round trip is short, and transport-wide cc.
var audioFB = []webrtc.RTCPFeedback{{Type: "nack"}, {Type: webrtc.TypeRTCPFBTransportCC}}

func isRED(mime string) bool { return strings.EqualFold(mime, MimeTypeRED) }

// ContentMimeType is what a track carries for those who read it: Opus for
// RED (its primary blocks are Opus), the codec itself otherwise.
func ContentMimeType(c webrtc.RTPCodecParameters) string {
	if isRED(c.MimeType) {
		return webrtc.MimeTypeOpus
	}
	return c.MimeType
}

// PreferRED makes an audio transceiver of a publisher's connection answer
// with audio/red first, so that a client offering it (Chrome, with
// livekit-client's red: true) sends redundant audio. Call it between the
// remote offer and the answer. Transceivers whose offer lacks RED keep Opus;
// those whose mid is in noRED (the track asked for none) answer Opus alone.
func PreferRED(pc *webrtc.PeerConnection, noRED map[string]bool) {
	for _, tr := range pc.GetTransceivers() {
		if tr.Kind() != webrtc.RTPCodecTypeAudio || tr.Receiver() == nil {
			continue
		}
		prefs := []webrtc.RTPCodecParameters{
			{RTPCodecCapability: redCap()},
			{RTPCodecCapability: opusCap()},
		}
		if noRED[tr.Mid()] {
			prefs = prefs[1:]
		}
		_ = tr.SetCodecPreferences(prefs)
	}
}

// redPrimary returns the primary block of a RED payload: after the block
// headers (4 bytes each with the F bit set, then one byte for the last), the
// redundant blocks, then the primary. ok is false for a malformed payload.
func redPrimary(payload []byte) (primary []byte, ok bool) {
	off, redundant := 0, 0
	for {
		if off >= len(payload) {
			return nil, false
		}
		if payload[off]&0x80 == 0 {
			off++ // the last header: F = 0, then the primary's payload type
			break
		}
		if off+4 > len(payload) {
			return nil, false
		}
		redundant += int(payload[off+2]&0x03)<<8 | int(payload[off+3])
		off += 4
	}
	start := off + redundant
	if start > len(payload) {
		return nil, false
	}
	return payload[start:], true
}

// opusFallback finds Opus among a subscriber's negotiated codecs, for a RED
// track it gets stripped to its primary blocks; nil when there is none.
func opusFallback(cs []webrtc.RTPCodecParameters) *webrtc.RTPCodecParameters {
	for _, c := range cs {
		if strings.EqualFold(c.MimeType, webrtc.MimeTypeOpus) {
			return &c
		}
	}
	return nil
}

// redInnerPT is the payload type a RED subscriber expects inside RED
// (RFC 2198 §3 names each block's type): its Opus, as the RED fmtp line of
// its session says ("111/111"). 0 when the track is not RED to it.
//
// The publisher numbers the blocks with its own Opus payload type (Chrome
// 111, others 109 or anything dynamic), and what its session's fmtp says
// about RED need not tell: Pion answers with our fmtp. So the forwarding
// path reads the blocks' type from each packet and renames it when it
// differs (redRemap).
func redInnerPT(up, sub webrtc.RTPCodecParameters) uint8 {
	if !isRED(up.MimeType) || !isRED(sub.MimeType) {
		return 0
	}
	first, _, _ := strings.Cut(strings.TrimSpace(sub.SDPFmtpLine), "/")
	if n, err := strconv.Atoi(first); err == nil && n > 0 && n < 128 {
		return uint8(n)
	}
	return ptOpus
}

// redRemap returns payload with every block header's payload type set to
// pt: as it is when they all are already (no copy: the common case), else a
// copy in dst (a scratch buffer: the shared packet is never written). A
// malformed payload goes out as it came.
func redRemap(dst, payload []byte, pt uint8) []byte {
	same, off := true, 0
	for ; off < len(payload); off += 4 {
		same = same && payload[off]&0x7f == pt
		if payload[off]&0x80 == 0 {
			break
		}
	}
	if same || off >= len(payload) || len(payload) > cap(dst) {
		return payload
	}
	out := append(dst, payload...)
	for i := 0; i <= off; i += 4 {
		out[i] = out[i]&0x80 | pt
	}
	return out
}
