package media

// SRTP keys of the engine's peer connections, without forking Pion.
//
// Pion keeps a connection's SRTP keys to itself (DTLSTransport has no
// accessor), but writing forwarded RTP straight into the send batch (and
// reading incoming SRTP in the socket reader) needs them. DTLS-SRTP derives
// them from the master secret and both hello randoms (RFC 5764 §4.2, with the
// RFC 5705 exporter), and Pion's public settings let us see all three when we
// are the DTLS server:
//   - the ServerHello hook sees the ServerHello we send: the server random,
//     the cipher suite (the exporter's PRF hash) and the SRTP profile;
//   - the key log (NSS format, "CLIENT_RANDOM <client random> <master
//     secret>") gets the client random and the master secret once the
//     handshake has computed them.
//
// As DTLS client we would see our own ClientHello and the key log but not the
// server's random, so the keys are not known then and callers fall back to
// Pion. The engine answers as DTLS server (NewPeerConnection) and offers
// actpass, to which browsers and Pion answer active, so in practice the engine
// is the server on every connection.
//
// (Wrapping the DTLS cipher suites and catching Init does not work: dtls's
// hello handlers take the built-in suite for a known ID before custom suites,
// so a wrapper with a standard ID is never the instance initialised.)

import (
	"crypto/sha256"
	"crypto/sha512"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"runtime"
	"strings"
	"sync"
	"weak"

	"github.com/pion/dtls/v3"
	"github.com/pion/dtls/v3/pkg/crypto/prf"
	"github.com/pion/dtls/v3/pkg/protocol/extension"
	"github.com/pion/dtls/v3/pkg/protocol/handshake"
	"github.com/pion/srtp/v3"
	"github.com/pion/webrtc/v4"
)

// errNoSRTPKeys: the keys of this connection are not known (not built by the
// engine, DTLS not connected, or the engine was the DTLS client).
var errNoSRTPKeys = errors.New("SRTP keys of this peer connection are not known")

// dtlsCapture collects what one peer connection's DTLS handshake reveals
// through its setting engine's hooks. Written by the DTLS handshake goroutine,
// read by newSRTPContexts; mu guards all fields.
type dtlsCapture struct {
	mu           sync.Mutex
	sentServer   bool // we sent a ServerHello: we are the DTLS server
	sentClient   bool // we sent a ClientHello: we are the DTLS client
	serverRandom [32]byte
	suiteID      uint16
	profile      srtp.ProtectionProfile
	clientRandom [32]byte
	masterSecret []byte // nil until the handshake computed it

	cryptexOff bool // set once by rememberKeys, before the connection is used

	// The connection's direct writer (directwrite.go), made once by
	// Engine.directFor; nil when its writes stay with Pion.
	directOnce sync.Once
	direct     *directConn

	// The connection's down tracks by SSRC, for its RTCP on the fast path
	// (rxrtcp.go); made once by Engine.rtcpSinksFor. Here, not in a table of
	// the engine's: it lives exactly as long as the connection.
	sinksOnce sync.Once
	sinks     *rtcpSinks
}

// hookSettings makes se report this connection's handshake to c.
func (c *dtlsCapture) hookSettings(se *webrtc.SettingEngine) {
	se.SetDTLSServerHelloMessageHook(c.serverHello)
	se.SetDTLSClientHelloMessageHook(c.clientHello)
	se.SetDTLSKeyLogWriter(c)
}

func (c *dtlsCapture) serverHello(m handshake.MessageServerHello) handshake.Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sentServer = true
	c.serverRandom = m.Random.MarshalFixed()
	c.suiteID = 0
	if m.CipherSuiteID != nil {
		c.suiteID = *m.CipherSuiteID
	}
	c.profile = 0
	for _, x := range m.Extensions {
		if u, ok := x.(*extension.UseSRTP); ok && len(u.ProtectionProfiles) == 1 {
			c.profile = srtp.ProtectionProfile(u.ProtectionProfiles[0])
		}
	}
	return &m
}

