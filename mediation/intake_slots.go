package mediation

import (
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"yizhan/store"
)

// Leaders' video reception slots (视频约访) and each centre's duty reception (视频反映).

type slotJSON struct {
	ID         int64   `json:"id"`
	Centre     string  `json:"centre"`
	Leader     string  `json:"leader,omitempty"` // staff only
	LeaderName string  `json:"leader_name"`
	StartsAt   *string `json:"starts_at"`
	EndsAt     *string `json:"ends_at"`
	Capacity   int     `json:"capacity,omitempty"`
	Booked     int     `json:"booked,omitempty"`
	Free       int     `json:"free"`
	SessionID  int64   `json:"session_id,omitempty"` // staff only
}

func (in *intake) slotView(r *http.Request, sl store.Slot, staff bool) slotJSON {
	v := slotJSON{ID: sl.ID, Centre: sl.Centre, StartsAt: jsonTime(sl.StartsAt), EndsAt: jsonTime(sl.EndsAt), Free: max(sl.Capacity-sl.Booked, 0)}
	if st, err := in.st.Staff(r.Context(), sl.Leader); err == nil {
		v.LeaderName = st.Name
	}
	if staff {
		v.Leader, v.Capacity, v.Booked, v.SessionID = sl.Leader, sl.Capacity, sl.Booked, sl.SessionID
	}
	return v
}

func (in *intake) listSlots(w http.ResponseWriter, r *http.Request, code string, staff bool) error {
	slots, err := in.st.Slots(r.Context(), code, in.svc.now())
	if err != nil {
		return err
	}
	out := []slotJSON{}
	for _, sl := range slots {
		if staff || sl.Booked < sl.Capacity {
			out = append(out, in.slotView(r, sl, staff))
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"slots": out})
	return nil
}

func (in *intake) publicSlots(w http.ResponseWriter, r *http.Request) error {
	c, err := in.publicCentre(r.Context(), r.PathValue("code"))
	if err != nil {
		return err
	}
	return in.listSlots(w, r, c.Code, false)
}

func (in *intake) staffSlots(w http.ResponseWriter, r *http.Request, a *actor) error {
	c, err := in.svc.loop.centreParam(r.Context(), r, a)
	if err != nil {
		return err
	}
	return in.listSlots(w, r, c.Code, true)
}

func (in *intake) addSlot(w http.ResponseWriter, r *http.Request, a *actor) error {
	ctx := r.Context()
	c, err := in.svc.loop.centreParam(ctx, r, a)
	if err != nil {
		return err
	}
	if !a.leads() {
		return errf(http.StatusForbidden, "forbidden", "only leaders publish reception slots")
	}
	var req struct {
		Start    string `json:"start"`
		End      string `json:"end"`
		Capacity int    `json:"capacity"`
		Leader   string `json:"leader"`
	}
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	start, err := time.Parse(time.RFC3339, req.Start)
	if err != nil {
		return badRequest("start must be an RFC 3339 time")
	}
	end := start.Add(2 * time.Hour)
	if req.End != "" {
		if end, err = time.Parse(time.RFC3339, req.End); err != nil || !end.After(start) {
			return badRequest("end must be an RFC 3339 time after start")
		}
	}
	if !end.After(in.svc.now()) {
		return badRequest("the slot is in the past")
	}
	if req.Capacity == 0 {
		req.Capacity = 10
	}
	if req.Capacity < 1 || req.Capacity > 200 {
		return badRequest("capacity is 1 to 200")
	}
	if req.Leader == "" {
		req.Leader = a.Username
	}
	leader, err := in.st.Staff(ctx, req.Leader)
	if errors.Is(err, store.ErrNotFound) || (err == nil && (!leader.Has("leader") || leader.Disabled)) {
		return badRequest("%q is not a leader", req.Leader)
	}
	if err != nil {
		return err
	}
	if ok, err := in.st.Under(ctx, leader.Centre, c.Code); err != nil {
		return err
	} else if !ok {
		return badRequest("%s's centre does not cover %s", leader.Name, c.Name)
	}
	title := leader.Name + " 视频约访 " + start.In(chinaTime).Format("2006-01-02 15:04")
	sl, err := in.st.AddSlot(ctx, store.Slot{Centre: c.Code, Leader: leader.Username, StartsAt: start, EndsAt: end, Capacity: req.Capacity, CreatedBy: a.Username},
		title, title, "s-"+randomCode(10))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, in.slotView(r, sl, true))
	return nil
}

