//go:build linux && (amd64 || arm64)

package media

import (
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Kernel receive stamps for the socket readers (rxread_linux.go, recvmmsg):
// the socket asks for SO_TIMESTAMPNS, and each datagram's control data then
// carries its receive time, which the reader notes in the arrivalTable
// (latency.go) for the added latency.

// rxStampLen is the control buffer a datagram's stamp needs: one cmsghdr and
// a timespec, with room to spare.
const rxStampLen = 64

// enableRxStamps asks the kernel to stamp every datagram the socket receives.
func enableRxStamps(raw syscall.RawConn) error {
	var serr error
	if err := raw.Control(func(fd uintptr) {
		serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1)
	}); err != nil {
		return err
	}
	return serr
}

// rxStampNs finds SCM_TIMESTAMPNS in a datagram's control data and returns
// it in Unix nanoseconds; 0 if absent. It allocates nothing (unlike
// unix.ParseSocketControlMessage).
func rxStampNs(b []byte) int64 {
	const hdr = unix.SizeofCmsghdr
	for len(b) >= hdr {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&b[0]))
		n := int(h.Len)
		if n < hdr || n > len(b) {
			return 0
		}
		if h.Level == unix.SOL_SOCKET && h.Type == unix.SCM_TIMESTAMPNS && n >= hdr+int(unsafe.Sizeof(unix.Timespec{})) {
			return (*unix.Timespec)(unsafe.Pointer(&b[hdr])).Nano()
		}
		n = (n + 7) &^ 7 // CMSG_ALIGN
		if n >= len(b) {
			return 0
		}
		b = b[n:]
	}
	return 0
}
