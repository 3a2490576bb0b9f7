package mediation

import (
	"encoding/json"
	"fmt"
	"maps"
	"sort"
	"strings"
	"sync"
	"time"

	"yizhan/media"
	"yizhan/signaling"
)

// fakeRooms is a RoomControl for the HTTP rule tests (authorization, bad input). It
// keeps participants in memory; tokens are the JSON of the TokenSpec. Media tests use the
// real signaling server instead.
type fakeRooms struct {
	mu     sync.Mutex                                   // guards rooms, closed
	rooms  map[string]map[string]*signaling.Participant // room -> identity
	closed map[string]bool
	meta   map[string]string
}

func newFakeRooms() *fakeRooms {
	return &fakeRooms{rooms: map[string]map[string]*signaling.Participant{}, closed: map[string]bool{}}
}

func (f *fakeRooms) add(room string, p signaling.Participant) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rooms[room] == nil {
		f.rooms[room] = map[string]*signaling.Participant{}
	}
	if p.SID == "" {
		p.SID = "PA_" + p.Identity
	}
	if p.JoinedAt.IsZero() {
		p.JoinedAt = time.Now()
	}
	p.State = "active"
	f.rooms[room][p.Identity] = &p
}

func (f *fakeRooms) find(room, identity string) (*signaling.Participant, error) {
	p := f.rooms[room][identity]
	if p == nil {
		return nil, fmt.Errorf("participant %s: %w", identity, signaling.ErrNotFound)
	}
	return p, nil
}

func (f *fakeRooms) Participants(room string) []signaling.Participant {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []signaling.Participant
	for _, p := range f.rooms[room] {
		c := *p
		c.Attributes = maps.Clone(p.Attributes)
		c.Tracks = append([]signaling.Track(nil), p.Tracks...)
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Identity < out[j].Identity })
	return out
}

func (f *fakeRooms) SetSpace(room, identity, space string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.find(room, identity)
	if err != nil {
		return err
	}
	p.Space = space
	// as signaling does: the attributes say where p is
	p.Attributes = maps.Clone(p.Attributes)
	if p.Attributes == nil {
		p.Attributes = map[string]string{}
	}
	delete(p.Attributes, signaling.AttrSpace)
	delete(p.Attributes, signaling.AttrLobby)
	if space != "" {
		p.Attributes[signaling.AttrSpace] = space
	} else {
		p.Attributes[signaling.AttrLobby] = "1"
	}
	return nil
}

func (f *fakeRooms) SetAttributes(room, identity string, attrs map[string]string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.find(room, identity)
	if err != nil {
		return err
	}
	if p.Attributes == nil {
		p.Attributes = map[string]string{}
	}
	for k, v := range attrs {
		if v == "" {
			delete(p.Attributes, k)
		} else {
			p.Attributes[k] = v
		}
	}
	return nil
}

func (f *fakeRooms) SetPermission(room, identity string, perm signaling.Permission) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.find(room, identity)
	if err != nil {
		return err
	}
	p.Permission = perm
	return nil
}

func (f *fakeRooms) MuteTrack(room, identity, trackSID string, muted bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.find(room, identity)
	if err != nil {
		return err
	}
	for i := range p.Tracks {
		if p.Tracks[i].SID == trackSID {
			p.Tracks[i].Muted = muted
			return nil
		}
	}
	return signaling.ErrNotFound
}

func (f *fakeRooms) RemoveParticipant(room, identity string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.find(room, identity); err != nil {
		return err
	}
	delete(f.rooms[room], identity)
	return nil
}

func (f *fakeRooms) CloseRoom(room string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.rooms, room)
	f.closed[room] = true
	return nil
}

func (f *fakeRooms) SetRoomMetadata(room, metadata string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.rooms[room] == nil {
		return signaling.ErrNotFound
	}
	if f.meta == nil {
		f.meta = map[string]string{}
	}
	f.meta[room] = metadata
	return nil
}

// AttachSink and RequestKeyframe make fakeRooms a SinkAttacher: its tracks carry no media.
func (f *fakeRooms) AttachSink(room, identity, trackSID string, sink media.Sink) (func(), error) {
	return nil, signaling.ErrNotFound
}

func (f *fakeRooms) RequestKeyframe(room, identity, trackSID string) error {
	return signaling.ErrNotFound
}

func (f *fakeRooms) MintToken(spec signaling.TokenSpec) (string, error) {
	b, err := json.Marshal(spec)
	return string(b), err
}

// state is a fingerprint of a room, to prove a refused call changed nothing.
func (f *fakeRooms) state(room string) string {
	var b strings.Builder
	for _, p := range f.Participants(room) {
		keys := make([]string, 0, len(p.Attributes))
		for k := range p.Attributes {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		fmt.Fprintf(&b, "%s@%q", p.Identity, p.Space)
		for _, k := range keys {
			fmt.Fprintf(&b, " %s=%s", k, p.Attributes[k])
		}
		for _, t := range p.Tracks {
			fmt.Fprintf(&b, " %s:%v", t.SID, t.Muted)
		}
		b.WriteString(";")
	}
	f.mu.Lock()
	fmt.Fprintf(&b, "closed=%v", f.closed[room])
	f.mu.Unlock()
	return b.String()
}

// LockSources records nothing beyond a mute of the locked sources' tracks: the fake has
// no clients that could unmute themselves.
func (f *fakeRooms) LockSources(room, identity string, sources []string, locked bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, err := f.find(room, identity)
	if err != nil {
		return err
	}
	for i := range p.Tracks {
		for _, src := range sources {
			if locked && p.Tracks[i].Source == src {
				p.Tracks[i].Muted = true
			}
		}
	}
	return nil
}
