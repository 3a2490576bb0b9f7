//go:build linux && (amd64 || arm64)

package media

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// gsoSizes is what destination d sends as its i-th datagram: runs of equal
// sizes with a shorter last one (a VP8 frame from Pion's payloader), runs
// broken by a longer one, single small ones (audio, RTCP), and a size that
// changes by one byte (libwebrtc's balanced packets).
func gsoSizes(d, i int) int {
	switch d % 4 {
	case 0:
		if i%6 == 5 {
			return 300 + i%7
		}
		return 1200
	case 1:
		return []int{1100, 1100, 1250, 1250, 90, 1250}[i%6]
	case 2:
		return 120 + i%2 // never equal twice in a row, but the last may be shorter
	default:
		return 20 + (i*37)%1400
	}
}

func gsoDatagram(buf []byte, d, i int) []byte {
	n := gsoSizes(d, i)
	p := buf[:n]
	binary.BigEndian.PutUint32(p, uint32(d))
	binary.BigEndian.PutUint32(p[4:], uint32(i))
	for k := 8; k < n; k++ {
		p[k] = byte(d*31 + i*7 + k)
	}
	return p
}

// runGSOTraffic sends passes of datagrams to dests receivers (interleaved,
// as a fan-out pass of several packets queues them; more than a batch per
// pass), and checks that each receiver gets every datagram once, intact, in
// the order sent to it.
func runGSOTraffic(t *testing.T, c *batchConn, dests, passes, perDest int) {
	t.Helper()
	type rxState struct {
		conn *net.UDPConn
		to   netip.AddrPort
		mu   sync.Mutex
		next int // the index the next datagram must have
		errs []string
	}
	rxs := make([]*rxState, dests)
	var wg sync.WaitGroup
	for d := range dests {
		rx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			t.Fatal(err)
		}
		if err := rx.SetReadBuffer(4 << 20); err != nil {
			t.Fatal(err)
		}
		s := &rxState{conn: rx, to: rx.LocalAddr().(*net.UDPAddr).AddrPort()}
		rxs[d] = s
		wg.Add(1)
		go func() { // ends when rx is closed
			defer wg.Done()
			buf := make([]byte, 2048)
			want := make([]byte, 2048)
			for {
				n, _, err := rx.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				s.mu.Lock()
				w := gsoDatagram(want, d, s.next)
				switch {
				case n < 8:
					s.errs = append(s.errs, fmt.Sprintf("datagram of %d bytes", n))
				case int(binary.BigEndian.Uint32(buf[4:])) != s.next:
					s.errs = append(s.errs, fmt.Sprintf("got datagram %d, want %d", binary.BigEndian.Uint32(buf[4:]), s.next))
				case !slices.Equal(buf[:n], w):
					s.errs = append(s.errs, fmt.Sprintf("datagram %d: %d bytes, want %d, or its bytes differ", s.next, n, len(w)))
				}
				s.next++
				s.mu.Unlock()
			}
		}()
	}
	defer func() {
		for _, s := range rxs {
			s.conn.Close()
		}
		wg.Wait()
	}()

	buf := make([]byte, 2048)
	sent := 0
	for range passes {
		c.beginPass()
		for i := sent; i < sent+perDest; i++ {
			for d, s := range rxs {
				if _, err := c.WriteToAddrPort(gsoDatagram(buf, d, i), s.to); err != nil {
					t.Fatalf("write: %v", err)
				}
			}
		}
		c.endPass()
		sent += perDest
		for d, s := range rxs {
			ok := waitUntil(10*time.Second, func() bool {
				s.mu.Lock()
				defer s.mu.Unlock()
				return s.next >= sent || len(s.errs) > 0
			})
			s.mu.Lock()
			if !ok {
				t.Fatalf("destination %d: %d of %d datagrams arrived", d, s.next, sent)
			}
			if len(s.errs) > 0 {
				t.Fatalf("destination %d: %v", d, s.errs[:min(5, len(s.errs))])
			}
			s.mu.Unlock()
		}
	}
}