func (c *dtlsCapture) clientHello(m handshake.MessageClientHello) handshake.Message {
	c.mu.Lock()
	c.sentClient = true
	c.mu.Unlock()
	return &m
}

// Write takes one key log line (dtls writes each with one Fprintf).
func (c *dtlsCapture) Write(p []byte) (int, error) {
	f := strings.Fields(string(p))
	if len(f) != 3 || f[0] != "CLIENT_RANDOM" {
		return len(p), nil
	}
	cr, err1 := hex.DecodeString(f[1])
	ms, err2 := hex.DecodeString(f[2])
	if err1 != nil || err2 != nil || len(cr) != 32 || len(ms) != 48 {
		return len(p), nil
	}
	c.mu.Lock()
	copy(c.clientRandom[:], cr)
	c.masterSecret = ms
	c.mu.Unlock()
	return len(p), nil
}

// exporter is the RFC 5705 keying material exporter of a finished TLS 1.2
// handshake, computed as dtls's State.ExportKeyingMaterial does.
type exporter struct {
	masterSecret, clientRandom, serverRandom []byte
	hash                                     func() hash.Hash
}

func (x exporter) ExportKeyingMaterial(label string, context []byte, length int) ([]byte, error) {
	if len(context) != 0 {
		return nil, errors.New("keying material exporter: context is not supported")
	}
	seed := make([]byte, 0, len(label)+64)
	seed = append(seed, label...)
	seed = append(seed, x.clientRandom...)
	seed = append(seed, x.serverRandom...)
	return prf.PHash(x.masterSecret, seed, length, x.hash)
}

// prfHash is the TLS 1.2 PRF hash of the cipher suites Pion's DTLS offers by
// default (dtls defaultCipherSuites; the concrete suites are internal to dtls,
// their HashFunc is SHA-384 for the *_SHA384 suites, SHA-256 for the others).
func prfHash(id uint16) (func() hash.Hash, error) {
	switch dtls.CipherSuiteID(id) {
	case dtls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, dtls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		dtls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, dtls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
		dtls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA, dtls.TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA:
		return sha256.New, nil
	case dtls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, dtls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384:
		return sha512.New384, nil
	}
	return nil, fmt.Errorf("DTLS cipher suite %#04x: PRF hash unknown", id)
}

// srtpConfig derives the connection's SRTP master keys as Pion does
// (srtp.Config.ExtractSessionKeysFromDTLS), from what the hooks saw.
func (c *dtlsCapture) srtpConfig() (*srtp.Config, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case !c.sentServer && c.sentClient:
		return nil, fmt.Errorf("%w: the engine is the DTLS client", errNoSRTPKeys)
	case !c.sentServer || c.masterSecret == nil:
		return nil, fmt.Errorf("%w: DTLS handshake not finished", errNoSRTPKeys)
	case c.profile == 0:
		return nil, fmt.Errorf("%w: no SRTP profile negotiated", errNoSRTPKeys)
	}
	h, err := prfHash(c.suiteID)
	if err != nil {
		return nil, err
	}
	cfg := &srtp.Config{Profile: c.profile}
	x := exporter{masterSecret: c.masterSecret, clientRandom: c.clientRandom[:], serverRandom: c.serverRandom[:], hash: h}
	if err := cfg.ExtractSessionKeysFromDTLS(x, false); err != nil {
		return nil, fmt.Errorf("derive SRTP keys: %w", err)
	}
	return cfg, nil
}

// captureKeys hooks se so that the handshake of the connection built from it
// is captured; rememberKeys ties the capture to that connection once built.
func (e *Engine) captureKeys(se *webrtc.SettingEngine) *dtlsCapture {
	c := &dtlsCapture{}
	c.hookSettings(se)
	return c
}

