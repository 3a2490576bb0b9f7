package webm

import "testing"

// BenchmarkWriteFrame measures the writer alone (no disk, no jitter buffer): one
// 1000-byte video frame per op, a keyframe every 60, on an in-memory file.
func BenchmarkWriteFrame(b *testing.B) {
	f := &memFile{}
	w, err := NewWriter(f, Track{Video: true, CodecID: CodecVP8, Width: 640, Height: 360, UID: 1})
	if err != nil {
		b.Fatal(err)
	}
	frame := make([]byte, 1000)
	b.SetBytes(int64(len(frame)))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%4096 == 0 {
			f.b = f.b[:0] // keep the file small: offsets wrap, the cost is the same
			w.pos, w.cluster, w.cues = 0, -1, w.cues[:0]
		}
		if err := w.WriteFrame(int64(i)*33, i%60 == 0, frame); err != nil {
			b.Fatal(err)
		}
	}
}
