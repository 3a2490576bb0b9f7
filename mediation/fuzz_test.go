package mediation

import (
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzDecodeJSON (issue 12 reliability campaign): the JSON API decoder answers any body
// without panicking, and whatever it accepts holds only valid UTF-8 without control
// characters (beyond line breaks and tabs) or bidi overrides, in every string field at
// any depth.
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{
		`{"username":"med","password":"secret"}`,
		`{"title":"张三与李四","category":"land","risk":"red","parties":[{"name":"张三","side":"applicant","phone":"138"}]}`,
		`{"title":"a\u202eb"}`, `{"RISK":"red"}`, `{"name":"x","consent":true,"note":"第一行\n第二行"}`,
		`{"identity":"guest-1","lock":true,"muted":true}`, `{"role":"party","party":1,"expires_in":3600}`,
		`[]`, `null`, `{"title":"\ud800"}`, "{\"title\":\"\xff\"}",
	} {
		f.Add(s, uint8(0))
	}
	targets := []func() any{
		func() any { return &loginReq{} },
		func() any { return &createCaseReq{} },
		func() any { return &patchCaseReq{} },
		func() any { return &joinReq{} },
		func() any { return &controlReq{} },
		func() any { return &createInvitationReq{} },
	}
	f.Fuzz(func(t *testing.T, body string, which uint8) {
		v := targets[int(which)%len(targets)]()
		r := httptest.NewRequest("POST", "/api/x", strings.NewReader(body))
		if err := decode(httptest.NewRecorder(), r, v, true); err != nil {
			return
		}
		walkStrings(reflect.ValueOf(v), "", func(path, s string) {
			if strings.HasSuffix(path, "password") {
				return
			}
			if !utf8.ValidString(s) {
				t.Fatalf("accepted invalid UTF-8 in %s: %q", path, s)
			}
			for _, r := range s {
				if (r < 0x20 && r != '\n' && r != '\t' && r != '\r') || (r >= 0x7f && r < 0xa0) || isBidiControl(r) || r == utf8.RuneError {
					t.Fatalf("accepted U+%04X in %s: %q", r, path, s)
				}
			}
		})
	})
}

// walkStrings calls fn with every string inside v.
func walkStrings(v reflect.Value, path string, fn func(path, s string)) {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if !v.IsNil() {
			walkStrings(v.Elem(), path, fn)
		}
	case reflect.Struct:
		for i := 0; i < v.NumField(); i++ {
			if v.Type().Field(i).IsExported() {
				walkStrings(v.Field(i), path+"."+v.Type().Field(i).Name, fn)
			}
		}
	case reflect.Slice, reflect.Array:
		for i := 0; i < v.Len(); i++ {
			walkStrings(v.Index(i), path, fn)
		}
	case reflect.Map:
		for _, k := range v.MapKeys() {
			walkStrings(k, path+" key", fn)
			walkStrings(v.MapIndex(k), path, fn)
		}
	case reflect.String:
		fn(path, v.String())
	}
}
