package mediation

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"

	"yizhan/recording/hls"
	"yizhan/signaling"
)

// The lecture program: what is on stage, as one HLS stream (recording/hls) that any
// HTTP cache serves to audiences past one machine, and that stays as the lecture's
// archive. The picture is everyone on stage side by side (the speaker first); the sound
// is every microphone on stage, mixed.

// ProgramRooms is what the program needs of signaling: who publishes what, and a way to
// subscribe a writer to a track like the recorder does.
type ProgramRooms interface {
	Participants(room string) []signaling.Participant
	AttachSink(room, identity, trackSID string, sink signaling.Sink) (detach func(), err error)
	RequestKeyframe(room, identity, trackSID string) error
}

// LectureProgramConfig configures NewLectureProgram.
type LectureProgramConfig struct {
	Dir    string // one directory per lecture under it (the data dir's live/)
	Rooms  ProgramRooms
	FFmpeg string // default "ffmpeg"
	// PublicBase is where viewers fetch /live/ from: an HTTP cache or CDN in front of
	// this server ("https://live.example.cn"); "" = this server.
	PublicBase string
	Logger     *slog.Logger
}

// LectureProgram implements Program with ffmpeg.
type LectureProgram struct {
	cfg LectureProgramConfig

	mu      sync.Mutex            // guards running
	running map[int64]*programRun // by lecture
}

type programRun struct {
	key    string       // the tracks on air, see programTracks
	prog   *hls.Program // shared by the runs of one lecture's program
	detach []func()     // the sinks of the tracks on air
	tracks []programTrack
}

// requestKeyframes asks the publishers of the pictures on air in lecture id for a
// keyframe (its ffmpeg was started again, or a new run waits for its first pictures).
func (lp *LectureProgram) requestKeyframes(id int64, room string) {
	lp.mu.Lock()
	run := lp.running[id]
	lp.mu.Unlock()
	if run == nil {
		return
	}
	for _, t := range run.tracks {
		if t.video {
			_ = lp.cfg.Rooms.RequestKeyframe(room, t.identity, t.sid)
		}
	}
}

var _ Program = (*LectureProgram)(nil)

// NewLectureProgram makes the HLS program of lectures.
func NewLectureProgram(cfg LectureProgramConfig) *LectureProgram {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	return &LectureProgram{cfg: cfg, running: map[int64]*programRun{}}
}

func (lp *LectureProgram) dir(id int64) string {
	return filepath.Join(lp.cfg.Dir, strconv.FormatInt(id, 10))
}

// PlaylistURL is the live playlist of a lecture (served by Handler at /live/).
func (lp *LectureProgram) PlaylistURL(id int64) string {
	return fmt.Sprintf("%s/live/%d/index.m3u8", strings.TrimSuffix(lp.cfg.PublicBase, "/"), id)
}

// Handler serves /live/{lecture}/... (mount it at /live/).
func (lp *LectureProgram) Handler() http.Handler {
	return http.StripPrefix("/live", hls.Handler(lp.cfg.Dir))
}

type programTrack struct {
	identity, sid string
	video         bool
}

// programTracks picks what goes on air from a room's participants: the camera of
// everyone on stage (staff speakers, then guest speakers, moderators, viewers brought
// on stage; at most hls.MaxPictures, side by side) and every microphone among them.
func programTracks(ps []signaling.Participant, stage []string) []programTrack {
	rank := func(p signaling.Participant) int {
		switch {
		case p.Attributes["role"] == "speaker" && p.Attributes["guest"] != "1":
			return 0
		case p.Attributes["role"] == "speaker":
			return 1
		case p.Attributes["role"] == "moderator":
			return 2
		case slices.Contains(stage, p.Identity) && !p.Hidden:
			return 3
		}
		return -1
	}
	var on []signaling.Participant
	for _, p := range ps {
		if rank(p) >= 0 {
			on = append(on, p)
		}
	}
	slices.SortFunc(on, func(a, b signaling.Participant) int {
		if d := rank(a) - rank(b); d != 0 {
			return d
		}
		return strings.Compare(a.Identity, b.Identity)
	})
	var out []programTrack
	pictures := 0
	for _, p := range on {
		camera := false
		for _, t := range p.Tracks {
			switch {
			case t.Kind == "video" && t.Source == "camera" && !camera && !t.Muted && pictures < hls.MaxPictures:
				camera = true
				pictures++
				out = append(out, programTrack{identity: p.Identity, sid: t.SID, video: true})
			case t.Kind == "audio":
				out = append(out, programTrack{identity: p.Identity, sid: t.SID})
			}
		}
	}
	return out
}

