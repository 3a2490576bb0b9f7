package mediation

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"yizhan/store"
)

// DemoInfo is what SeedDemo made, to print for whoever runs `yizhan serve --dev`.
type DemoInfo struct {
	Users       []DemoUser
	Invitations []DemoInvitation
	Lecture     store.Lecture // the city's demo lecture (seed_lecture.go)
}

type DemoUser struct {
	Username, Password, Name, Centre string
	Roles                            []string
}

type DemoInvitation struct {
	SessionID   int64
	Session     string // session title
	SessionKind string
	CaseNumber  string
	Role, Side  string
	Name, Code  string // the link is <base>/j/<Code>
	Identity    string
	ExpiresAt   time.Time
}

// Print writes the demo accounts and invitation links (base is e.g. http://127.0.0.1:7880).
func (d DemoInfo) Print(w io.Writer, base string) {
	base = strings.TrimSuffix(base, "/")
	fmt.Fprintln(w, "demo staff (username / password / roles / centre):")
	for _, u := range d.Users {
		fmt.Fprintf(w, "  %-18s %-16s %-22s %s  %s\n", u.Username, u.Password, strings.Join(u.Roles, ","), u.Centre, u.Name)
	}
	fmt.Fprintln(w, "demo invitation links:")
	for _, inv := range d.Invitations {
		fmt.Fprintf(w, "  %s/j/%s  %s (%s %s) -> %s #%d %q\n", base, inv.Code, inv.Name, inv.Role, inv.Side, inv.SessionKind, inv.SessionID, inv.Session)
	}
	fmt.Fprintln(w, "public pages (no account):")
	fmt.Fprintf(w, "  %s/q/east-taoyuan  a citizen raises a dispute with 桃园村 (百姓解事码)\n", base)
	if d.Lecture.ID != 0 {
		fmt.Fprintf(w, "  %s/l/%d  lecture %q (speakers log in as lawyer or judge; the console starts it)\n", base, d.Lecture.ID, d.Lecture.Title)
	}
}

var demoCentres = []store.Centre{
	{Code: "city", Name: "市综治中心", Tier: "city"},
	{Code: "east", Name: "东城镇综治中心", Tier: "township", Parent: "city"},
	{Code: "west", Name: "西山镇综治中心", Tier: "township", Parent: "city"},
	{Code: "east-taoyuan", Name: "桃园村综治中心", Tier: "village", Parent: "east"},
	{Code: "east-liushu", Name: "柳树村综治中心", Tier: "village", Parent: "east"},
	{Code: "west-shiqiao", Name: "石桥村综治中心", Tier: "village", Parent: "west"},
}

var demoStaff = []UserSpec{
	{Username: "admin", Name: "系统管理员", Centre: "city", Roles: []string{"admin"}},
	{Username: "city-leader", Name: "陈主任", Centre: "city", Roles: []string{"leader"}},
	{Username: "judge", Name: "周法官", Centre: "city", Roles: []string{"judge"}},
	{Username: "lawyer", Name: "吴律师", Centre: "city", Roles: []string{"lawyer"}},
	{Username: "counsellor", Name: "郑咨询师", Centre: "city", Roles: []string{"counsellor"}},
	{Username: "observer", Name: "督导员", Centre: "city", Roles: []string{"observer"}},
	{Username: "east-mediator", Name: "王金牌", Centre: "east", Roles: []string{"mediator"}, Gold: true},
	{Username: "east-leader", Name: "刘镇长", Centre: "east", Roles: []string{"leader"}},
	{Username: "east-clerk", Name: "赵书记员", Centre: "east", Roles: []string{"clerk"}},
	{Username: "west-mediator", Name: "孙调解", Centre: "west", Roles: []string{"mediator"}},
	{Username: "taoyuan-mediator", Name: "钱调解", Centre: "east-taoyuan", Roles: []string{"mediator"}},
}

