package framer

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/pion/rtp"
)

func TestJitterBuffer(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []uint16 // sequence numbers as they arrive
		want string   // what comes out: numbers, and "L<n>" for n given up on
	}{
		{"in order", []uint16{10, 11, 12}, "10 11 12"},
		{"swap", []uint16{10, 12, 11, 13}, "10 11 12 13"},
		{"wraps", []uint16{65534, 65535, 0, 1}, "65534 65535 0 1"},
		{"reordered across wrap", []uint16{65535, 1, 0, 2}, "65535 0 1 2"},
		{"late after given up", []uint16{1, 3, 4, 5, 6, 2, 7}, "1 L1 3 4 5 6 7"},
		{"duplicate", []uint16{1, 2, 2, 3}, "1 2 3"},
		{"loss flushed at close", []uint16{1, 3}, "1 L1 3"},
		// the last window-1 missing before 500 are waited for, then given up on one by one
		{"jump within range", []uint16{1, 500, 501}, "1 L495 L1 L2 500 501"},
		{"restart", []uint16{100, 101, 40000, 40001}, "100 101 L0 40000 40001"},
		{"restart backwards", []uint16{40000, 40001, 100, 101}, "40000 40001 L0 100 101"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			j := NewBuffer(4)
			var out []string
			emit := func(s *Packet) { out = append(out, fmt.Sprint(uint16(s.Seq))) }
			lost := func(n uint64) { out = append(out, fmt.Sprintf("L%d", n)) }
			for _, seq := range tc.in {
				j.Push(&rtp.Packet{Header: rtp.Header{SequenceNumber: seq}, Payload: []byte{1}}, 0, emit, lost)
			}
			j.Flush(emit, lost)
			if got := strings.Join(out, " "); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
