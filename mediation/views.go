package mediation

import (
	"strconv"
	"time"

	"yizhan/signaling"
	"yizhan/store"
)

// The JSON objects of docs/API.md.

type centreJSON struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Tier   string `json:"tier"`
	Parent string `json:"parent"`
}

func centreView(c store.Centre) centreJSON {
	return centreJSON{Code: c.Code, Name: c.Name, Tier: c.Tier, Parent: c.Parent}
}

type staffJSON struct {
	Username   string   `json:"username"`
	Name       string   `json:"name"`
	Centre     string   `json:"centre"`
	CentreName string   `json:"centre_name"`
	Tier       string   `json:"tier"`
	Roles      []string `json:"roles"`
	Gold       bool     `json:"gold"`
}

func staffView(s store.Staff, c store.Centre) staffJSON {
	roles := s.Roles
	if roles == nil {
		roles = []string{}
	}
	return staffJSON{Username: s.Username, Name: s.Name, Centre: s.Centre, CentreName: c.Name, Tier: c.Tier, Roles: roles, Gold: s.Gold}
}

// jsonTime is RFC 3339 UTC, null when unset.
func jsonTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	v := t.UTC().Format(time.RFC3339)
	return &v
}

type partyJSON struct {
	ID    int64  `json:"id"`
	Name  string `json:"name"`
	Side  string `json:"side"`
	Phone string `json:"phone"`
}

type caseJSON struct {
	ID           int64       `json:"id"`
	Number       string      `json:"number"`
	Title        string      `json:"title"`
	Category     string      `json:"category"`
	Risk         string      `json:"risk"`
	Status       string      `json:"status"`
	Centre       string      `json:"centre"`
	CentreName   string      `json:"centre_name"`
	Tier         string      `json:"tier"`
	Mediator     string      `json:"mediator"`
	MediatorName string      `json:"mediator_name"`
	Outcome      string      `json:"outcome"`
	Description  string      `json:"description"`
	Parties      []partyJSON `json:"parties"`
	CreatedAt    *string     `json:"created_at"`
	UpdatedAt    *string     `json:"updated_at"`

	// the loop (issue 11)
	Board        string  `json:"board"`
	Channel      string  `json:"channel"`
	Kind         string  `json:"kind"`
	Major        bool    `json:"major"`
	Notes        string  `json:"notes"`
	Address      string  `json:"address"`
	Department   int64   `json:"department"`
	InformedBy   string  `json:"informed_by"`
	TrackingCode string  `json:"tracking_code"`
	DueAt        *string `json:"due_at"`
	ClosedAt     *string `json:"closed_at"`
	Satisfaction int     `json:"satisfaction"`
	Feedback     string  `json:"feedback"`
}

type caseDetailJSON struct {
	caseJSON
	Timeline     []eventJSON       `json:"timeline"`
	Sessions     []sessionJSON     `json:"sessions"`
	Supervisions []supervisionJSON `json:"supervisions"`
}

// names resolves centres and mediator display names for case views of one request.
type names struct {
	centres map[string]store.Centre
	staff   map[string]string
}

func caseView(c store.Case, n names) caseJSON {
	ce := n.centres[c.Centre]
	parties := make([]partyJSON, 0, len(c.Parties))
	for _, p := range c.Parties {
		parties = append(parties, partyJSON{ID: p.ID, Name: p.Name, Side: p.Side, Phone: p.Phone})
	}
	return caseJSON{ID: c.ID, Number: c.Number, Title: c.Title, Category: c.Category, Risk: c.Risk, Status: c.Status,
		Centre: c.Centre, CentreName: ce.Name, Tier: ce.Tier, Mediator: c.Mediator, MediatorName: n.staff[c.Mediator],
		Outcome: c.Outcome, Description: c.Description, Parties: parties, CreatedAt: jsonTime(c.CreatedAt), UpdatedAt: jsonTime(c.UpdatedAt),
		Board: c.Board, Channel: c.Channel, Kind: c.Kind, Major: c.Major, Notes: c.Notes, Address: c.Address, Department: c.Department,
		InformedBy: c.InformedBy, TrackingCode: c.TrackingCode, DueAt: jsonTime(c.DueAt), ClosedAt: jsonTime(c.ClosedAt),
		Satisfaction: c.Satisfaction, Feedback: c.Feedback}
}

type eventJSON struct {
	ID        int64             `json:"id"`
	Time      *string           `json:"time"`
	Kind      string            `json:"kind"`
	Actor     string            `json:"actor"`
	SessionID int64             `json:"session_id"`
	Subject   string            `json:"subject"`
	Detail    string            `json:"detail"`
	Fields    map[string]string `json:"fields"` // what happened as data; the app words it
}

func eventView(e store.Event) eventJSON {
	return eventJSON{ID: e.ID, Time: jsonTime(e.Time), Kind: e.Kind, Actor: e.Actor, SessionID: e.SessionID, Subject: e.Subject, Detail: e.Detail, Fields: e.Fields}
}

