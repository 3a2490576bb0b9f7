package media

import (
	"net/netip"
	"sync"

	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
)

// fastWatch registers a publisher connection's fast receiver (rxfast.go)
// under the remote address of its selected ICE pair, once its DTLS is
// connected (the SRTP keys exist then), moves it when ICE selects another
// pair, and drops it when DTLS closes or fails. Only a pair that is UDP on
// the engine's own port qualifies: ICE-TCP and relayed traffic never pass the
// port's readers.
type fastWatch struct {
	e    *Engine
	pc   *webrtc.PeerConnection
	sess *rxSession

	mu     sync.Mutex     // guards the rest; taken before the table's lock
	fr     *fastRx        // set once DTLS is connected and the contexts made
	remote netip.AddrPort // the selected pair's remote, when the pair qualifies
	at     netip.AddrPort // where fr is in the table now
	closed bool
}

// watchFast starts following pc (a connection built by NewPeerConnection).
func (e *Engine) watchFast(pc *webrtc.PeerConnection, sess *rxSession) {
	sctp := pc.SCTP()
	if sctp == nil {
		return
	}
	dtls := sctp.Transport()
	if dtls == nil {
		return
	}
	w := &fastWatch{e: e, pc: pc, sess: sess}
	// Pion calls this with the transport's lock held: anything that asks
	// the transport or the connection for something runs in a goroutine.
	dtls.OnStateChange(func(s webrtc.DTLSTransportState) {
		switch s {
		case webrtc.DTLSTransportStateConnected:
			go w.connected(dtls) // ends after making the contexts
		case webrtc.DTLSTransportStateClosed, webrtc.DTLSTransportStateFailed:
			go w.close() // ends at once
		}
	})
	if it := dtls.ICETransport(); it != nil {
		e.followPair(it, w.selected) // icepair.go
	}
}

// fastReplayWindow is the replay window of the fast path's SRTP context,
// Pion's default for its own.
const fastReplayWindow = 64

func (w *fastWatch) connected(dtls *webrtc.DTLSTransport) {
	_, remote, err := w.e.newSRTPContexts(w.pc, nil,
		[]srtp.ContextOption{srtp.SRTPReplayProtection(fastReplayWindow), srtp.SRTCPReplayProtection(fastReplayWindow)})
	if err != nil {
		w.e.log.Debug("no fast receive path for a connection", "err", err)
		return
	}
	var pair *webrtc.ICECandidatePair
	if it := dtls.ICETransport(); it != nil {
		pair, _ = it.GetSelectedCandidatePair()
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.closed {
		return
	}
	w.fr = newFastRx(w.sess, w.e.rtcpSinksFor(dtls), remote)
	if pair != nil {
		w.remote = w.e.fastAddr(pair)
	}
	w.applyLocked()
}

func (w *fastWatch) selected(p *webrtc.ICECandidatePair) {
	addr := w.e.fastAddr(p)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.remote = addr
	w.applyLocked()
}

func (w *fastWatch) close() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	w.applyLocked()
}

// applyLocked makes the table agree with the watch's state.
func (w *fastWatch) applyLocked() {
	want := netip.AddrPort{}
	if w.fr != nil && !w.closed {
		want = w.remote
	}
	if want == w.at {
		return
	}
	if w.at.IsValid() {
		w.e.fast.unset(w.at, w.fr)
	}
	if want.IsValid() {
		w.e.fast.set(want, w.fr)
	}
	w.at = want
}

// fastAddr is the remote address of a selected pair whose media comes
// through the engine's UDP port; invalid for any other pair.
func (e *Engine) fastAddr(p *webrtc.ICECandidatePair) netip.AddrPort {
	if p == nil || p.Local == nil || p.Remote == nil {
		return netip.AddrPort{}
	}
	l, r := p.Local, p.Remote
	if l.Protocol != webrtc.ICEProtocolUDP || r.Protocol != webrtc.ICEProtocolUDP ||
		l.Typ != webrtc.ICECandidateTypeHost || int(l.Port) != e.UDPAddr().Port {
		return netip.AddrPort{}
	}
	ip, err := netip.ParseAddr(r.Address)
	if err != nil || !ip.Unmap().Is4() {
		return netip.AddrPort{} // the port is udp4; a name (mDNS) is not an address
	}
	return netip.AddrPortFrom(ip.Unmap(), r.Port)
}
