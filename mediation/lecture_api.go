package mediation

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"yizhan/signaling"
	"yizhan/store"
)

// The lecture API (docs/API.md, "Lectures"). Staff create, start, end and moderate;
// anyone with the public link watches and asks.

const maxQuestionRunes = 300

func (l *lectures) routes(m *http.ServeMux) {
	s := l.svc
	m.Handle("POST /api/lectures", s.staff(l.create))
	m.Handle("GET /api/lectures", s.staff(l.list))
	m.Handle("GET /api/lectures/stats", s.staff(l.stats))
	m.Handle("GET /api/lectures/{id}", s.staff(l.get))
	m.Handle("POST /api/lectures/{id}/start", s.staff(l.start))
	m.Handle("POST /api/lectures/{id}/end", s.staff(l.end))
	m.Handle("POST /api/lectures/{id}/join", s.staff(l.staffJoin))
	m.Handle("GET /api/lectures/{id}/questions", s.staff(l.questions))
	m.Handle("POST /api/lectures/{id}/questions/{qid}/answered", s.staff(l.answered))
	m.Handle("POST /api/lectures/{id}/stage", s.staff(l.stage))
	m.Handle("GET /api/lectures/{id}/attendance", s.staff(l.attendance))
	m.Handle("GET /api/public/lectures/{id}", s.open(l.publicInfo))
	m.Handle("POST /api/public/lectures/{id}/join", s.open(l.publicJoin))
	m.Handle("POST /api/public/lectures/{id}/questions", s.open(l.ask))
	l.guestRoutes(m) // lecture_guests.go
}

type lectureJSON struct {
	ID          int64    `json:"id"`
	Room        string   `json:"room"`
	PublicURL   string   `json:"public_url"`
	Title       string   `json:"title"`
	Centre      string   `json:"centre"`
	State       string   `json:"state"`
	ScheduledAt *string  `json:"scheduled_at"`
	StartedAt   *string  `json:"started_at"`
	EndedAt     *string  `json:"ended_at"`
	Speakers    []string `json:"speakers"`
	CreatedBy   string   `json:"created_by"`
	Viewers     int      `json:"viewers"`
	Peak        int      `json:"peak"`
	HLS         string   `json:"hls"`
	Archive     string   `json:"archive"`
	Moderator   bool     `json:"moderator"` // the caller may moderate
}

func (l *lectures) publicURL(r *http.Request, id int64) string {
	return l.svc.publicBase(r) + "/l/" + strconv.FormatInt(id, 10) // never the request's Host (issue 12)
}

func (l *lectures) view(r *http.Request, lec store.Lecture, moderator bool) lectureJSON {
	v := lectureJSON{ID: lec.ID, Room: lec.Room, PublicURL: l.publicURL(r, lec.ID), Title: lec.Title, Centre: lec.Centre,
		State: lec.State, ScheduledAt: jsonTime(lec.ScheduledAt), StartedAt: jsonTime(lec.StartedAt), EndedAt: jsonTime(lec.EndedAt),
		Speakers: lec.Speakers, CreatedBy: lec.CreatedBy, Peak: lec.Peak, HLS: l.hlsURL(lec), Moderator: moderator}
	if lec.Archive != "" && l.cfg.Program != nil {
		v.Archive = strings.TrimSuffix(l.cfg.Program.PlaylistURL(lec.ID), "index.m3u8") + "archive.m3u8"
	}
	if ll := l.peek(lec.Room); ll != nil {
		v.Viewers = int(ll.viewers.Load())
	}
	return v
}

func (l *lectures) hlsURL(lec store.Lecture) string {
	if l.cfg.Program == nil || lec.State != "live" {
		return ""
	}
	return l.cfg.Program.PlaylistURL(lec.ID)
}