// TestGSOSend: datagrams to several destinations, of mixed sizes, more than a
// batch, sent through UDP GSO on real sockets, arrive as the datagrams they
// were, in order per destination; and GSO did carry several per message.
func TestGSOSend(t *testing.T) {
	tx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c := newBatchConn(tx)
	defer c.Close()
	if !c.sys.gso.on.Load() {
		t.Skip("this kernel has no UDP_SEGMENT")
	}
	const dests, passes, perDest = 9, 4, 30 // 270 datagrams a pass: more than batchLen
	runGSOTraffic(t, c, dests, passes, perDest)
	msgs, segs := c.sys.gsoCounts()
	if msgs == 0 || segs < 2*msgs {
		t.Fatalf("GSO messages %d carrying %d datagrams: GSO was not used", msgs, segs)
	}
	if !c.sys.gso.on.Load() {
		t.Fatal("GSO turned off")
	}
	if got, want := c.sent.Load(), uint64(dests*passes*perDest); got != want {
		t.Fatalf("%d datagrams counted as sent, want %d", got, want)
	}
	t.Logf("%d send calls, %d GSO messages carrying %d datagrams", c.calls.Load(), msgs, segs)
}

// TestGSOFallback: a socket on which the kernel refuses GSO (SO_NO_CHECK:
// UDP without checksums cannot be segmented) still delivers everything, in
// order, as plain datagrams, and GSO stays off.
func TestGSOFallback(t *testing.T) {
	tx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	c := newBatchConn(tx)
	defer c.Close()
	if !c.sys.gso.on.Load() {
		t.Skip("this kernel has no UDP_SEGMENT")
	}
	var serr error
	if err := c.sys.raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_NO_CHECK, 1)
	}); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	runGSOTraffic(t, c, 5, 3, 20)
	if c.sys.gso.on.Load() {
		t.Fatal("GSO still on after the kernel refused it")
	}
	if msgs, _ := c.sys.gsoCounts(); msgs != 0 {
		t.Fatalf("%d GSO messages counted on a socket that refuses GSO", msgs)
	}
}

// TestGSOPlan: how a batch is cut into messages.
func TestGSOPlan(t *testing.T) {
	b := newSendBatch()
	a := netip.MustParseAddrPort("127.0.0.1:1000")
	o := netip.MustParseAddrPort("127.0.0.2:1000")
	p := netip.MustParseAddrPort("127.0.0.1:1001")
	buf := make([]byte, 1500)
	for _, q := range []struct {
		n  int
		to netip.AddrPort
	}{
		{1200, a}, {1200, o}, {1200, a}, {50, p}, {1200, a}, {700, a}, {1200, a}, {1200, a},
		{1300, a}, {100, o}, {100, o}, {100, o}, {90, o},
	} {
		b.put(buf[:q.n], q.to)
	}
	b.planGSO()
	var got []string
	for i, h := range b.g.msgs {
		var sizes []uint64
		first := int(b.g.first[i])
		for k := range int(h.hdr.Iovlen) {
			sizes = append(sizes, b.g.iovs[first+k].Len)
		}
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(h.hdr.Name))
		got = append(got, fmt.Sprintf("%d.%d:%d %v ctrl=%d", sa.Addr[0], sa.Addr[3], sa.Port>>8|sa.Port<<8, sizes, h.hdr.Controllen))
	}
	want := []string{
		"127.1:1000 [1200 1200 1200 700] ctrl=24",
		"127.1:1000 [1200 1200] ctrl=24",
		"127.1:1000 [1300] ctrl=0",
		"127.2:1000 [1200 100] ctrl=24",
		"127.2:1000 [100 100 90] ctrl=24",
		"127.1:1001 [50] ctrl=0",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("messages:\n%s\nwant:\n%s", got, want)
	}
}
