package media

import (
	"encoding/binary"
	"net"
	"net/netip"
	"testing"
	"time"
)

// TestMuxConnRead: what the ICE mux reads from the port, with one socket
// (read in the mux's loop) and with three (SO_REUSEPORT on Linux, pumped
// through the queue), is every datagram once, whole, with its sender's
// address, and each sender's datagrams in order; closing the port ends the
// read with an error and stops the pumps.
func TestMuxConnRead(t *testing.T) {
	for _, k := range []int{1, 3} {
		t.Run("sockets="+string(rune('0'+k)), func(t *testing.T) {
			defer checkGoroutines(t)()
			conns, err := listenRx(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, k)
			if err != nil {
				t.Fatal(err)
			}
			port := conns[0].LocalAddr().(*net.UDPAddr).AddrPort()
			for _, c := range conns {
				if a := c.LocalAddr().(*net.UDPAddr).AddrPort(); a != port {
					t.Fatalf("socket on %v, want %v", a, port)
				}
			}
			c := newMuxConn(conns, newBatchConn(conns[0]), nil)
			const senders, each = 8, 40
			var from [senders]netip.AddrPort
			for s := range senders {
				tx, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Close()
				from[s] = tx.LocalAddr().(*net.UDPAddr).AddrPort()
				go func() { // ends after its datagrams
					msg := make([]byte, 300)
					for i := range each {
						binary.BigEndian.PutUint32(msg, uint32(s<<16|i))
						if _, err := tx.WriteToUDPAddrPort(msg, port); err != nil {
							return
						}
						time.Sleep(time.Millisecond) // loopback drops what overflows the socket buffer
					}
				}()
			}
			next := map[netip.AddrPort]int{}
			buf := make([]byte, 1500)
			for range senders * each {
				n, addr, err := c.ReadFromAddrPort(buf)
				if err != nil || n != 300 {
					t.Fatalf("read %d bytes: %v", n, err)
				}
				v := binary.BigEndian.Uint32(buf)
				s, i := int(v>>16), int(v&0xffff)
				if s >= senders || from[s] != addr {
					t.Fatalf("datagram of sender %d from %v", s, addr)
				}
				if i != next[addr] {
					t.Fatalf("sender %d: datagram %d, want %d", s, i, next[addr])
				}
				next[addr]++
			}
			done := make(chan error, 1)
			go func() { // ends when the read fails
				_, _, err := c.ReadFromAddrPort(buf)
				done <- err
			}()
			time.Sleep(20 * time.Millisecond)
			if err := c.Close(); err != nil {
				t.Error("close:", err)
			}
			select {
			case err := <-done:
				if err == nil {
					t.Error("read on a closed port: no error")
				}
			case <-time.After(5 * time.Second):
				t.Fatal("read did not end on close")
			}
		})
	}
}