type sessionJSON struct {
	ID           int64    `json:"id"`
	CaseID       int64    `json:"case_id"`
	CaseNumber   string   `json:"case_number"`
	CaseTitle    string   `json:"case_title"`
	Centre       string   `json:"centre"`
	Kind         string   `json:"kind"`
	Title        string   `json:"title"`
	ScheduledAt  *string  `json:"scheduled_at"`
	Hosts        []string `json:"hosts"`
	Room         string   `json:"room"`
	State        string   `json:"state"`
	CaucusPolicy string   `json:"caucus_policy"`
	RecordOnOpen bool     `json:"record_on_open"`
	CreatedAt    *string  `json:"created_at"`
}

func sessionView(se store.Session, c store.Case) sessionJSON {
	hosts := se.Hosts
	if hosts == nil {
		hosts = []string{}
	}
	return sessionJSON{ID: se.ID, CaseID: se.CaseID, CaseNumber: c.Number, CaseTitle: c.Title, Centre: c.Centre, Kind: se.Kind,
		Title: se.Title, ScheduledAt: jsonTime(se.ScheduledAt), Hosts: hosts, Room: se.Room, State: se.State,
		CaucusPolicy: se.CaucusPolicy, RecordOnOpen: se.RecordOnOpen, CreatedAt: jsonTime(se.CreatedAt)}
}

type invitationJSON struct {
	Code      string  `json:"code"`
	URL       string  `json:"url"`
	SessionID int64   `json:"session_id"`
	Role      string  `json:"role"`
	Side      string  `json:"side"`
	Name      string  `json:"name"`
	Party     int64   `json:"party"`
	Identity  string  `json:"identity"`
	ExpiresAt *string `json:"expires_at"`
	Revoked   bool    `json:"revoked"`
	CreatedAt *string `json:"created_at"`
}

func guestIdentity(invID int64) string { return "guest-" + strconv.FormatInt(invID, 10) }

func invitationView(inv store.Invitation, url string) invitationJSON {
	return invitationJSON{Code: inv.Code, URL: url, SessionID: inv.SessionID, Role: inv.Role, Side: inv.Side, Name: inv.Name,
		Party: inv.PartyID, Identity: guestIdentity(inv.ID), ExpiresAt: jsonTime(inv.ExpiresAt), Revoked: inv.Revoked, CreatedAt: jsonTime(inv.CreatedAt)}
}

type supervisionJSON struct {
	ID       int64   `json:"id"`
	CaseID   int64   `json:"case_id"`
	Unit     string  `json:"unit"`
	Deadline *string `json:"deadline"`
	Done     bool    `json:"done"`
}

func supervisionView(s store.Supervision) supervisionJSON {
	return supervisionJSON{ID: s.ID, CaseID: s.CaseID, Unit: s.Unit, Deadline: jsonTime(s.Deadline), Done: s.Done}
}

type trackJSON struct {
	SID    string `json:"sid"`
	Kind   string `json:"kind"`
	Source string `json:"source"`
	Muted  bool   `json:"muted"`
}

type participantJSON struct {
	Identity       string      `json:"identity"`
	Name           string      `json:"name"`
	Role           string      `json:"role"`
	Side           string      `json:"side"`
	Party          int64       `json:"party"`
	Space          string      `json:"space"`
	Lobby          bool        `json:"lobby"`
	Connected      bool        `json:"connected"`
	JoinedAt       *string     `json:"joined_at"`
	WaitingSeconds int64       `json:"waiting_seconds"`
	Consent        bool        `json:"consent"`
	Host           bool        `json:"host"`
	Note           string      `json:"note"`
	Tracks         []trackJSON `json:"tracks"`
	// Link is the connection quality and link figures (issue 13): the console
	// shows each person's quality and what they receive.
	Link signaling.LinkInfo `json:"link"`
	// MuteLocked: the sources a host's locked mute holds (issue 12); only a host's
	// unmute lifts it.
	MuteLocked []string `json:"mute_locked"`
}

func participantView(p signaling.Participant, knockedAt time.Time, now time.Time) participantJSON {
	w := whoOf(p)
	party, _ := strconv.ParseInt(w.Party, 10, 64)
	v := participantJSON{Identity: p.Identity, Name: p.Name, Role: string(w.Role), Side: w.Side, Party: party, Space: p.Space,
		Lobby: p.Space == "", Connected: p.State != "disconnected", JoinedAt: jsonTime(p.JoinedAt),
		Consent: w.Consent, Host: w.Host, Tracks: []trackJSON{}, Link: p.Link, MuteLocked: append([]string{}, p.MuteLocked...)}
	if v.Lobby {
		since := knockedAt
		if since.IsZero() {
			since = p.JoinedAt
		}
		if !since.IsZero() {
			v.WaitingSeconds = int64(now.Sub(since).Seconds())
		}
	}
	for _, t := range p.Tracks {
		v.Tracks = append(v.Tracks, trackJSON{SID: t.SID, Kind: t.Kind, Source: t.Source, Muted: t.Muted})
	}
	return v
}
