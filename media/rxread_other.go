//go:build !(linux && (amd64 || arm64))

package media

import (
	"net"
	"net/netip"
)

// rxReader reads the ICE UDP port one datagram at a time; fast-path media
// (rxfast.go) is delivered in the reading goroutine, read returns the rest.
type rxReader struct {
	conn *net.UDPConn
	fast *fastTable // nil: no fast path (tests)
	buf  [rxSlot]byte
	dst  [rxSlot]byte
}

// newRxReader: arrivals are not noted off Linux (no receive stamps).
func newRxReader(c *net.UDPConn, fast *fastTable, _ *arrivalTable) *rxReader {
	return &rxReader{conn: c, fast: fast}
}

// holdOn: a reader of one datagram per call has nothing to hold the batch for.
func (r *rxReader) holdOn(*batchConn) {}

func (r *rxReader) read() ([]byte, netip.AddrPort, error) {
	for {
		n, from, err := r.conn.ReadFromUDPAddrPort(r.buf[:])
		if err != nil {
			return nil, netip.AddrPort{}, err
		}
		from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
		if r.fast != nil && r.fast.take(r.buf[:n], from, r.dst[:]) {
			continue
		}
		return r.buf[:n], from, nil
	}
}

// listenRx opens the ICE UDP port as one socket (SO_REUSEPORT groups are a
// Linux feature here).
func listenRx(addr *net.UDPAddr, _ int) ([]*net.UDPConn, error) {
	c, err := net.ListenUDP("udp4", addr)
	if err != nil {
		return nil, err
	}
	return []*net.UDPConn{c}, nil
}