// SeedDemo fills st with a small demo network for `yizhan serve --dev`: a city centre,
// two townships, three villages, staff of every role, a few cases, a mediation session
// and a reception with invitations. It is idempotent: what exists is kept, demo staff get
// fresh passwords, and the demo sessions get fresh invitations on every call.
func SeedDemo(ctx context.Context, st store.Store) (DemoInfo, error) {
	var info DemoInfo
	for _, c := range demoCentres {
		if err := AddCentre(ctx, st, c); err != nil && !errors.Is(err, store.ErrExists) {
			return info, fmt.Errorf("seed centre %s: %w", c.Code, err)
		}
	}
	for _, u := range demoStaff {
		pw := randomCode(8)[:12]
		err := AddUser(ctx, st, u, pw)
		if errors.Is(err, store.ErrExists) {
			var hash string
			if hash, err = store.HashPassword(pw); err == nil {
				err = st.SetPassword(ctx, u.Username, hash)
			}
		}
		if err != nil {
			return info, fmt.Errorf("seed user %s: %w", u.Username, err)
		}
		info.Users = append(info.Users, DemoUser{Username: u.Username, Password: pw, Name: u.Name, Centre: u.Centre, Roles: u.Roles})
	}
	existing, err := st.ListCases(ctx, store.CaseFilter{Under: "city", Limit: 1})
	if err != nil {
		return info, err
	}
	if len(existing) == 0 {
		if err := seedCases(ctx, st); err != nil {
			return info, err
		}
	}
	if err := seedIntake(ctx, st); err != nil { // seed_intake.go (issue 11)
		return info, err
	}
	if info.Lecture, err = seedLecture(ctx, st); err != nil { // seed_lecture.go (issue 15)
		return info, err
	}
	sessions, err := st.ListSessions(ctx, store.SessionFilter{Under: "city"})
	if err != nil {
		return info, err
	}
	for _, se := range sessions {
		if se.State == sessionEnded || !strings.HasPrefix(se.CreatedBy, "east-") {
			continue
		}
		c, err := st.Case(ctx, se.CaseID)
		if err != nil {
			return info, err
		}
		var invs []store.Invitation
		switch se.Kind {
		case "mediation":
			for _, p := range c.Parties {
				invs = append(invs, store.Invitation{Role: "party", Side: p.Side, Name: p.Name, PartyID: p.ID})
			}
			if len(c.Parties) > 0 {
				invs = append(invs, store.Invitation{Role: "interpreter", Side: c.Parties[0].Side, Name: "手语翻译", PartyID: c.Parties[0].ID})
			}
			invs = append(invs, store.Invitation{Role: "observer", Name: "人民监督员"})
		case "reception":
			for _, n := range []string{"来访人甲", "来访人乙", "来访人丙"} {
				invs = append(invs, store.Invitation{Role: "party", Side: "applicant", Name: n})
			}
		}
		for _, inv := range invs {
			inv.Code, inv.SessionID, inv.CreatedBy = randomCode(16), se.ID, se.CreatedBy
			inv.ExpiresAt = time.Now().Add(7 * 24 * time.Hour)
			inv, err := st.CreateInvitation(ctx, inv)
			if err != nil {
				return info, fmt.Errorf("seed invitation: %w", err)
			}
			info.Invitations = append(info.Invitations, DemoInvitation{SessionID: se.ID, Session: se.Title, Role: inv.Role, Side: inv.Side,
				Name: inv.Name, Code: inv.Code, Identity: guestIdentity(inv.ID), ExpiresAt: inv.ExpiresAt, CaseNumber: c.Number,
				SessionKind: se.Kind})
		}
	}
	return info, nil
}

func seedCases(ctx context.Context, st store.Store) error {
	str := func(v string) *string { return &v }
	land, err := st.CreateCase(ctx, store.Case{Title: "宅基地边界纠纷", Category: "land", Risk: "yellow", Centre: "east", Mediator: "east-mediator",
		CreatedBy: "east-clerk", Description: "两户因院墙位置发生争执，要求确认宅基地边界。",
		Parties: []store.Party{{Name: "张三", Side: "applicant", Phone: "13800000001"}, {Name: "李四", Side: "respondent", Phone: "13800000002"}}})
	if err != nil {
		return fmt.Errorf("seed case: %w", err)
	}
	for _, s := range []string{"assessed", "assigned", "mediating"} {
		if _, err := st.UpdateCase(ctx, land.ID, store.CaseUpdate{Status: str(s)}, "east-clerk"); err != nil {
			return err
		}
	}
	if _, err := st.CreateSession(ctx, store.Session{CaseID: land.ID, Kind: "mediation", Title: "第一次调解", Room: "s-" + randomCode(10),
		Hosts: []string{"east-mediator"}, CaucusPolicy: "off", RecordOnOpen: true, CreatedBy: "east-mediator",
		ScheduledAt: time.Now().Add(time.Hour).Truncate(time.Minute)}); err != nil {
		return err
	}
	recCase, err := st.CreateCase(ctx, store.Case{Title: "镇长接访日", Category: "other", Risk: "blue", Centre: "east", CreatedBy: "east-leader",
		Description: "每月一次的领导视频接访。"})
	if err != nil {
		return err
	}
	if _, err := st.CreateSession(ctx, store.Session{CaseID: recCase.ID, Kind: "reception", Title: "刘镇长视频接访", Room: "s-" + randomCode(10),
		Hosts: []string{"east-leader"}, CaucusPolicy: "off", RecordOnOpen: true, CreatedBy: "east-leader"}); err != nil {
		return err
	}
	if _, err := st.CreateCase(ctx, store.Case{Title: "拖欠工资", Category: "labour_wages", Risk: "red", Centre: "west", Mediator: "west-mediator",
		CreatedBy: "west-mediator", Parties: []store.Party{{Name: "工人甲", Side: "applicant"}, {Name: "某建筑公司", Side: "respondent"}}}); err != nil {
		return err
	}
	nb, err := st.CreateCase(ctx, store.Case{Title: "邻里噪音", Category: "neighbours", Risk: "blue", Centre: "east-taoyuan", Mediator: "taoyuan-mediator",
		CreatedBy: "taoyuan-mediator", Parties: []store.Party{{Name: "王五", Side: "applicant"}, {Name: "赵六", Side: "respondent"}}})
	if err != nil {
		return err
	}
	if _, err := st.UpdateCase(ctx, nb.ID, store.CaseUpdate{Outcome: str("双方达成调解协议，已履行。")}, "taoyuan-mediator"); err != nil {
		return err
	}
	for _, s := range store.Statuses[1:] {
		if _, err := st.UpdateCase(ctx, nb.ID, store.CaseUpdate{Status: str(s)}, "taoyuan-mediator"); err != nil {
			return err
		}
	}
	return nil
}
