package mediation

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// TestTextRefused (row 12): control characters, bidi overrides and invalid UTF-8 in
// names and titles are refused with 400 naming the field; field names match exactly.
// Before: all accepted ("RISK" set risk through encoding/json's case folding).
func TestTextRefused(t *testing.T) {
	fx := newFixture(t)
	sc := fx.scene()
	caseBody := func(title string) string {
		return `{"title":"` + title + `","category":"land","risk":"red"}`
	}
	for _, tc := range []struct {
		name, path, body, field string
	}{
		{"NUL in a title", "/api/cases", caseBody(`a\u0000b`), "title"},
		{"BEL in a title", "/api/cases", caseBody(`a\u0007b`), "title"},
		{"RLO in a title", "/api/cases", caseBody("invoice\u202Egpj.exe"), "title"},
		{"isolate in a title", "/api/cases", caseBody("a\u2066b"), "title"},
		{"newline in a title", "/api/cases", caseBody(`a\nb`), "title"},
		{"invalid UTF-8 in a title", "/api/cases", caseBody("a\xff\xfeb"), "title"},
		{"lone surrogate", "/api/cases", caseBody(`a\ud800b`), "title"},
		{"C1 control", "/api/cases", caseBody("a\u0085b"), "title"},
		{"party name", "/api/cases", `{"title":"t","category":"land","risk":"red","parties":[{"name":"ok","side":"applicant"},{"name":"x\u202Ey","side":"respondent"}]}`, "parties[1].name"},
		{"RISK for risk", "/api/cases", `{"title":"t","category":"land","RISK":"red"}`, "RISK"},
		{"Title for title", "/api/cases", `{"Title":"t","category":"land","risk":"red"}`, "Title"},
		{"session title", fmt.Sprintf("/api/cases/%d/sessions", sc.caseID), `{"kind":"mediation","title":"a\u0007"}`, "title"},
		{"invitation name", fmt.Sprintf("/api/sessions/%d/invitations", sc.sessID), `{"role":"observer","name":"\u202Eevil"}`, "name"},
	} {
		st, body := fx.do("mediator", "POST", tc.path, tc.body)
		if st != 400 || !strings.Contains(body, tc.field) {
			t.Errorf("%s: %d %s; want 400 naming %s", tc.name, st, body, tc.field)
		}
	}
	// a guest's display name on joining
	if st, body := fx.do("party", "POST", "/api/join/"+sc.code, `{"consent":true,"name":"A\u0000"}`); st != 400 || !strings.Contains(body, "name") {
		t.Errorf("join with NUL in the name: %d %s", st, body)
	}
	// what must stay accepted: Chinese, emoji, line breaks in a description
	if st, body := fx.do("mediator", "POST", "/api/cases", `{"title":"张三与李四宅基地纠纷 🏠","description":"第一行\n第二行\t制表","category":"land","risk":"red"}`); st != 201 {
		t.Errorf("ordinary text refused: %d %s", st, body)
	}
}

func TestCheckJSONTable(t *testing.T) {
	type inner struct {
		Name string `json:"name"`
	}
	type req struct {
		Title string            `json:"title"`
		Notes []string          `json:"notes"`
		Inner *inner            `json:"inner"`
		Attrs map[string]string `json:"attrs"`
		Any   any               `json:"any"`
		Pass  string            `json:"password"`
	}
	for _, tc := range []struct {
		body string
		ok   bool
	}{
		{`{"title":"fine","notes":["a\nb"],"inner":{"name":"n"},"attrs":{"k":"v"},"any":{"x":["y"]}}`, true},
		{`{"password":"\u0007anything"}`, true},
		{`{"notes":["a\u0000"]}`, false},
		{`{"inner":{"Name":"n"}}`, false},
		{`{"inner":{"name":"a\tb"}}`, false},
		{`{"attrs":{"k\u202E":"v"}}`, false},
		{`{"any":{"x":["\u0001"]}}`, false},
		{`not json`, true}, // the decoder reports it
	} {
		err := checkJSON([]byte(tc.body), reflect.TypeFor[*req]())
		if (err == nil) != tc.ok {
			t.Errorf("%s: err %v, want ok %v", tc.body, err, tc.ok)
		}
	}
}

// TestTrailingDataRefused: found by FuzzDecodeJSON: a stray "}" after the object was
// accepted (json.Decoder.More is false before it), and with it text the checks never saw.
func TestTrailingDataRefused(t *testing.T) {
	fx := newFixture(t)
	for _, body := range []string{`{"title":"t","category":"land","risk":"red"} }`, `{"title":"t","category":"land","risk":"red"}]`, `{"title":"t","category":"land","risk":"red"} {}`} {
		if st, b := fx.do("mediator", "POST", "/api/cases", body); st != 400 || !strings.Contains(b, "after the object") {
			t.Errorf("%s: %d %s", body, st, b)
		}
	}
}
