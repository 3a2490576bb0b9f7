package media

import (
	"encoding/binary"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestPassHold: while a reader holds the batch, fan-out passes that end (its
// own, nested, and another goroutine's, as a fan-out worker's) send nothing;
// a batch that fills up still goes at once; the hold's end sends the rest,
// every datagram arrives once, and the held passes' latency samples are
// recorded then, not lost.
func TestPassHold(t *testing.T) {
	tx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c := newBatchConn(tx)
	defer c.Close()
	rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer rx.Close()
	if err := rx.SetReadBuffer(4 << 20); err != nil {
		t.Fatal(err)
	}
	to := rx.LocalAddr().(*net.UDPAddr).AddrPort()
	var got sync.Map
	var n atomic.Int64
	go func() { // ends when rx is closed
		buf := make([]byte, 1500)
		for {
			k, _, err := rx.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if _, dup := got.LoadOrStore(binary.BigEndian.Uint32(buf[:k]), true); dup {
				t.Errorf("datagram %d twice", binary.BigEndian.Uint32(buf[:k]))
			}
			n.Add(1)
		}
	}()
	seq := uint32(0)
	write := func(k int) {
		buf := make([]byte, 200)
		for range k {
			binary.BigEndian.PutUint32(buf, seq)
			seq++
			if _, err := c.WriteToAddrPort(buf, to); err != nil {
				t.Fatal(err)
			}
		}
	}
	var stats counters

	c.beginHold()
	c.beginPass()
	write(5)
	c.endPassSample(&stats, 1000, time.Now().UnixNano())
	done := make(chan struct{})
	go func() { // a worker's pass, on another goroutine
		defer close(done)
		c.beginPass()
		write(5)
		c.endPass()
	}()
	<-done
	c.beginPass()
	write(3)
	c.endPass()
	if calls := c.calls.Load(); calls != 0 {
		t.Fatalf("%d send calls while the batch was held", calls)
	}
	if s := stats.fwdLatency.snapshot(); s.Count != 0 {
		t.Fatalf("a held pass's latency was recorded before its batch left")
	}
	c.beginPass()
	write(batchLen) // fills the batch: it goes without waiting for the hold
	c.endPass()
	if calls := c.calls.Load(); calls == 0 {
		t.Fatal("a full batch waited for the hold")
	}
	c.endHold()
	want := int64(13 + batchLen)
	if !waitUntil(10*time.Second, func() bool { return n.Load() >= want }) {
		t.Fatalf("%d of %d datagrams arrived", n.Load(), want)
	}
	if s := stats.fwdLatency.snapshot(); s.Count != 1 {
		t.Fatalf("%d forwarding latency samples after the hold, want 1", s.Count)
	}
	if s := stats.addedLatency.snapshot(); s.Count != 1 {
		t.Fatalf("%d added latency samples after the hold, want 1", s.Count)
	}
	// Without a hold, a pass sends when it ends.
	before := c.calls.Load()
	c.beginPass()
	write(2)
	c.endPass()
	if c.calls.Load() == before {
		t.Fatal("a pass without a hold did not send")
	}
}
