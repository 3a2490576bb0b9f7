package webm

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzWebMScan (issue 12 reliability campaign): Scan walks any bytes (a torn write, a
// damaged disk) without panicking or allocating what a damaged size says, and what it
// reports lies within the file. Its corpus keeps the input that once made it allocate
// 256 TB.
func FuzzWebMScan(f *testing.F) {
	f.Add(sampleWebM(f, true))
	f.Add(sampleWebM(f, false))
	f.Add([]byte{0x1a, 0x45, 0xdf, 0xa3, 0x80})
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Scan(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			return
		}
		if s.GoodEnd < 0 || s.GoodEnd > int64(len(data)) {
			t.Fatalf("good end %d outside a file of %d bytes", s.GoodEnd, len(data))
		}
		if s.Keyframes > s.Frames {
			t.Fatalf("%d keyframes of %d frames", s.Keyframes, s.Frames)
		}
	})
}

// sampleWebM writes a small WebM file with this package's writer.
func sampleWebM(tb testing.TB, video bool) []byte {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "t.webm")
	fh, err := os.Create(path)
	if err != nil {
		tb.Fatal(err)
	}
	tr := Track{Video: true, CodecID: CodecVP8, Width: 64, Height: 48}
	if !video {
		tr = Track{CodecID: CodecOpus, Channels: 2, CodecPrivate: OpusHead()}
	}
	w, err := NewWriter(fh, tr)
	if err != nil {
		tb.Fatal(err)
	}
	for i := int64(0); i < 40; i++ {
		if err := w.WriteFrame(i*100, i%10 == 0, []byte{byte(i), 1, 2, 3, 4, 5}); err != nil {
			tb.Fatal(err)
		}
	}
	if err := w.Finish(); err != nil {
		tb.Fatal(err)
	}
	_ = fh.Close()
	b, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}