func programKey(ts []programTrack) string {
	var b strings.Builder
	for _, t := range ts {
		fmt.Fprintf(&b, "%s/%s/%v;", t.identity, t.sid, t.video)
	}
	return b.String()
}

// Start puts what is on stage in room on air for lecture id. A change of who is on
// stage switches the running program to the new tracks without a gap (hls.Switch: the
// old ffmpeg run goes on until the new one has a segment); nothing on stage stops it.
// Called by the lecture's owner alone.
func (lp *LectureProgram) Start(ctx context.Context, id int64, room string, stage []string) error {
	tracks := programTracks(lp.cfg.Rooms.Participants(room), stage)
	key := programKey(tracks)
	lp.mu.Lock()
	old := lp.running[id]
	if old != nil && old.key == key {
		lp.mu.Unlock()
		return nil
	}
	if len(tracks) == 0 {
		delete(lp.running, id)
	}
	lp.mu.Unlock()
	if len(tracks) == 0 {
		if old != nil {
			old.stop()
		}
		return nil
	}
	var inputs []hls.Input
	for _, t := range tracks {
		inputs = append(inputs, hls.Input{Video: t.video})
	}
	var writers []*hls.Writer
	run := &programRun{key: key, tracks: tracks}
	if old != nil {
		w, retired, err := old.prog.Switch(inputs)
		if err != nil {
			return err
		}
		writers, run.prog = w, old.prog
		oldDetach := old.detach
		go func() { // ends when the old run is off air
			<-retired
			for _, d := range oldDetach {
				d()
			}
		}()
	} else {
		prog, err := hls.Start(ctx, hls.Config{Dir: lp.dir(id), FFmpeg: lp.cfg.FFmpeg, Logger: lp.cfg.Logger.With("lecture", id),
			KeyframeNeeded: func() { lp.requestKeyframes(id, room) }}, inputs)
		if err != nil {
			return err
		}
		writers, run.prog = prog.Writers(), prog
	}
	for i, t := range tracks {
		detach, err := lp.cfg.Rooms.AttachSink(room, t.identity, t.sid, writers[i])
		if err != nil {
			lp.cfg.Logger.Warn("lecture program: attach", "lecture", id, "track", t.sid, "err", err)
			continue
		}
		run.detach = append(run.detach, detach)
		if t.video {
			_ = lp.cfg.Rooms.RequestKeyframe(room, t.identity, t.sid)
		}
	}
	lp.mu.Lock()
	lp.running[id] = run
	lp.mu.Unlock()
	return nil
}

func (r *programRun) stop() {
	for _, d := range r.detach {
		d()
	}
	_ = r.prog.Stop()
}

// Stop ends lecture id's program; its directory is the archive ("live/{id}" relative
// to the data dir), or "" if nothing was ever on air.
func (lp *LectureProgram) Stop(id int64) string {
	lp.mu.Lock()
	run := lp.running[id]
	delete(lp.running, id)
	lp.mu.Unlock()
	if run != nil {
		run.stop()
	}
	dir := lp.dir(id)
	if _, err := os.Stat(filepath.Join(dir, hls.PlaylistName)); errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err := hls.MarkEnded(dir); err != nil {
		lp.cfg.Logger.Error("lecture program: mark ended", "lecture", id, "err", err)
	}
	return filepath.ToSlash(filepath.Join(filepath.Base(lp.cfg.Dir), strconv.FormatInt(id, 10)))
}

// Close stops every program (the server shuts down); their playlists stay open-ended
// for a restart to continue.
func (lp *LectureProgram) Close() {
	lp.mu.Lock()
	all := lp.running
	lp.running = map[int64]*programRun{}
	lp.mu.Unlock()
	for _, r := range all {
		r.stop()
	}
}
