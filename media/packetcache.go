package media

import "sync"

// How many packets of one layer are kept for retransmission: for video about
// 1.8 s of a 2.5 Mbit/s layer, 3 s at 1.5 Mbit/s; for audio (50 packets/s)
// 2.5 s. A NACK answered later than that would bring a packet the
// subscriber's jitter buffer has given up on.
const (
	videoCacheLen = 512
	audioCacheLen = 128
)

// packetCache keeps the newest packets of one layer of an up track, as read
// from the publisher, so that every subscriber's NACK is answered from one
// copy (as galene's packetcache does) instead of a history kept per
// subscriber (Pion's NACK responder copies every packet once per subscriber).
//
// The layer's read loop is the only writer; subscribers' RTCP loops read.
type packetCache struct {
	mu    sync.Mutex // guards the slots' contents; held for one copy, never across I/O
	slots []cacheSlot
}

func newPacketCache(n int) *packetCache { return &packetCache{slots: make([]cacheSlot, n)} }

type cacheSlot struct {
	ext uint64 // extended sequence number of the packet held; 0: empty
	n   int    // length of the packet in buf
	buf [readBufSize]byte
}

// put keeps a copy of raw, the packet whose extended sequence number is ext.
// It overwrites the packet len(slots) older.
func (c *packetCache) put(ext uint64, raw []byte) {
	s := &c.slots[ext%uint64(len(c.slots))]
	c.mu.Lock()
	s.ext = ext
	s.n = copy(s.buf[:], raw)
	c.mu.Unlock()
}

// get copies the packet ext into dst and returns its length; 0 when the
// packet was never seen or has been overwritten.
func (c *packetCache) get(ext uint64, dst []byte) int {
	s := &c.slots[ext%uint64(len(c.slots))]
	c.mu.Lock()
	defer c.mu.Unlock()
	if s.ext != ext || s.n > len(dst) {
		return 0
	}
	return copy(dst, s.buf[:s.n])
}
