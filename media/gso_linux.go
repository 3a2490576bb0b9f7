//go:build linux && (amd64 || arm64)

package media

import (
	"log/slog"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// UDP generic segmentation offload (UDP_SEGMENT, Linux 4.18). sendmmsg still
// costs the kernel one skb, one copy, one route lookup (the socket is not
// connected), one ip_output and one loopback or driver delivery per message.
// With GSO a message carries several datagrams to one destination, all of one
// size but the last (which may be shorter), and the kernel does that work once
// for all of them, cutting the payload into datagrams only at the device (or,
// on loopback, at the receiving socket). The receiver sees plain datagrams.
//
// A send batch is grouped just before it leaves: its datagrams by
// destination, each destination's in the order they were queued, cut into
// runs of equal size (the last of a run may be shorter). A run of two or more
// becomes one message with one iovec per datagram and a UDP_SEGMENT control
// message; a run of one is a plain message. Different destinations' datagrams
// may leave in another order than they were queued; one destination's never do.
//
// A kernel or device that refuses GSO (EIO: no checksum offload; EINVAL,
// ENOPROTOOPT: too old) turns it off for good: the rest of that batch and all
// later ones go as plain datagrams, and that is logged once.

// gsoMaxSegs is how many datagrams one GSO message carries at most: the
// kernel's UDP_MAX_SEGMENTS (64 before Linux 6.10, 128 since).
const gsoMaxSegs = 64

// gsoMaxBytes bounds a GSO message's payload: one IPv4 datagram's worth
// (65535 minus the IP and UDP headers).
const gsoMaxBytes = 65507

// gsoCtrlLen is CMSG_SPACE(2): a cmsghdr and the uint16 segment size.
const gsoCtrlLen = unix.SizeofCmsghdr + 8

// gsoTable is the size of the hash table that groups a batch's datagrams by
// destination: a power of two, at least twice batchLen.
const gsoTableBits = 10

// gsoState is whether the socket sends with GSO, and what it sent so.
type gsoState struct {
	on       atomic.Bool   // the kernel has UDP_SEGMENT and has not refused it
	msgs     atomic.Uint64 // messages that carried two or more datagrams
	segments atomic.Uint64 // the datagrams those carried
	once     sync.Once     // the log line when the kernel refuses
	log      *slog.Logger  // nil: slog's default
}

// initGSO turns GSO on if the socket knows UDP_SEGMENT (getsockopt succeeds
// on kernels that have it, whatever the device).
func (s *batchSys) initGSO() {
	var err error
	if cerr := s.raw.Control(func(fd uintptr) {
		_, err = unix.GetsockoptInt(int(fd), unix.SOL_UDP, unix.UDP_SEGMENT)
	}); cerr != nil {
		err = cerr
	}
	s.gso.on.Store(err == nil)
}

// setLog is where the refusal is logged (before the first send).
func (s *batchSys) setLog(l *slog.Logger) { s.gso.log = l }

// gsoCounts is what GSO sent: messages with two or more datagrams, and those
// datagrams.
func (s *batchSys) gsoCounts() (msgs, segments uint64) {
	return s.gso.msgs.Load(), s.gso.segments.Load()
}

// gsoRefused: errors by which the kernel says it will not segment.
func gsoRefused(e syscall.Errno) bool {
	return e == unix.EIO || e == unix.EINVAL || e == unix.ENOPROTOOPT || e == unix.EOPNOTSUPP
}

// refuseGSO turns GSO off for good after the kernel refused it.
func (s *batchSys) refuseGSO(e syscall.Errno) {
	s.gso.on.Store(false)
	s.gso.once.Do(func() {
		log := s.gso.log
		if log == nil {
			log = slog.Default()
		}
		log.Warn("UDP GSO refused by the kernel: sending plain datagrams from now on", "err", e)
	})
}

// gsoPlan is a batch's datagrams grouped into the messages of one sendmmsg.
// Everything is preallocated with the batch and points into it.
type gsoPlan struct {
	msgs []mmsghdr // the messages to send: hdrs[:m], or the batch's own (one datagram each)
	segs []uint16  // datagrams in msgs[i]: nil when each is one

	hdrs  [batchLen]mmsghdr
	nsegs [batchLen]uint16
	first [batchLen]uint16     // hdrs[i]'s first iovec in iovs
	iovs  [batchLen]unix.Iovec // the datagrams' iovecs, in message order
	src   [batchLen]uint16     // iovs[k] is datagram src[k] of the batch
	ctrl  [batchLen][gsoCtrlLen / 8]uint64

	// Grouping by destination: an open-addressing table from destination to
	// group, valid where gen matches, and each group's datagrams as a list.
	gen     uint32
	tgen    [1 << gsoTableBits]uint32
	tkey    [1 << gsoTableBits]uint64
	tgroup  [1 << gsoTableBits]uint16
	head    [batchLen]uint16 // group g's first datagram
	tail    [batchLen]uint16
	next    [batchLen]uint16 // the datagram after i in its group; 0: none (a group never starts at 0 but for group 0's head)
	hasNext [batchLen]bool
}

// init writes the control messages' constant part.
func (g *gsoPlan) init() {
	for i := range g.ctrl {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&g.ctrl[i][0]))
		h.Level = unix.SOL_UDP
		h.Type = unix.UDP_SEGMENT
		h.SetLen(unix.CmsgLen(2))
	}
}

