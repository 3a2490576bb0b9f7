//go:build linux && (amd64 || arm64)

package media

import (
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestRxStamps: a socket asked for SO_TIMESTAMPNS gets each datagram's kernel
// receive time in its control data, and rxStampNs finds it.
func TestRxStamps(t *testing.T) {
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	if err := enableRxStamps(raw); err != nil {
		t.Fatal(err)
	}
	s, err := net.DialUDP("udp4", nil, c.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	before := time.Now().UnixNano()
	if _, err := s.Write([]byte("stamp me")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64)
	oob := make([]byte, rxStampLen)
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, oobn, _, _, err := c.ReadMsgUDP(buf, oob)
	if err != nil {
		t.Fatal(err)
	}
	after := time.Now().UnixNano()
	ns := rxStampNs(oob[:oobn])
	if ns < before || ns > after {
		t.Errorf("stamp %d not within [%d, %d] (control data %x)", ns, before, after, oob[:oobn])
	}
	if rxStampNs(oob[:unix.SizeofCmsghdr-1]) != 0 || rxStampNs(nil) != 0 {
		t.Error("stamp found in truncated control data")
	}
}