// rememberKeys files c under pc's DTLS transport (one per connection, for its
// lifetime), which is what a down track knows of its connection.
func (e *Engine) rememberKeys(pc *webrtc.PeerConnection, c *dtlsCapture) {
	c.cryptexOff = !cryptexPossible(pc)
	tr := pc.SCTP().Transport()
	key := weak.Make(tr)
	// The connection holds c (its API's hooks do); the engine holds both
	// weakly. c holds the connection's down tracks (rtcpSinks), which hold
	// the transport: a strong value would keep the connection for good.
	e.keysMu.Lock()
	if e.keys == nil {
		e.keys = map[weak.Pointer[webrtc.DTLSTransport]]weak.Pointer[dtlsCapture]{}
	}
	e.keys[key] = weak.Make(c)
	e.keysMu.Unlock()
	runtime.AddCleanup(tr, e.forgetKeys, key)
}

func (e *Engine) forgetKeys(key weak.Pointer[webrtc.DTLSTransport]) {
	e.keysMu.Lock()
	delete(e.keys, key)
	e.keysMu.Unlock()
}

// capture is the capture of the connection whose DTLS transport is tr, nil
// if the engine did not build it.
func (e *Engine) capture(tr *webrtc.DTLSTransport) *dtlsCapture {
	if e == nil || tr == nil {
		return nil
	}
	e.keysMu.Lock()
	defer e.keysMu.Unlock()
	return e.keys[weak.Make(tr)].Value()
}

// dtlsServer reports whether the engine is the DTLS server of pc (the only
// role in which its keys are known), false for a connection the engine did
// not build or whose handshake has not sent its hello yet.
func (e *Engine) dtlsServer(pc *webrtc.PeerConnection) bool {
	c := e.capture(pc.SCTP().Transport())
	if c == nil {
		return false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sentServer
}

// newSRTPContexts returns fresh SRTP contexts with pc's keys: local encrypts
// what the engine sends on pc, remote decrypts what the peer sends. They share
// nothing with Pion's contexts, so the caller must never encrypt an SSRC that
// Pion also encrypts (that would reuse the keystream). Valid once pc's DTLS
// transport is connected; an error when the keys are not known (the engine
// was the DTLS client, a connection not built by the engine) or RTP header
// encryption (cryptex) may be used.
func (e *Engine) newSRTPContexts(pc *webrtc.PeerConnection, localOpts, remoteOpts []srtp.ContextOption) (local, remote *srtp.Context, err error) {
	tr := pc.SCTP().Transport()
	c := e.capture(tr)
	if c == nil {
		return nil, nil, fmt.Errorf("%w: not built by the engine", errNoSRTPKeys)
	}
	return c.contexts(tr, localOpts, remoteOpts)
}

// contexts is newSRTPContexts for the connection whose transport is tr.
func (c *dtlsCapture) contexts(tr *webrtc.DTLSTransport, localOpts, remoteOpts []srtp.ContextOption) (local, remote *srtp.Context, err error) {
	if st := tr.State(); st != webrtc.DTLSTransportStateConnected {
		return nil, nil, fmt.Errorf("%w: DTLS transport is %s", errNoSRTPKeys, st)
	}
	if !c.cryptexOff {
		return nil, nil, errors.New("RTP header encryption (cryptex) allowed on this connection: plain SRTP contexts would not match")
	}
	cfg, err := c.srtpConfig()
	if err != nil {
		return nil, nil, err
	}
	local, err = srtp.CreateContext(cfg.Keys.LocalMasterKey, cfg.Keys.LocalMasterSalt, cfg.Profile, localOpts...)
	if err != nil {
		return nil, nil, fmt.Errorf("local SRTP context: %w", err)
	}
	remote, err = srtp.CreateContext(cfg.Keys.RemoteMasterKey, cfg.Keys.RemoteMasterSalt, cfg.Profile, remoteOpts...)
	if err != nil {
		return nil, nil, fmt.Errorf("remote SRTP context: %w", err)
	}
	return local, remote, nil
}

// cryptexPossible reports whether pc may use RTP header encryption (cryptex,
// RFC 9335). The engine's connections refuse it (pcConfig): with that policy
// Pion keeps cryptex off both ways, whatever the peer's SDP says.
func cryptexPossible(pc *webrtc.PeerConnection) bool {
	return pc.GetConfiguration().RTPHeaderEncryptionPolicy != webrtc.RTPHeaderEncryptionPolicyDisable
}
