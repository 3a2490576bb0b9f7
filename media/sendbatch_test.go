package media

import (
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"
)

// TestBatchConn: datagrams written during overlapping passes (several read
// loops at once), outside passes, and more than a batch holds in one pass all
// arrive once, and a pass sends them with far fewer system calls than
// datagrams.
func TestBatchConn(t *testing.T) {
	rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	_ = rx.SetReadBuffer(4 << 20)
	tx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c := newBatchConn(tx)
	defer c.Close()
	to := rx.LocalAddr().(*net.UDPAddr).AddrPort()

	const writers, passes, perPass = 4, 20, 100 // perPass > batchLen: a full batch goes early
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() { // ends after its passes
			defer wg.Done()
			buf := make([]byte, 1200)
			for p := range passes {
				c.beginPass()
				for i := range perPass {
					binary.BigEndian.PutUint32(buf, uint32(w<<24|p<<12|i))
					if n, err := c.WriteToAddrPort(buf, to); err != nil || n != len(buf) {
						t.Errorf("write: %d %v", n, err)
					}
				}
				c.endPass()
				// One datagram outside any pass goes straight out.
				binary.BigEndian.PutUint32(buf, uint32(w<<24|p<<12|0xfff))
				if _, err := c.WriteToAddrPort(buf, to); err != nil {
					t.Errorf("write outside a pass: %v", err)
				}
			}
		}()
	}
	want := writers * passes * (perPass + 1)
	got := map[uint32]int{}
	_ = rx.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 1500)
	for len(got) < want {
		n, _, err := rx.ReadFromUDPAddrPort(buf)
		if err != nil {
			t.Fatalf("after %d of %d datagrams: %v", len(got), want, err)
		}
		if n != 1200 {
			t.Fatalf("datagram of %d bytes", n)
		}
		got[binary.BigEndian.Uint32(buf)]++
	}
	wg.Wait()
	for k, n := range got {
		if n != 1 {
			t.Errorf("datagram %x arrived %d times", k, n)
		}
	}
	calls, batched := c.calls.Load(), c.sent.Load()
	// Writes outside a pass are batched too while another writer's pass is open.
	if batched < writers*passes*perPass || batched > uint64(want) {
		t.Errorf("%d datagrams sent in batches, want %d..%d", batched, writers*passes*perPass, want)
	}
	if calls > uint64(want)/10 {
		t.Errorf("%d send calls for %d datagrams", calls, want)
	}
	t.Logf("%d datagrams, %d send calls", want, calls)
}
