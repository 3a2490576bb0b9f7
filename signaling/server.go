// Package signaling speaks LiveKit's signal protocol (classic two-peer-connection mode)
// over websockets and owns the live state of rooms: participants, tracks, versions,
// spaces. It drives the media package to forward tracks, and offers a small control API
// (SetSpace, SetPermission, MuteTrack, ...) to the layer that decides policy. It knows
// nothing of cases, mediators or lobbies beyond "space" (see Hooks).
package signaling

import (
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
	"github.com/livekit/protocol/livekit"
	"github.com/pion/webrtc/v4"

	"yizhan/media"
)

// ServerVersion is what we announce; the clients gate features (RPC) on >= 1.8.0.
const ServerVersion = "1.9.0"

// ErrNotFound is returned by the control API for an unknown room or participant.
var ErrNotFound = errors.New("not found")

// Config configures a Server.
type Config struct {
	APIKey    string
	APISecret string
	Logger    *slog.Logger
	// RoomEmptyTimeout is how long a room lives on after its last participant left.
	RoomEmptyTimeout time.Duration
	// ICEServers returns the ICE servers handed to a participant in the JoinResponse
	// (TURN credentials are per participant).
	ICEServers func(identity string) []ICEServer
	// NodeID names this node in ServerInfo.
	NodeID string
	// TokenRefresh is how often participants get a fresh token (default 5 minutes).
	TokenRefresh time.Duration
	// Limits bound what one client can make the server hold (limits.go).
	Limits Limits
}

// ICEServer is one STUN or TURN server for the clients.
type ICEServer struct {
	URLs       []string
	Username   string
	Credential string
}

// Server is the signal endpoint and the registry of live rooms.
type Server struct {
	cfg      Config
	eng      *media.Engine
	log      *slog.Logger
	upgrader websocket.Upgrader

	hooksMu sync.RWMutex
	hooks   Hooks // guarded by hooksMu
	obs     observers
	signals signalCounter // signal messages queued to clients

	mu     sync.Mutex // guards rooms and closed
	rooms  map[string]*room
	closed bool

	wg sync.WaitGroup // participant handlers and room timers

	departed departures // why sessions ended, for clients resuming them (departures.go)
	hits     limitHits  // bounds hit (limits.go)
	wsAddrs  addrCount  // open signal websockets per client address
}

// NewServer makes a Server that forwards media with eng.
func NewServer(cfg Config, eng *media.Engine) *Server {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.RoomEmptyTimeout <= 0 {
		cfg.RoomEmptyTimeout = 20 * time.Second
	}
	if cfg.TokenRefresh <= 0 {
		cfg.TokenRefresh = defaultTokenRefresh
	}
	if cfg.NodeID == "" {
		cfg.NodeID = "yizhan"
	}
	cfg.Limits = cfg.Limits.withDefaults()
	return &Server{
		cfg:   cfg,
		eng:   eng,
		log:   cfg.Logger,
		hooks: noHooks{},
		rooms: map[string]*room{},
		upgrader: websocket.Upgrader{
			ReadBufferSize:  16 << 10,
			WriteBufferSize: 16 << 10,
			// The token is the authentication; browsers on other origins (a web app
			// served elsewhere) are legitimate LiveKit clients.
			CheckOrigin: func(*http.Request) bool { return true },
		},
	}
}

// SetHooks installs the policy layer. Call before serving.
func (s *Server) SetHooks(h Hooks) {
	if h == nil {
		h = noHooks{}
	}
	s.hooksMu.Lock()
	s.hooks = h
	s.hooksMu.Unlock()
}

func (s *Server) getHooks() Hooks {
	s.hooksMu.RLock()
	defer s.hooksMu.RUnlock()
	return s.hooks
}

func (s *Server) emit(ev Event) {
	if ev.Time.IsZero() {
		ev.Time = time.Now()
	}
	s.getHooks().Event(ev)
	s.obs.notify(ev)
}

// Handler serves /rtc, /rtc/validate and the /rtc/v1 decline.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/rtc", s.handleRTC)
	mux.HandleFunc("/rtc/validate", s.handleValidate)
	mux.HandleFunc("/rtc/v1", declineV1)
	mux.HandleFunc("/rtc/v1/", declineV1)
	return mux
}

var errServerClosing = errors.New("server is shutting down")

// enter counts a signal connection's handler in wg, unless the server is closing. Under
// s.mu, like Close's closed: an Add that ran while Close waits with the count at zero
// would let the handler outlive Close (and is a data race on the WaitGroup, which the
// race detector found when a test's client connected during Close).
func (s *Server) enter() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.wg.Add(1)
	return true
}

// getOrCreateRoom returns the live room, creating it on first join.
func (s *Server) getOrCreateRoom(name string) (*room, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, errServerClosing
	}
	r := s.rooms[name]
	if r == nil {
		r = newRoom(s, name)
		s.rooms[name] = r
		// A room that nobody manages to join (a failed upgrade) closes like an empty one.
		r.mu.Lock()
		r.emptyTimer = time.AfterFunc(s.cfg.RoomEmptyTimeout, r.closeIfEmpty)
		r.mu.Unlock()
	}
	return r, nil
}

func (s *Server) getRoom(name string) *room {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rooms[name]
}

// forgetRoom drops r from the registry if it is still the registered one.
func (s *Server) forgetRoom(r *room) {
	s.mu.Lock()
	if s.rooms[r.name] == r {
		delete(s.rooms, r.name)
	}
	s.mu.Unlock()
}

// Rooms lists the names of live rooms.
func (s *Server) Rooms() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	names := make([]string, 0, len(s.rooms))
	for n := range s.rooms {
		names = append(names, n)
	}
	return names
}

// Close sends every participant a Leave, closes all rooms and waits for their goroutines.
func (s *Server) Close() {
	s.mu.Lock()
	s.closed = true
	rooms := make([]*room, 0, len(s.rooms))
	for _, r := range s.rooms {
		rooms = append(rooms, r)
	}
	s.mu.Unlock()
	for _, r := range rooms {
		r.close(livekit.DisconnectReason_SERVER_SHUTDOWN)
	}
	s.wg.Wait()
}

func (s *Server) iceServersFor(identity string) []*livekit.ICEServer {
	if s.cfg.ICEServers == nil {
		return nil
	}
	var out []*livekit.ICEServer
	for _, is := range s.cfg.ICEServers(identity) {
		out = append(out, &livekit.ICEServer{Urls: is.URLs, Username: is.Username, Credential: is.Credential})
	}
	return out
}

func (s *Server) enabledCodecs() []*livekit.Codec {
	var out []*livekit.Codec
	for _, c := range s.eng.PublishCodecs() {
		out = append(out, &livekit.Codec{Mime: c.MimeType, FmtpLine: c.SDPFmtpLine})
	}
	return out
}

func kindOf(k webrtc.RTPCodecType) livekit.TrackType {
	if k == webrtc.RTPCodecTypeAudio {
		return livekit.TrackType_AUDIO
	}
	return livekit.TrackType_VIDEO
}

func (s *Server) serverInfo() *livekit.ServerInfo {
	return &livekit.ServerInfo{
		Edition:  livekit.ServerInfo_Standard,
		Version:  ServerVersion,
		Protocol: 16,
		NodeId:   s.cfg.NodeID,
	}
}
