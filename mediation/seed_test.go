package mediation

import (
	"bytes"
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"yizhan/store"
)

func TestAddCentreAndUser(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "y.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, tc := range []struct {
		c  store.Centre
		ok bool
	}{
		{store.Centre{Code: "t", Name: "T", Tier: "township", Parent: "c"}, false}, // parent missing
		{store.Centre{Code: "c", Name: "City", Tier: "city"}, true},
		{store.Centre{Code: "c2", Name: "City", Tier: "city", Parent: "c"}, false},
		{store.Centre{Code: "t", Name: "T", Tier: "township"}, false},
		{store.Centre{Code: "t", Name: "T", Tier: "township", Parent: "c"}, true},
		{store.Centre{Code: "v", Name: "V", Tier: "village", Parent: "c"}, false}, // a village under a city
		{store.Centre{Code: "v", Name: "V", Tier: "village", Parent: "t"}, true},
		{store.Centre{Code: "v", Name: "V2", Tier: "village", Parent: "t"}, false}, // duplicate
		{store.Centre{Code: "bad code", Name: "V", Tier: "village", Parent: "t"}, false},
		{store.Centre{Code: "x", Name: "X", Tier: "county"}, false},
	} {
		if err := AddCentre(ctx, st, tc.c); (err == nil) != tc.ok {
			t.Errorf("AddCentre(%+v) = %v", tc.c, err)
		}
	}
	for _, tc := range []struct {
		u  UserSpec
		pw string
		ok bool
	}{
		{UserSpec{Username: "wang", Name: "王", Centre: "t", Roles: []string{"mediator", "clerk"}, Gold: true}, "long enough", true},
		{UserSpec{Username: "wang", Name: "王", Centre: "t", Roles: []string{"mediator"}}, "long enough", false},
		{UserSpec{Username: "li", Name: "李", Centre: "t", Roles: []string{"judge"}, Gold: true}, "long enough", false},
		{UserSpec{Username: "li", Name: "李", Centre: "t", Roles: []string{"emperor"}}, "long enough", false},
		{UserSpec{Username: "li", Name: "李", Centre: "nowhere", Roles: []string{"judge"}}, "long enough", false},
		{UserSpec{Username: "li", Name: "李", Centre: "t", Roles: []string{"judge"}}, "short", false},
		{UserSpec{Username: "Li Si", Name: "李", Centre: "t", Roles: []string{"judge"}}, "long enough", false},
	} {
		if err := AddUser(ctx, st, tc.u, tc.pw); (err == nil) != tc.ok {
			t.Errorf("AddUser(%+v) = %v", tc.u, err)
		}
	}
	s, err := st.Staff(ctx, "wang")
	if err != nil || !s.Gold || !store.CheckPassword(s.PasswordHash, "long enough") || strings.Join(s.Roles, ",") != "clerk,mediator" {
		t.Fatalf("%+v %v", s, err)
	}
}

// TestSeedDemo: the dev seed builds the network, is idempotent, and its printed
// passwords and links work.
func TestSeedDemo(t *testing.T) {
	fx := newFixture(t) // its own centres do not collide with the demo's codes
	ctx := fx.ctx
	var info DemoInfo
	var err error
	for i := 0; i < 2; i++ {
		if info, err = SeedDemo(ctx, fx.st); err != nil {
			t.Fatalf("seed %d: %v", i, err)
		}
	}
	roles := map[string]bool{}
	for _, u := range info.Users {
		for _, r := range u.Roles {
			roles[r] = true
		}
	}
	for _, r := range store.Roles {
		if !roles[r] {
			t.Errorf("no demo user with role %s", r)
		}
	}
	tiers := map[string]int{}
	cs, _ := fx.st.Centres(ctx)
	for _, c := range cs {
		tiers[c.Tier]++
	}
	if tiers["township"] < 2 || tiers["village"] < 3 {
		t.Errorf("centres %v", tiers)
	}
	cases, _ := fx.st.ListCases(ctx, store.CaseFilter{Under: "city"})
	kinds := map[string]int{}
	for _, c := range cases {
		kinds[c.Kind]++
	}
	// 3 requests; 8 reception holders: a reception day, the 6 centres' duty receptions and
	// one leader's slot
	if kinds["case"] != 3 || kinds["reception"] != 8 {
		t.Errorf("demo cases: %v (the second seed must not add more)", kinds)
	}
	for _, u := range info.Users[:3] {
		fx.login(u.Username, u.Password) // the passwords printed by the last seed
	}
	if len(info.Invitations) < 6 {
		t.Fatalf("invitations %+v", info.Invitations)
	}
	if st, b := fx.do("party", "GET", "/api/join/"+info.Invitations[0].Code, ""); st != 200 {
		t.Fatalf("demo link: %d %s", st, b)
	}
	lecs, _ := fx.st.ListLectures(ctx, "city", 200)
	n := 0
	for _, l := range lecs {
		if l.Title == demoLectureTitle {
			n++
		}
	}
	if n != 1 || info.Lecture.ID == 0 {
		t.Errorf("%d demo lectures after two seeds (want 1), printed %+v", n, info.Lecture)
	}
	if st, b := fx.do("", "GET", fmt.Sprintf("/api/public/lectures/%d", info.Lecture.ID), ""); st != 200 {
		t.Errorf("demo lecture's public page: %d %s", st, b)
	}
	var out bytes.Buffer
	info.Print(&out, "http://127.0.0.1:7880")
	for _, want := range []string{"http://127.0.0.1:7880/j/" + info.Invitations[0].Code, info.Users[0].Password,
		fmt.Sprintf("http://127.0.0.1:7880/l/%d ", info.Lecture.ID), "http://127.0.0.1:7880/q/east-taoyuan "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("print has no %q:\n%s", want, out.String())
		}
	}
}
