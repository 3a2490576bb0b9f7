//go:build linux

package weaklinks_test

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/pion/rtp"

	"yizhan/internal/lktest"
)

// The subscriber runs as this test binary again, inside namespace B (ip netns
// exec), in helper mode: it joins, counts what arrives and prints a sample
// every 200 ms on stdout until its stdin closes.

const helperEnv = "YIZHAN_WEAKLINK_HELPER"

// sample is what the subscriber saw so far (cumulative).
type sample struct {
	Ms          int64  `json:"ms"`           // since the helper started
	VideoBytes  int64  `json:"video_bytes"`  // video received
	AudioPkts   int64  `json:"audio_pkts"`   // distinct audio packets received
	AudioFrames int64  `json:"audio_frames"` // distinct audio frames recovered (primary or RED redundancy)
	AudioMax    uint32 `json:"audio_max"`    // highest frame counter seen
	AudioMin    uint32 `json:"audio_min"`    // first frame counter seen
	SeqMax      int64  `json:"seq_max"`      // highest audio sequence number (extended)
	SeqMin      int64  `json:"seq_min"`
}

func runHelper() {
	url, token := os.Getenv("YZ_URL"), os.Getenv("YZ_TOKEN")
	c, err := lktest.Connect(url, token, lktest.WithRED())
	if err != nil {
		fmt.Fprintln(os.Stderr, "helper connect:", err)
		os.Exit(2)
	}
	defer c.Close()
	var (
		mu     sync.Mutex
		s      sample
		frames = map[uint32]bool{}
		seqs   = map[uint16]bool{}
		ext    seqExt
	)
	s.AudioMin, s.SeqMin = ^uint32(0), -1
	start := time.Now()
	c.SetPacketHook(func(_, kind string, pkt []byte) {
		var p rtp.Packet
		if p.Unmarshal(pkt) != nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if kind == "video" {
			s.VideoBytes += int64(len(pkt))
			return
		}
		e := ext.unwrap(p.SequenceNumber)
		if !seqs[p.SequenceNumber] {
			seqs[p.SequenceNumber] = true
			s.AudioPkts++
		}
		s.SeqMax = max(s.SeqMax, e)
		if s.SeqMin < 0 {
			s.SeqMin = e
		}
		for _, f := range redFrames(p.Payload) {
			if !frames[f] {
				frames[f] = true
				s.AudioFrames++
			}
			s.AudioMax = max(s.AudioMax, f)
			s.AudioMin = min(s.AudioMin, f)
		}
	})
	done := make(chan struct{})
	go func() { // stdin closes when the test is done with us
		_, _ = bufio.NewReader(os.Stdin).ReadString(0)
		close(done)
	}()
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	enc := json.NewEncoder(os.Stdout)
	for {
		select {
		case <-done:
			return
		case <-tick.C:
		}
		mu.Lock()
		s.Ms = time.Since(start).Milliseconds()
		out := s
		if len(seqs) > 30000 { // forget old sequence numbers before they wrap
			seqs = map[uint16]bool{}
		}
		mu.Unlock()
		_ = enc.Encode(out)
	}
}

// redFrames lists the frame counters a payload carries: the primary and any
// redundant block (RFC 2198), or the one frame of a plain Opus payload.
func redFrames(payload []byte) []uint32 {
	var out []uint32
	frame := func(b []byte) {
		if len(b) >= 6 && b[0] == 0xfc && b[1] == 'P' {
			out = append(out, binary.BigEndian.Uint32(b[2:6]))
		}
	}
	if len(payload) > 0 && payload[0] == 0xfc {
		frame(payload)
		return out
	}
	off := 0
	var lens []int
	for off < len(payload) && payload[off]&0x80 != 0 {
		if off+4 > len(payload) {
			return out
		}
		lens = append(lens, int(payload[off+2]&0x03)<<8|int(payload[off+3]))
		off += 4
	}
	off++ // the primary's header
	for _, l := range lens {
		if off+l > len(payload) {
			return out
		}
		frame(payload[off : off+l])
		off += l
	}
	if off <= len(payload) {
		frame(payload[off:])
	}
	return out
}

// seqExt extends 16-bit sequence numbers.
type seqExt struct {
	started bool
	high    int64
}

func (s *seqExt) unwrap(seq uint16) int64 {
	if !s.started {
		s.started, s.high = true, 1<<16|int64(seq)
		return s.high
	}
	e := s.high + int64(int16(seq-uint16(s.high)))
	s.high = max(s.high, e)
	return e
}