// mayModerate: the lecture's speakers and creator, and editors who can see its centre.
func (l *lectures) mayModerate(ctx context.Context, a *actor, lec store.Lecture) (bool, error) {
	if store.OneOf(a.Username, lec.Speakers) || a.Username == lec.CreatedBy {
		return true, nil
	}
	if !a.editor() {
		return false, nil
	}
	return l.svc.canSee(ctx, a, lec.Centre)
}

// load resolves {id}. Every staff member may see a lecture (it is public); mod says
// whether they must be able to moderate it.
func (l *lectures) load(r *http.Request, a *actor, mod bool) (store.Lecture, bool, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return store.Lecture{}, false, err
	}
	lec, err := l.st.Lecture(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return lec, false, notFound("lecture")
	}
	if err != nil {
		return lec, false, err
	}
	ok, err := l.mayModerate(r.Context(), a, lec)
	if err != nil {
		return lec, false, err
	}
	if mod && !ok {
		return lec, false, errf(http.StatusForbidden, "forbidden", "only the lecture's speakers and moderators may do this")
	}
	return lec, ok, nil
}

type createLectureReq struct {
	Title       string   `json:"title"`
	ScheduledAt string   `json:"scheduled_at"`
	Centre      string   `json:"centre"`
	Speakers    []string `json:"speakers"`
}

func (l *lectures) create(w http.ResponseWriter, r *http.Request, a *actor) error {
	var req createLectureReq
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	ctx := r.Context()
	if !a.editor() {
		return errForbidden
	}
	req.Title = strings.TrimSpace(req.Title)
	if req.Title == "" || utf8.RuneCountInString(req.Title) > 200 {
		return badRequest("title is required (at most 200 characters)")
	}
	at, err := time.Parse(time.RFC3339, req.ScheduledAt)
	if err != nil {
		return badRequest("scheduled_at must be an RFC 3339 time, e.g. 2026-12-07T14:00:00+08:00")
	}
	if req.Centre == "" {
		req.Centre = a.Centre
	}
	if _, err := l.st.Centre(ctx, req.Centre); errors.Is(err, store.ErrNotFound) {
		return badRequest("unknown centre %q", req.Centre)
	} else if err != nil {
		return err
	}
	if ok, err := l.svc.canSee(ctx, a, req.Centre); err != nil {
		return err
	} else if !ok {
		return errf(http.StatusForbidden, "forbidden", "you may schedule lectures only for your centre and those below it")
	}
	if len(req.Speakers) > 20 {
		return badRequest("at most 20 speakers")
	}
	for _, u := range req.Speakers {
		if st, err := l.st.Staff(ctx, u); errors.Is(err, store.ErrNotFound) || (err == nil && st.Disabled) {
			return badRequest("unknown speaker %q", u)
		} else if err != nil {
			return err
		}
	}
	lec, err := l.st.CreateLecture(ctx, store.Lecture{Centre: req.Centre, Title: req.Title, Room: lectureRoomPrefix + randomCode(10),
		ScheduledAt: at.UTC(), Speakers: req.Speakers, CreatedBy: a.Username, CreatedAt: l.svc.now()})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, l.view(r, lec, true))
	return nil
}

