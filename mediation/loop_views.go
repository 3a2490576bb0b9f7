package mediation

import (
	"context"
	"time"

	"yizhan/store"
)

// JSON of the loop's objects (docs/API.md, "The loop").

type alertJSON struct {
	ID         int64   `json:"id"`
	CaseID     int64   `json:"case_id"`
	CaseNumber string  `json:"case_number"`
	CaseTitle  string  `json:"case_title"`
	CaseCentre string  `json:"case_centre"`
	Risk       string  `json:"risk"`
	Centre     string  `json:"centre"`
	CentreName string  `json:"centre_name"`
	Kind       string  `json:"kind"`
	CreatedAt  *string `json:"created_at"`
	AckBy      *string `json:"ack_by"`
	AckedBy    string  `json:"acked_by"`
	AckedAt    *string `json:"acked_at"`
	Overdue    bool    `json:"overdue"` // unacknowledged past ack_by
}

func alertView(a store.Alert, c store.Case, centres map[string]store.Centre, now time.Time) alertJSON {
	return alertJSON{ID: a.ID, CaseID: a.CaseID, CaseNumber: c.Number, CaseTitle: c.Title, CaseCentre: c.Centre, Risk: c.Risk,
		Centre: a.Centre, CentreName: centres[a.Centre].Name, Kind: a.Kind, CreatedAt: jsonTime(a.CreatedAt), AckBy: jsonTime(a.AckBy),
		AckedBy: a.AckedBy, AckedAt: jsonTime(a.AckedAt), Overdue: a.AckedAt.IsZero() && now.After(a.AckBy)}
}

type departmentJSON struct {
	ID     int64  `json:"id"`
	Centre string `json:"centre"`
	Kind   string `json:"kind"`
	Name   string `json:"name"`
}

func departmentView(d store.Department) departmentJSON {
	return departmentJSON{ID: d.ID, Centre: d.Centre, Kind: d.Kind, Name: d.Name}
}

type transferJSON struct {
	ID           int64           `json:"id"`
	CaseID       int64           `json:"case_id"`
	CaseNumber   string          `json:"case_number"`
	CaseTitle    string          `json:"case_title"`
	Board        string          `json:"board"`
	Risk         string          `json:"risk"`
	Description  string          `json:"description"`
	From         string          `json:"from"`
	FromName     string          `json:"from_name"`
	To           string          `json:"to"`
	ToName       string          `json:"to_name"`
	Department   *departmentJSON `json:"department"`
	Reason       string          `json:"reason"`
	Deadline     *string         `json:"deadline"`
	State        string          `json:"state"`
	CreatedBy    string          `json:"created_by"`
	CreatedAt    *string         `json:"created_at"`
	DecidedBy    string          `json:"decided_by"`
	DecidedAt    *string         `json:"decided_at"`
	ReturnReason string          `json:"return_reason"`
	Overdue      bool            `json:"overdue"`
}

func (l *caseLoop) transferView(ctx context.Context, t store.Transfer) (transferJSON, error) {
	c, err := l.st.Case(ctx, t.CaseID)
	if err != nil {
		return transferJSON{}, err
	}
	centres, err := l.svc.centreMap(ctx)
	if err != nil {
		return transferJSON{}, err
	}
	v := transferJSON{ID: t.ID, CaseID: t.CaseID, CaseNumber: c.Number, CaseTitle: c.Title, Board: c.Board, Risk: c.Risk, Description: c.Description,
		From: t.FromCentre, FromName: centres[t.FromCentre].Name, To: t.ToCentre, ToName: centres[t.ToCentre].Name, Reason: t.Reason,
		Deadline: jsonTime(t.Deadline), State: t.State, CreatedBy: t.CreatedBy, CreatedAt: jsonTime(t.CreatedAt), DecidedBy: t.DecidedBy,
		DecidedAt: jsonTime(t.DecidedAt), ReturnReason: t.ReturnReason, Overdue: t.State == "pending" && l.svc.now().After(t.Deadline)}
	if t.Department != 0 {
		d, err := l.st.Department(ctx, t.Department)
		if err != nil {
			return v, err
		}
		dv := departmentView(d)
		v.Department = &dv
	}
	return v, nil
}

type supervisionItemJSON struct {
	supervisionJSON
	Owner     string  `json:"owner"`
	Note      string  `json:"note"`
	State     string  `json:"state"` // open, done, overdue
	DoneNote  string  `json:"done_note"`
	DoneBy    string  `json:"done_by"`
	DoneAt    *string `json:"done_at"`
	CreatedBy string  `json:"created_by"`
	CreatedAt *string `json:"created_at"`
}

func supervisionItemView(sp store.SupervisionItem, now time.Time) supervisionItemJSON {
	state := "open"
	switch {
	case sp.Done:
		state = "done"
	case sp.Overdue || now.After(sp.Deadline):
		state = "overdue"
	}
	return supervisionItemJSON{supervisionJSON: supervisionView(sp.Supervision), Owner: sp.Owner, Note: sp.Note, State: state,
		DoneNote: sp.DoneNote, DoneBy: sp.DoneBy, DoneAt: jsonTime(sp.DoneAt), CreatedBy: sp.CreatedBy, CreatedAt: jsonTime(sp.CreatedAt)}
}

type followUpJSON struct {
	ID           int64   `json:"id"`
	CaseID       int64   `json:"case_id"`
	Method       string  `json:"method"`
	Note         string  `json:"note"`
	Satisfaction int     `json:"satisfaction"`
	CreatedBy    string  `json:"created_by"`
	CreatedAt    *string `json:"created_at"`
}

func followUpView(f store.FollowUp) followUpJSON {
	return followUpJSON{ID: f.ID, CaseID: f.CaseID, Method: f.Method, Note: f.Note, Satisfaction: f.Satisfaction, CreatedBy: f.CreatedBy, CreatedAt: jsonTime(f.CreatedAt)}
}
