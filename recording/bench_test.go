package recording

import (
	"testing"

	"github.com/pion/rtp"
)

// BenchmarkTrackWriterVP8 measures the recorder's cost per RTP packet (jitter buffer,
// depacketizing, WebM writing through to the file, the per-second fsync).
func BenchmarkTrackWriterVP8(b *testing.B) {
	c := testClip(b)
	vp := c.videoPackets()
	var pkts []*rtp.Packet
	for _, f := range vp {
		pkts = append(pkts, f...)
	}
	var bytes int64
	for _, p := range pkts {
		bytes += int64(len(p.Payload))
	}
	s, err := OpenSession(b.TempDir(), SessionMeta{Case: "c", Session: "s"}, testLogger(b))
	if err != nil {
		b.Fatal(err)
	}
	w, err := s.NewTrackWriter(TrackMeta{Identity: "a", TrackSID: "v", MimeType: "video/VP8"})
	if err != nil {
		b.Fatal(err)
	}
	n := len(pkts)
	frames := len(vp)
	q := make([]rtp.Packet, n)
	b.SetBytes(bytes / int64(n))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		loop, k := i/n, i%n
		p := &q[k]
		*p = *pkts[k]
		p.SequenceNumber += uint16(loop * n)
		p.Timestamp += uint32(loop*frames) * 3000
		if err := w.WriteRTP(p); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	w.Close()
}
