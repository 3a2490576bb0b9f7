package mediation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"yizhan/signaling"
	"yizhan/store"
)

// Lectures (法治大讲堂, issue 15): a session kind of its own. A centre broadcasts to
// village centres and phones: a few speakers publish, everyone else watches hidden
// (subscribe only, never listed, counted), may ask a question, and may be brought on
// stage by a moderator. This file is the live side (hooks, one owner per live lecture);
// lecture_api.go is the HTTP API.

// LectureConfig configures lectures. Zero values are usable.
type LectureConfig struct {
	// MaxWebRTC is how many viewers a lecture takes over WebRTC; the next get the HLS
	// stream instead (default 1000; --lecture-max-webrtc).
	MaxWebRTC int
	// Program publishes a live lecture as HLS and records it (lecture_hls.go); nil: none.
	Program Program
}

// Program turns a live lecture into an HLS stream and an archive. Start is called when
// the lecture starts and again whenever the stage changes; Stop when it ends, returning
// the archive's path ("" if none).
type Program interface {
	Start(ctx context.Context, lectureID int64, room string, stage []string) error
	Stop(lectureID int64) (archive string)
	// PlaylistURL is where viewers find the HLS playlist ("" while there is none).
	PlaylistURL(lectureID int64) string
}

// lectureRooms is what lectures need of signaling beyond RoomControl: showing a viewer
// brought on stage, and counting the audience.
type lectureRooms interface {
	SetHidden(room, identity string, hidden bool) error
	AudienceCount(room string) int
	SetMaxLayer(room, identity string, layer int) error
}

const (
	lectureRoomPrefix = "lecture-"
	lectureSpace      = "lecture" // everyone in a lecture is in one space
	lectureQueueLen   = 8192      // events waiting for a lecture's owner; full drops and counts
)

// lectures is the lecture part of the domain.
type lectures struct {
	// static after construction
	svc  *Service
	st   store.Store
	rc   RoomControl
	ctl  lectureRooms // nil when the RoomControl cannot (a test fake): stage is refused
	cfg  LectureConfig
	log  *slog.Logger
	asks *limiter // questions per viewer
	join *limiter // public joins per client address

	mu   sync.Mutex              // guards live
	live map[string]*liveLecture // by room
}

func newLectures(svc *Service, cfg LectureConfig) *lectures {
	if cfg.MaxWebRTC <= 0 {
		cfg.MaxWebRTC = 1000
	}
	ctl, _ := svc.rc.(lectureRooms)
	return &lectures{
		svc: svc, st: svc.st, rc: svc.rc, ctl: ctl, cfg: cfg,
		log:  svc.log.With("part", "lectures"),
		asks: newLimiter(5, 5*time.Minute),
		join: newLimiter(600, 10*time.Minute),
		live: map[string]*liveLecture{},
	}
}

func isLectureRoom(room string) bool { return strings.HasPrefix(room, lectureRoomPrefix) }

// joining is the signaling hook for lecture rooms: everyone lands in the one space, as
// long as the lecture has not ended and a guest speaker has not been revoked.
func (l *lectures) joining(room string, p signaling.Participant) (string, error) {
	ctx, cancel := bg()
	defer cancel()
	lec, err := l.st.LectureByRoom(ctx, room)
	if errors.Is(err, store.ErrNotFound) {
		return "", errors.New("no such lecture")
	}
	if err != nil {
		return "", errors.New("lecture look-up failed")
	}
	if lec.State == "ended" {
		return "", errors.New("this lecture has ended")
	}
	if p.Attributes["guest"] == "1" && !l.guestValid(ctx, lec.ID, p.Identity) {
		return "", errors.New("this guest speaker's invitation was revoked")
	}
	return lectureSpace, nil
}

// event hands a signaling event of a lecture room to the lecture's owner. It never
// blocks: thousands of viewers join within seconds.
func (l *lectures) event(ev signaling.Event) {
	ll := l.owner(ev.Room)
	if ll == nil {
		return
	}
	select {
	case ll.events <- ev:
	default:
		ll.dropped.Add(1)
	}
}

// owner returns the live owner of a lecture room, starting it on first use.
func (l *lectures) owner(room string) *liveLecture {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ll := l.live[room]; ll != nil {
		return ll
	}
	ctx, cancel := bg()
	defer cancel()
	lec, err := l.st.LectureByRoom(ctx, room)
	if err != nil || lec.State == "ended" {
		return nil
	}
	ll := newLiveLecture(l, lec)
	l.live[room] = ll
	go ll.run() // ends when stop is closed (the lecture ended, or the service closes)
	return ll
}

// peek returns the live owner without starting one.
func (l *lectures) peek(room string) *liveLecture {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.live[room]
}

// retire stops and forgets the owner of room.
func (l *lectures) retire(room string) {
	l.mu.Lock()
	ll := l.live[room]
	delete(l.live, room)
	l.mu.Unlock()
	if ll != nil {
		ll.close()
	}
}

func (l *lectures) close() {
	l.mu.Lock()
	all := l.live
	l.live = map[string]*liveLecture{}
	l.mu.Unlock()
	for _, ll := range all {
		ll.close()
	}
}

// lectureMetaJSON is the room metadata of a lecture: what every client shows above the
// stage. The viewer count is here rather than in participant lists.
type lectureMetaJSON struct {
	Lecture struct {
		ID      int64    `json:"id"`
		Title   string   `json:"title"`
		State   string   `json:"state"`
		Viewers int      `json:"viewers"`
		Stage   []string `json:"stage"` // viewers brought on stage, by identity
	} `json:"lecture"`
}

// viewerAttrs are the attributes of a hidden viewer's token.
func viewerAttrs(kind, centre string, people int) map[string]string {
	return cleanAttrs(map[string]string{"role": "viewer", "kind": kind, "centre": centre, "people": fmt.Sprint(people)})
}

func isViewer(p signaling.Participant) bool { return p.Attributes["role"] == "viewer" }

// setMeta writes the lecture's metadata into its room (if the room is live).
func (l *lectures) setMeta(room string, lec store.Lecture, viewers int, stage []string) {
	var m lectureMetaJSON
	m.Lecture.ID, m.Lecture.Title, m.Lecture.State, m.Lecture.Viewers = lec.ID, lec.Title, lec.State, viewers
	m.Lecture.Stage = append([]string{}, stage...)
	b, _ := json.Marshal(m)
	if err := l.rc.SetRoomMetadata(room, string(b)); err != nil && !errors.Is(err, signaling.ErrNotFound) {
		l.log.Warn("lecture metadata", "room", room, "err", err)
	}
}