// list: the lectures of the caller's centre tree (from its root: lectures reach down
// from the city to the villages).
func (l *lectures) list(w http.ResponseWriter, r *http.Request, a *actor) error {
	ctx := r.Context()
	root := a.centre
	for i := 0; root.Parent != "" && i < 16; i++ {
		c, err := l.st.Centre(ctx, root.Parent)
		if err != nil {
			return err
		}
		root = c
	}
	lecs, err := l.st.ListLectures(ctx, root.Code, 200)
	if err != nil {
		return err
	}
	out := []lectureJSON{}
	for _, lec := range lecs {
		mod, err := l.mayModerate(ctx, a, lec)
		if err != nil {
			return err
		}
		out = append(out, l.view(r, lec, mod))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (l *lectures) get(w http.ResponseWriter, r *http.Request, a *actor) error {
	lec, mod, err := l.load(r, a, false)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l.view(r, lec, mod))
	return nil
}

func (l *lectures) start(w http.ResponseWriter, r *http.Request, a *actor) error {
	return l.transition(w, r, a, "live", func(ctx context.Context, lec store.Lecture) error {
		if ll := l.owner(lec.Room); ll != nil {
			ll.poke() // run reloads the lecture, rewrites the metadata, starts the program
		}
		return nil
	})
}

func (l *lectures) end(w http.ResponseWriter, r *http.Request, a *actor) error {
	return l.transition(w, r, a, "ended", func(ctx context.Context, lec store.Lecture) error {
		l.retire(lec.Room)
		// The metadata says "ended" before the room closes: a viewer's page then shows the
		// end instead of falling back to the stream.
		l.setMeta(lec.Room, lec, 0, nil)
		if err := l.rc.CloseRoom(lec.Room); err != nil && !errors.Is(err, signaling.ErrNotFound) {
			l.log.Warn("close lecture room", "room", lec.Room, "err", err)
		}
		if l.cfg.Program != nil {
			if archive := l.cfg.Program.Stop(lec.ID); archive != "" {
				return l.st.SetLectureArchive(ctx, lec.ID, archive)
			}
		}
		return nil
	})
}

// transition moves a lecture to state (moderators only), runs what follows from it,
// and answers the lecture as stored afterwards.
func (l *lectures) transition(w http.ResponseWriter, r *http.Request, a *actor, state string,
	then func(ctx context.Context, lec store.Lecture) error) error {
	if err := decode(w, r, &struct{}{}, true); err != nil {
		return err
	}
	lec, _, err := l.load(r, a, true)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if err := l.st.SetLectureState(ctx, lec.ID, state, l.svc.now()); err != nil {
		return err
	}
	lec.State = state
	if err := then(ctx, lec); err != nil {
		return err
	}
	lec, err = l.st.Lecture(ctx, lec.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, l.view(r, lec, true))
	return nil
}

// staffJoin: speakers and moderators join to publish; any staff member may join as a
// centre's screen ({"screen": true, "people": N}): a viewer that counts N people.
func (l *lectures) staffJoin(w http.ResponseWriter, r *http.Request, a *actor) error {
	var req struct {
		Screen bool `json:"screen"`
		People int  `json:"people"`
	}
	if err := decode(w, r, &req, true); err != nil {
		return err
	}
	lec, mod, err := l.load(r, a, false)
	if err != nil {
		return err
	}
	if lec.State == "ended" {
		return errf(http.StatusConflict, "conflict", "this lecture has ended")
	}
	if req.Screen {
		if req.People < 1 || req.People > 10000 {
			return badRequest("people must be between 1 and 10000")
		}
		return l.viewerJoin(w, r, lec, "screen-"+a.Username, a.centre.Name, a.Centre, "screen", req.People)
	}
	if !mod {
		return errf(http.StatusForbidden, "forbidden", "only the lecture's speakers and moderators join on stage; join as a centre's screen instead")
	}
	role := "moderator"
	if store.OneOf(a.Username, lec.Speakers) {
		role = "speaker"
	}
	tok, err := l.rc.MintToken(signaling.TokenSpec{Room: lec.Room, Identity: a.identity(), Name: a.Name,
		Attributes: cleanAttrs(map[string]string{"role": role, "centre": a.Centre}),
		TTL:        l.svc.cfg.TokenTTL, CanPublish: true, CanSubscribe: true, CanPublishData: true})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"url": l.svc.signalURL(r), "token": tok, "identity": a.identity(), "role": role})
	return nil
}

func (l *lectures) publicLecture(r *http.Request) (store.Lecture, error) {
	id, err := pathID(r, "id")
	if err != nil {
		return store.Lecture{}, err
	}
	lec, err := l.st.Lecture(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return lec, notFound("lecture")
	}
	return lec, err
}