// plain sends each datagram as a message of its own.
func (b *sendBatch) planPlain() {
	b.g.msgs = b.hdrs[:b.n]
	b.g.segs = nil
}

// planGSO groups b's datagrams by destination and equal size.
func (b *sendBatch) planGSO() {
	g := &b.g
	g.gen++
	if g.gen == 0 { // wrapped: stale entries could match
		clear(g.tgen[:])
		g.gen = 1
	}
	groups := 0
	for i := range b.n {
		sa := &b.sas[i]
		key := uint64(*(*uint32)(unsafe.Pointer(&sa.Addr)))<<16 | uint64(sa.Port)
		h := (key * 0x9E3779B97F4A7C15) >> (64 - gsoTableBits)
		for {
			if g.tgen[h] != g.gen {
				g.tgen[h], g.tkey[h], g.tgroup[h] = g.gen, key, uint16(groups)
				g.head[groups], g.tail[groups] = uint16(i), uint16(i)
				groups++
				break
			}
			if g.tkey[h] == key {
				t := g.tail[g.tgroup[h]]
				g.next[t], g.hasNext[t] = uint16(i), true
				g.tail[g.tgroup[h]] = uint16(i)
				break
			}
			h = (h + 1) & (1<<gsoTableBits - 1)
		}
		g.hasNext[i] = false
	}

	m, k := 0, 0
	for gr := range groups {
		i, more := int(g.head[gr]), true
		for more {
			// A run: datagrams of the first one's size, then at most one shorter.
			size := b.iovs[i].Len
			start, total := k, 0
			for {
				l := b.iovs[i].Len
				g.iovs[k], g.src[k] = b.iovs[i], uint16(i)
				k++
				total += int(l)
				more = g.hasNext[i]
				i = int(g.next[i])
				if !more || l < size || k-start == gsoMaxSegs {
					break
				}
				if nl := b.iovs[i].Len; nl > size || total+int(nl) > gsoMaxBytes {
					break
				}
			}
			g.addMsg(b, m, start, k-start, size)
			m++
		}
	}
	g.msgs = g.hdrs[:m]
	g.segs = g.nsegs[:m]
}

// addMsg makes hdrs[m] the message of iovs[start:start+n], segments of size.
func (g *gsoPlan) addMsg(b *sendBatch, m, start, n int, size uint64) {
	h := &g.hdrs[m].hdr
	h.Name = (*byte)(unsafe.Pointer(&b.sas[g.src[start]]))
	h.Namelen = unix.SizeofSockaddrInet4
	h.Iov = &g.iovs[start]
	h.SetIovlen(n)
	if n > 1 {
		c := &g.ctrl[m]
		*(*uint16)(unsafe.Add(unsafe.Pointer(&c[0]), unix.SizeofCmsghdr)) = uint16(size)
		h.Control = (*byte)(unsafe.Pointer(&c[0]))
		h.SetControllen(gsoCtrlLen)
	} else {
		h.Control = nil
		h.SetControllen(0)
	}
	g.nsegs[m], g.first[m] = uint16(n), uint16(start)
}

// unplan turns messages from off on back into one datagram each, after the
// kernel refused GSO: the same datagrams, in the same order.
func (b *sendBatch) unplan(off int) {
	g := &b.g
	if g.segs == nil {
		return
	}
	p0 := int(g.first[off])
	k := off
	for p := p0; p < b.n; p++ {
		g.hdrs[k] = b.hdrs[g.src[p]]
		g.nsegs[k] = 1
		k++
	}
	g.msgs = g.hdrs[:k]
	g.segs = g.nsegs[:k]
}

// plan readies b's messages for write: grouped while GSO is on.
func (s *batchSys) plan(b *sendBatch) {
	if s.gso.on.Load() && b.n > 1 {
		b.planGSO()
	} else {
		b.planPlain()
	}
}

// messages is how many messages b's plan has.
func (b *sendBatch) messages() int { return len(b.g.msgs) }

// write sends b's messages from off on and returns how many left and the
// datagrams they carried (0, 0: the message at off was refused and is
// dropped, as a failed sendto would drop it).
func (s *batchSys) write(b *sendBatch, off int) (msgs, datagrams int) {
	for {
		b.off, b.sent, b.errno = off, 0, 0
		if err := s.raw.Write(b.fn); err != nil {
			return 0, 0
		}
		if b.errno != 0 {
			if b.g.segs != nil && b.g.segs[off] > 1 && gsoRefused(b.errno) {
				s.refuseGSO(b.errno)
				b.unplan(off)
				continue
			}
			return 0, 0
		}
		if b.g.segs == nil {
			return b.sent, b.sent
		}
		var gm, gd uint64
		for _, n := range b.g.segs[off : off+b.sent] {
			datagrams += int(n)
			if n > 1 {
				gm++
				gd += uint64(n)
			}
		}
		if gm > 0 {
			s.gso.msgs.Add(gm)
			s.gso.segments.Add(gd)
		}
		return b.sent, datagrams
	}
}
