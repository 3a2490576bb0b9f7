package media

import (
	"runtime"
	"sync"
	"weak"

	"github.com/pion/webrtc/v4"
)

// pairFollowers lets several parts of the engine follow one ICE transport's
// selected candidate pair: Pion keeps a single OnSelectedCandidatePairChange
// handler per transport, and a second caller would silently replace the
// first (the fast receive path, rxwatch.go, and the direct writer,
// directwrite.go, both follow it on a connection that publishes and
// subscribes).
type pairFollowers struct {
	mu sync.Mutex // guards fs
	fs []func(*webrtc.ICECandidatePair)
}

// followPair calls f with every pair it selects from now on. The followers
// live with the transport (its handler holds them); the engine's map holds
// both the transport and its followers weakly and forgets the entry when the
// transport is collected. Weakly: a follower holds what holds the transport
// (its connection), so a strong value would keep the transport, and with it
// the whole connection, for good.
func (e *Engine) followPair(it *webrtc.ICETransport, f func(*webrtc.ICECandidatePair)) {
	key := weak.Make(it)
	e.pairsMu.Lock()
	if e.pairs == nil {
		e.pairs = map[weak.Pointer[webrtc.ICETransport]]weak.Pointer[pairFollowers]{}
	}
	pf := e.pairs[key].Value()
	first := pf == nil
	if first {
		pf = &pairFollowers{}
		e.pairs[key] = weak.Make(pf)
	}
	e.pairsMu.Unlock()
	if first {
		runtime.AddCleanup(it, e.forgetPairs, key)
	}
	pf.mu.Lock()
	pf.fs = append(pf.fs, f)
	pf.mu.Unlock()
	if first {
		it.OnSelectedCandidatePairChange(pf.call)
	}
}

func (e *Engine) forgetPairs(key weak.Pointer[webrtc.ICETransport]) {
	e.pairsMu.Lock()
	delete(e.pairs, key)
	e.pairsMu.Unlock()
}

func (pf *pairFollowers) call(p *webrtc.ICECandidatePair) {
	pf.mu.Lock()
	fs := pf.fs
	pf.mu.Unlock()
	for _, f := range fs {
		f(p)
	}
}