func (l *lectures) publicInfo(w http.ResponseWriter, r *http.Request) error {
	lec, err := l.publicLecture(r)
	if err != nil {
		return err
	}
	v := l.view(r, lec, false)
	centre := lec.Centre
	if c, err := l.st.Centre(r.Context(), lec.Centre); err == nil {
		centre = c.Name
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": v.ID, "title": v.Title, "state": v.State, "viewers": v.Viewers,
		"hls": v.HLS, "scheduled_at": v.ScheduledAt, "centre": centre, "archive": v.Archive})
	return nil
}

func (l *lectures) publicJoin(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name   string `json:"name"`
		Centre string `json:"centre"`
	}
	if err := decode(w, r, &req, true); err != nil {
		return err
	}
	req.Name, req.Centre = strings.TrimSpace(req.Name), strings.TrimSpace(req.Centre)
	if utf8.RuneCountInString(req.Name) > 40 || utf8.RuneCountInString(req.Centre) > 60 {
		return badRequest("name is at most 40 characters, centre at most 60")
	}
	addr, now := clientAddr(r), l.svc.now()
	if !l.join.allow(addr, now) {
		return errf(http.StatusTooManyRequests, "rate_limited", "too many joins from your address; try again later")
	}
	l.join.fail(addr, now)
	lec, err := l.publicLecture(r)
	if err != nil {
		return err
	}
	if lec.State == "ended" {
		return errf(http.StatusConflict, "conflict", "this lecture has ended")
	}
	centre := req.Centre
	if c, err := l.st.Centre(r.Context(), centre); err == nil {
		centre = c.Code // a known centre by code; anything else is kept as typed
	}
	return l.viewerJoin(w, r, lec, "viewer-"+randomCode(8), req.Name, centre, "viewer", 1)
}

// viewerJoin hands out a hidden, subscribe-only token, or the HLS stream when the
// lecture's WebRTC seats are taken.
func (l *lectures) viewerJoin(w http.ResponseWriter, r *http.Request, lec store.Lecture, identity, name, centre, kind string, people int) error {
	now := l.svc.now()
	ll := l.owner(lec.Room)
	if ll == nil {
		return errf(http.StatusConflict, "conflict", "this lecture has ended")
	}
	if ll.seats(now) >= l.cfg.MaxWebRTC && kind == "viewer" {
		hls := l.hlsURL(lec)
		if hls == "" {
			return errf(http.StatusServiceUnavailable, "full", "the lecture is full; try again later")
		}
		// The HLS viewer may still ask questions: ask_token proves its identity (it is
		// not a LiveKit token). It counts as attending now: a cache serves it.
		ask := randomToken(24)
		v := store.Viewer{LectureID: lec.ID, Identity: identity, Name: orDefault(name, "观众"), Centre: centre, Kind: kind, People: people,
			TokenHash: tokenHash(ask), IssuedAt: now}
		if err := l.st.AddViewer(r.Context(), v); err != nil {
			return err
		}
		if err := l.st.ViewerJoined(r.Context(), lec.ID, identity, now); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]string{"hls": hls, "identity": identity, "ask_token": ask})
		return nil
	}
	name = orDefault(name, "观众")
	tok, err := l.rc.MintToken(signaling.TokenSpec{Room: lec.Room, Identity: identity, Name: name,
		Attributes: viewerAttrs(kind, centre, people), TTL: l.svc.cfg.TokenTTL,
		CanSubscribe: true, Hidden: true})
	if err != nil {
		return err
	}
	if err := l.st.AddViewer(r.Context(), store.Viewer{LectureID: lec.ID, Identity: identity, Name: name, Centre: centre,
		Kind: kind, People: people, TokenHash: tokenHash(tok), IssuedAt: now}); err != nil {
		return err
	}
	ll.hold(identity, now)
	writeJSON(w, http.StatusOK, map[string]string{"url": l.svc.signalURL(r), "token": tok, "identity": identity, "hls": l.hlsURL(lec)})
	return nil
}