// chinaTime names slots in the centres' own clock (UTC+8, no daylight saving).
var chinaTime = time.FixedZone("CST", 8*3600)

func (in *intake) book(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Slot  int64  `json:"slot"`
		Name  string `json:"name"`
		Phone string `json:"phone"`
		Topic string `json:"topic"`
	}
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	ctx := r.Context()
	c, err := in.publicCentre(ctx, r.PathValue("code"))
	if err != nil {
		return err
	}
	req.Name, req.Phone, req.Topic = strings.TrimSpace(req.Name), strings.TrimSpace(req.Phone), strings.TrimSpace(req.Topic)
	if err := checkPerson(req.Name, req.Phone, true); err != nil {
		return err
	}
	if req.Topic == "" || utf8.RuneCountInString(req.Topic) > 2000 {
		return badRequest("topic is required (at most 2000 characters)")
	}
	sl, err := in.st.Slot(ctx, req.Slot)
	if errors.Is(err, store.ErrNotFound) || (err == nil && sl.Centre != c.Code) {
		return badRequest("no slot %d at this centre", req.Slot)
	}
	if err != nil {
		return err
	}
	if err := allow(in.byPhone, in.byAddr, phoneKey(req.Phone), clientAddr(r), in.svc.now()); err != nil {
		return err
	}
	code := trackingCode()
	bc, _, err := in.st.Book(ctx, store.Booking{SlotID: sl.ID,
		Case: store.Case{Title: titleOf(req.Topic), Description: req.Topic, Category: "other", Risk: "blue", Centre: c.Code, Board: "petition",
			Channel: "booking", TrackingCode: code, CreatedBy: "citizen", Parties: []store.Party{{Name: req.Name, Side: "applicant", Phone: req.Phone}}},
		Invitation: store.Invitation{Code: randomCode(16), Name: req.Name, ExpiresAt: sl.EndsAt.Add(time.Hour), CreatedBy: "citizen"}})
	if err != nil {
		return err
	}
	in.svc.publishCase(bc, "intake")
	writeJSON(w, http.StatusCreated, map[string]any{"tracking_code": code, "url": in.publicURL(r, "/t/"+code), "starts_at": jsonTime(sl.StartsAt)})
	return nil
}

type dutyJSON struct {
	Centre    string   `json:"centre"`
	SessionID int64    `json:"session_id"`
	Hosts     []string `json:"hosts"`
	OnDuty    bool     `json:"on_duty"` // the caller is one of the hosts
	Waiting   int      `json:"waiting"`
}

func (in *intake) writeDuty(w http.ResponseWriter, r *http.Request, a *actor, se store.Session, centre string) error {
	q, err := in.st.Queue(r.Context(), se.ID)
	if err != nil {
		return err
	}
	hosts := se.Hosts
	if hosts == nil {
		hosts = []string{}
	}
	writeJSON(w, http.StatusOK, dutyJSON{Centre: centre, SessionID: se.ID, Hosts: hosts, OnDuty: store.OneOf(a.Username, se.Hosts), Waiting: len(q)})
	return nil
}

func (in *intake) duty(w http.ResponseWriter, r *http.Request, a *actor) error {
	c, err := in.svc.loop.centreParam(r.Context(), r, a)
	if err != nil {
		return err
	}
	se, err := in.dutySession(r.Context(), c.Code)
	if err != nil {
		return err
	}
	return in.writeDuty(w, r, a, se, c.Code)
}

// setDuty puts the caller on (or off) their centre's duty: the duty reception's hosts hear
// its knocks and admit its callers.
func (in *intake) setDuty(w http.ResponseWriter, r *http.Request, a *actor) error {
	ctx := r.Context()
	c, err := in.svc.loop.centreParam(ctx, r, a)
	if err != nil {
		return err
	}
	if !a.editor() {
		return errForbidden
	}
	var req struct {
		On *bool `json:"on"`
	}
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	if req.On == nil {
		return badRequest("on (true or false) is required")
	}
	se, err := in.dutySession(ctx, c.Code)
	if err != nil {
		return err
	}
	if err := in.st.SetHost(ctx, se.ID, a.Username, *req.On); err != nil {
		return err
	}
	if se, err = in.st.Session(ctx, se.ID); err != nil {
		return err
	}
	return in.writeDuty(w, r, a, se, c.Code)
}
