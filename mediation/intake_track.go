package mediation

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"yizhan/store"
)

// The tracking page's answer: progress in plain stages (the web app words them), never
// staff internals.

type trackStep struct {
	Stage string  `json:"stage"` // received, assessing, handed, assigned, session, resolved, reopened, rated
	At    *string `json:"at"`
	To    string  `json:"to,omitempty"` // handed: the centre or department's name
}

type trackingJSON struct {
	TrackingCode string      `json:"tracking_code"`
	Number       string      `json:"number"`
	Centre       string      `json:"centre"`
	CentreName   string      `json:"centre_name"`
	Board        string      `json:"board"`
	Category     string      `json:"category"`
	Channel      string      `json:"channel"`
	Title        string      `json:"title"`
	SubmittedAt  *string     `json:"submitted_at"`
	Stage        string      `json:"stage"`
	Steps        []trackStep `json:"steps"`
	SessionAt    *string     `json:"session_at"` // the next session or booked reception
	JoinURL      string      `json:"join_url"`   // shown from shortly before a booked reception
	Closed       bool        `json:"closed"`
	Outcome      string      `json:"outcome"`
	CanRate      bool        `json:"can_rate"`
	Satisfaction int         `json:"satisfaction"`
	Comment      string      `json:"comment"`
}

func (in *intake) tracking(r *http.Request, code string) (trackingJSON, error) {
	ctx := r.Context()
	c, err := in.st.CaseByTracking(ctx, code)
	if err != nil {
		return trackingJSON{}, err
	}
	centres, err := in.svc.centreMap(ctx)
	if err != nil {
		return trackingJSON{}, err
	}
	now := in.svc.now()
	v := trackingJSON{TrackingCode: c.TrackingCode, Number: c.Number, Centre: c.Centre, CentreName: centres[c.Centre].Name, Board: c.Board,
		Category: c.Category, Channel: c.Channel, Title: c.Title, SubmittedAt: jsonTime(c.CreatedAt), Closed: c.Status == "closed",
		Satisfaction: c.Satisfaction, Comment: c.Feedback, Steps: []trackStep{}}
	if v.Closed {
		v.Outcome = c.Outcome
	}
	v.CanRate = v.Closed && c.Satisfaction == 0
	tl, err := in.st.Timeline(ctx, c.ID)
	if err != nil {
		return v, err
	}
	transfers, err := in.st.Transfers(ctx, c.ID, "", false)
	if err != nil {
		return v, err
	}
	handedTo := func(at time.Time) string {
		for _, t := range transfers {
			if t.State == "accepted" && t.DecidedAt.Sub(at).Abs() < time.Second {
				if t.Department != 0 {
					if d, err := in.st.Department(ctx, t.Department); err == nil {
						return d.Name
					}
				}
				return centres[t.ToCentre].Name
			}
		}
		return ""
	}
	step := func(stage string, at time.Time, to string) {
		v.Steps = append(v.Steps, trackStep{Stage: stage, At: jsonTime(at), To: to})
	}
	assessed := false
	for _, e := range tl {
		switch {
		case e.Kind == "created":
			step("received", e.Time, "")
		case e.Kind == "assessed" && !assessed:
			assessed = true
			step("assessing", e.Time, "")
		case e.Kind == "transfer_accepted":
			step("handed", e.Time, handedTo(e.Time))
		case e.Kind == "status" && strings.HasSuffix(e.Detail, "-> assigned"):
			step("assigned", e.Time, "")
		case e.Kind == "closed":
			step("resolved", e.Time, "")
		case e.Kind == "reopened":
			step("reopened", e.Time, "")
		case e.Kind == "feedback":
			step("rated", e.Time, "")
		}
	}
	// the next session: a scheduled mediation, or the booked reception
	var next time.Time
	sessions, err := in.st.ListSessions(ctx, store.SessionFilter{CaseID: c.ID})
	if err != nil {
		return v, err
	}
	for _, se := range sessions {
		if se.State != "ended" && !se.ScheduledAt.IsZero() && (next.IsZero() || se.ScheduledAt.Before(next)) {
			next = se.ScheduledAt
		}
	}
	sl, inv, err := in.st.BookingOf(ctx, c.ID)
	switch {
	case err == nil:
		if next.IsZero() || sl.StartsAt.Before(next) {
			next = sl.StartsAt
		}
		if !v.Closed && !now.Before(sl.StartsAt.Add(-joinEarly)) && now.Before(sl.EndsAt) && inv.Valid(now) {
			v.JoinURL = in.svc.linkURL(r, inv.Code)
		}
	case !errors.Is(err, store.ErrNotFound):
		return v, err
	}
	if !next.IsZero() && !v.Closed {
		v.SessionAt = jsonTime(next)
		step("session", next, "")
	}
	v.Stage = "received"
	for _, s := range v.Steps {
		if s.Stage != "rated" {
			v.Stage = s.Stage
		}
	}
	if v.Closed {
		v.Stage = "resolved"
	}
	return v, nil
}