type questionJSON struct {
	ID         int64   `json:"id"`
	Identity   string  `json:"identity"`
	Name       string  `json:"name"`
	Centre     string  `json:"centre"`
	Text       string  `json:"text"`
	Hand       bool    `json:"hand"`
	AskedAt    *string `json:"asked_at"`
	AnsweredAt *string `json:"answered_at"`
}

func questionView(q store.Question) questionJSON {
	return questionJSON{ID: q.ID, Identity: q.Identity, Name: q.Name, Centre: q.Centre, Text: q.Text, Hand: q.Hand,
		AskedAt: jsonTime(q.AskedAt), AnsweredAt: jsonTime(q.AnsweredAt)}
}

// ask: a viewer's question (or raised hand), proven by the token it was given.
func (l *lectures) ask(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Identity string `json:"identity"`
		Token    string `json:"token"`
		Text     string `json:"text"`
		Hand     bool   `json:"hand"`
	}
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	lec, err := l.publicLecture(r)
	if err != nil {
		return err
	}
	req.Text = strings.TrimSpace(req.Text)
	if (req.Text == "" && !req.Hand) || utf8.RuneCountInString(req.Text) > maxQuestionRunes {
		return badRequest("a question is 1 to %d characters", maxQuestionRunes)
	}
	v, err := l.st.Viewer(r.Context(), lec.ID, req.Identity)
	if errors.Is(err, store.ErrNotFound) || (err == nil && v.TokenHash != tokenHash(req.Token)) {
		return errf(http.StatusForbidden, "forbidden", "identity and token do not match a viewer of this lecture")
	}
	if err != nil {
		return err
	}
	if lec.State != "live" && lec.State != "scheduled" {
		return errf(http.StatusConflict, "conflict", "this lecture has ended")
	}
	now := l.svc.now()
	key := strconv.FormatInt(lec.ID, 10) + "/" + req.Identity
	if !l.asks.allow(key, now) {
		return errf(http.StatusTooManyRequests, "rate_limited", "too many questions; wait a few minutes")
	}
	l.asks.fail(key, now)
	q, err := l.st.AddQuestion(r.Context(), store.Question{LectureID: lec.ID, Identity: v.Identity, Name: v.Name, Centre: v.Centre,
		Text: req.Text, Hand: req.Hand, AskedAt: now})
	if err != nil {
		return err
	}
	l.svc.emit(event{name: "lecture_question", to: append([]string{lec.CreatedBy}, lec.Speakers...), adminsOf: lec.Centre,
		data: map[string]any{"lecture_id": lec.ID, "question": questionView(q)}})
	writeJSON(w, http.StatusCreated, map[string]int64{"id": q.ID})
	return nil
}

