package media

import (
	"encoding/binary"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestBatchConn: datagrams written during overlapping passes (several read
// loops at once), outside passes, and more than a batch holds in one pass all
// arrive once, and a pass sends them with far fewer system calls than
// datagrams. Each writer waits for its receiver after a pass, so that a
// loaded machine does not overflow the receive buffer (loopback UDP drops then).
func TestBatchConn(t *testing.T) {
	const writers, passes, perPass, size = 4, 20, 70, 200 // perPass > batchLen: a full batch goes early
	tx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c := newBatchConn(tx)
	defer c.Close()

	var mu sync.Mutex // guards got
	got := map[uint32]int{}
	var rxCount [writers]atomic.Int64
	var rxDone sync.WaitGroup
	for w := range writers {
		rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		defer rx.Close()
		to := rx.LocalAddr().(*net.UDPAddr).AddrPort()
		rxDone.Add(2)
		go func() { // ends when rx is closed
			defer rxDone.Done()
			buf := make([]byte, 1500)
			for {
				n, _, err := rx.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				if n != size {
					t.Errorf("datagram of %d bytes", n)
				}
				mu.Lock()
				got[binary.BigEndian.Uint32(buf)]++
				mu.Unlock()
				rxCount[w].Add(1)
			}
		}()
		go func() { // ends after its passes
			defer rxDone.Done()
			buf := make([]byte, size)
			for p := range passes {
				c.beginPass()
				for i := range perPass {
					binary.BigEndian.PutUint32(buf, uint32(w<<24|p<<12|i))
					if n, err := c.WriteToAddrPort(buf, to); err != nil || n != len(buf) {
						t.Errorf("write: %d %v", n, err)
					}
				}
				c.endPass()
				// One datagram outside this writer's pass.
				binary.BigEndian.PutUint32(buf, uint32(w<<24|p<<12|0xfff))
				if _, err := c.WriteToAddrPort(buf, to); err != nil {
					t.Errorf("write outside a pass: %v", err)
				}
				want := int64((p + 1) * (perPass + 1))
				if !waitUntil(10*time.Second, func() bool { return rxCount[w].Load() >= want }) {
					t.Errorf("writer %d pass %d: %d of %d datagrams arrived", w, p, rxCount[w].Load(), want)
					rx.Close()
					return
				}
			}
			rx.Close()
		}()
	}
	rxDone.Wait()
	want := writers * passes * (perPass + 1)
	if len(got) != want {
		t.Errorf("%d distinct datagrams arrived, want %d", len(got), want)
	}
	for k, n := range got {
		if n != 1 {
			t.Errorf("datagram %x arrived %d times", k, n)
		}
	}
	calls, batched := c.calls.Load(), c.sent.Load()
	if batched != uint64(want) {
		t.Errorf("%d datagrams sent in batches, want %d", batched, want)
	}
	if calls > uint64(want)/10 {
		t.Errorf("%d send calls for %d datagrams", calls, want)
	}
	t.Logf("%d datagrams, %d send calls", want, calls)
}

func waitUntil(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}
