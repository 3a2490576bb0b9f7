package mediation

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"yizhan/signaling"
	"yizhan/store"
)

// Guest speakers (issue 15: "speakers are staff hosts and invited guest speakers"): a
// moderator invites someone without an account by name and gets a link; whoever opens
// it joins on stage as a speaker (may publish, listed for everyone, in the program).
// The link's code is shown once and stored as a hash; revoking it ends the guest's
// connection and refuses the link from then on.

const maxGuestsPerLecture = 20

type guestJSON struct {
	ID        int64   `json:"id"`
	Name      string  `json:"name"`
	Identity  string  `json:"identity"`
	CreatedBy string  `json:"created_by"`
	CreatedAt *string `json:"created_at"`
	JoinedAt  *string `json:"joined_at"`
	Revoked   bool    `json:"revoked"`
	URL       string  `json:"url,omitempty"` // only when created: the code is not kept
}

func lectureGuestIdentity(id int64) string { return "guest-" + strconv.FormatInt(id, 10) }

func guestView(g store.LectureGuest) guestJSON {
	return guestJSON{ID: g.ID, Name: g.Name, Identity: lectureGuestIdentity(g.ID), CreatedBy: g.CreatedBy,
		CreatedAt: jsonTime(g.CreatedAt), JoinedAt: jsonTime(g.JoinedAt), Revoked: !g.RevokedAt.IsZero()}
}

func (l *lectures) guestRoutes(m *http.ServeMux) {
	s := l.svc
	m.Handle("GET /api/lectures/{id}/guests", s.staff(l.guests))
	m.Handle("POST /api/lectures/{id}/guests", s.staff(l.inviteGuest))
	m.Handle("DELETE /api/lectures/{id}/guests/{gid}", s.staff(l.revokeGuest))
	m.Handle("POST /api/public/lectures/{id}/guest-join", s.open(l.guestJoin))
}

func (l *lectures) guests(w http.ResponseWriter, r *http.Request, a *actor) error {
	lec, _, err := l.load(r, a, true)
	if err != nil {
		return err
	}
	gs, err := l.st.LectureGuests(r.Context(), lec.ID)
	if err != nil {
		return err
	}
	out := []guestJSON{}
	for _, g := range gs {
		out = append(out, guestView(g))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// inviteGuest: POST /api/lectures/{id}/guests {name} -> the guest with its link (once).
func (l *lectures) inviteGuest(w http.ResponseWriter, r *http.Request, a *actor) error {
	var req struct {
		Name string `json:"name"`
	}
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	req.Name = strings.TrimSpace(req.Name)
	if req.Name == "" || utf8.RuneCountInString(req.Name) > 40 {
		return badRequest("name is required (at most 40 characters)")
	}
	lec, _, err := l.load(r, a, true)
	if err != nil {
		return err
	}
	if lec.State == "ended" {
		return errf(http.StatusConflict, "conflict", "this lecture has ended")
	}
	ctx := r.Context()
	gs, err := l.st.LectureGuests(ctx, lec.ID)
	if err != nil {
		return err
	}
	if len(gs) >= maxGuestsPerLecture {
		return badRequest("at most %d guest speakers per lecture", maxGuestsPerLecture)
	}
	code := randomToken(24)
	g, err := l.st.AddLectureGuest(ctx, store.LectureGuest{LectureID: lec.ID, Name: req.Name, CodeHash: tokenHash(code),
		CreatedBy: a.Username, CreatedAt: l.svc.now()})
	if err != nil {
		return err
	}
	v := guestView(g)
	v.URL = l.publicURL(r, lec.ID) + "?guest=" + url.QueryEscape(code)
	writeJSON(w, http.StatusCreated, v)
	return nil
}

func (l *lectures) revokeGuest(w http.ResponseWriter, r *http.Request, a *actor) error {
	lec, _, err := l.load(r, a, true)
	if err != nil {
		return err
	}
	gid, err := pathID(r, "gid")
	if err != nil {
		return err
	}
	if err := l.st.RevokeLectureGuest(r.Context(), lec.ID, gid, l.svc.now()); errors.Is(err, store.ErrNotFound) {
		return notFound("guest")
	} else if err != nil {
		return err
	}
	if err := l.rc.RemoveParticipant(lec.Room, lectureGuestIdentity(gid)); err != nil && !errors.Is(err, signaling.ErrNotFound) {
		l.log.Warn("remove revoked guest", "lecture", lec.ID, "guest", gid, "err", err)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// guestJoin: POST /api/public/lectures/{id}/guest-join {code} -> {url, token, identity,
// name, role}: a token that may publish, shown to everyone, with role "speaker".
func (l *lectures) guestJoin(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Code string `json:"code"`
	}
	if err := decode(w, r, &req, false); err != nil {
		return err
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
	ctx := r.Context()
	g, err := l.st.LectureGuestByCode(ctx, lec.ID, tokenHash(strings.TrimSpace(req.Code)))
	if errors.Is(err, store.ErrNotFound) {
		return errf(http.StatusForbidden, "forbidden", "this guest link is not valid (revoked, or for another lecture)")
	}
	if err != nil {
		return err
	}
	if lec.State == "ended" {
		return errf(http.StatusConflict, "conflict", "this lecture has ended")
	}
	identity := lectureGuestIdentity(g.ID)
	tok, err := l.rc.MintToken(signaling.TokenSpec{Room: lec.Room, Identity: identity, Name: g.Name,
		Attributes: cleanAttrs(map[string]string{"role": "speaker", "guest": "1", "centre": lec.Centre}),
		TTL:        l.svc.cfg.TokenTTL, CanPublish: true, CanSubscribe: true, CanPublishData: true})
	if err != nil {
		return err
	}
	if err := l.st.GuestJoined(ctx, lec.ID, g.ID, now); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"url": l.svc.signalURL(r), "token": tok, "identity": identity,
		"name": g.Name, "role": "speaker", "title": lec.Title, "state": lec.State})
	return nil
}

// guestValid: identity is a guest of lecture id who has not been revoked.
func (l *lectures) guestValid(ctx context.Context, id int64, identity string) bool {
	gs, err := l.st.LectureGuests(ctx, id)
	if err != nil {
		return false
	}
	for _, g := range gs {
		if lectureGuestIdentity(g.ID) == identity {
			return g.RevokedAt.IsZero()
		}
	}
	return false
}