func (l *lectures) questions(w http.ResponseWriter, r *http.Request, a *actor) error {
	lec, _, err := l.load(r, a, true)
	if err != nil {
		return err
	}
	qs, err := l.st.Questions(r.Context(), lec.ID)
	if err != nil {
		return err
	}
	out := []questionJSON{}
	for _, q := range qs {
		out = append(out, questionView(q))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (l *lectures) answered(w http.ResponseWriter, r *http.Request, a *actor) error {
	if err := decode(w, r, &struct{}{}, true); err != nil {
		return err
	}
	lec, _, err := l.load(r, a, true)
	if err != nil {
		return err
	}
	qid, err := pathID(r, "qid")
	if err != nil {
		return err
	}
	q, err := l.st.AnswerQuestion(r.Context(), lec.ID, qid, l.svc.now())
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, questionView(q))
	return nil
}

// stage brings a viewer on stage (shown to all, may publish) or takes them off (hidden
// again, publishing revoked: the server mutes and drops what they published).
func (l *lectures) stage(w http.ResponseWriter, r *http.Request, a *actor) error {
	var req struct {
		Identity string `json:"identity"`
		On       *bool  `json:"on"`
	}
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	if req.Identity == "" || req.On == nil {
		return badRequest("identity and on are required")
	}
	lec, _, err := l.load(r, a, true)
	if err != nil {
		return err
	}
	if lec.State != "live" {
		return errf(http.StatusConflict, "conflict", "the lecture is not live")
	}
	if l.ctl == nil {
		return errf(http.StatusServiceUnavailable, "unavailable", "the stage needs the live signaling server")
	}
	if _, err := l.st.Viewer(r.Context(), lec.ID, req.Identity); errors.Is(err, store.ErrNotFound) {
		return notFound("viewer")
	} else if err != nil {
		return err
	}
	on := *req.On
	perm := signaling.Permission{CanSubscribe: true, CanPublish: on, CanPublishData: on}
	if on {
		if err := l.rc.SetPermission(lec.Room, req.Identity, perm); err != nil {
			return stageErr(err)
		}
		if err := l.ctl.SetHidden(lec.Room, req.Identity, false); err != nil {
			return stageErr(err)
		}
	} else {
		if err := l.ctl.SetHidden(lec.Room, req.Identity, true); err != nil && !errors.Is(err, signaling.ErrNotFound) {
			return stageErr(err)
		}
		if err := l.rc.SetPermission(lec.Room, req.Identity, perm); err != nil && !errors.Is(err, signaling.ErrNotFound) {
			return stageErr(err)
		}
	}
	if ll := l.owner(lec.Room); ll != nil && ll.onStage(req.Identity, on) {
		ll.poke()
	}
	writeJSON(w, http.StatusOK, map[string]any{"identity": req.Identity, "on": on})
	return nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

func stageErr(err error) error {
	if errors.Is(err, signaling.ErrNotFound) {
		return errf(http.StatusNotFound, "not_found", "that viewer is not connected")
	}
	return err
}

type attendanceJSON struct {
	Centre  string `json:"centre"`
	Name    string `json:"name"`
	Viewers int    `json:"viewers"`
	People  int    `json:"people"`
	Peak    int    `json:"peak"`
}

func (l *lectures) attendanceOf(ctx context.Context, under string, id int64) ([]attendanceJSON, error) {
	rows, err := l.st.Attendance(ctx, under, id)
	if err != nil {
		return nil, err
	}
	names, err := l.svc.centreMap(ctx)
	if err != nil {
		return nil, err
	}
	out := []attendanceJSON{}
	for _, row := range rows {
		a := attendanceJSON{Centre: row.Centre, Name: row.Centre, Viewers: row.Viewers, People: row.People, Peak: row.Peak}
		if c, ok := names[row.Centre]; ok {
			a.Name = c.Name
		}
		out = append(out, a)
	}
	return out, nil
}

func (l *lectures) attendance(w http.ResponseWriter, r *http.Request, a *actor) error {
	lec, _, err := l.load(r, a, true)
	if err != nil {
		return err
	}
	out, err := l.attendanceOf(r.Context(), lec.Centre, lec.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"lecture_id": lec.ID, "peak": lec.Peak, "rows": out})
	return nil
}

// stats: attendance per centre over the lectures of the caller's centre and below.
func (l *lectures) stats(w http.ResponseWriter, r *http.Request, a *actor) error {
	out, err := l.attendanceOf(r.Context(), a.Centre, 0)
	if err != nil {
		return err
	}
	lecs, err := l.st.ListLectures(r.Context(), a.Centre, 500)
	if err != nil {
		return err
	}
	peak := 0
	for _, lec := range lecs {
		peak = max(peak, lec.Peak)
	}
	writeJSON(w, http.StatusOK, map[string]any{"lectures": len(lecs), "peak": peak, "rows": out})
	return nil
}
