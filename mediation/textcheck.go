package mediation

import (
	"encoding"
	"encoding/json"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// checkJSON walks a request body against the type it is decoded into, before the
// decoding, and refuses what encoding/json would quietly accept:
//   - a field name that matches only when case is ignored ("RISK" for "risk"): field
//     names are a contract and match exactly;
//   - text that is not valid UTF-8 (encoding/json would turn it into U+FFFD);
//   - control characters (NUL, BEL, ESC, DEL, C1) anywhere, and line breaks and tabs in
//     names and titles;
//   - bidirectional overrides and isolates (U+202A-U+202E, U+2066-U+2069), which make a
//     name or title read differently from what it is.
//
// The error names the field ("parties[1].name"). Bodies that are not JSON are left to
// the decoder, which says so.
func checkJSON(raw []byte, t reflect.Type) error {
	return checkValue(raw, t, "")
}

var textUnmarshaler = reflect.TypeFor[encoding.TextUnmarshaler]()
var jsonUnmarshaler = reflect.TypeFor[json.Unmarshaler]()

func checkValue(raw []byte, t reflect.Type, path string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	raw = trimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	if reflect.PointerTo(t).Implements(jsonUnmarshaler) || (t.Kind() != reflect.String && reflect.PointerTo(t).Implements(textUnmarshaler)) {
		return nil // its own format (times, ...): its decoder checks it
	}
	switch t.Kind() {
	case reflect.Struct:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil // not an object: the decoder reports it
		}
		fields := jsonFields(t)
		for _, k := range sortedKeys(obj) {
			f, ok := fields[k]
			if !ok {
				for name := range fields {
					if strings.EqualFold(name, k) {
						return errf(400, "unknown_field", "unknown field %q (field names are case-sensitive: %q)", join(path, k), join(path, name))
					}
				}
				continue // DisallowUnknownFields reports it
			}
			if err := checkValue(obj[k], f.Type, join(path, k)); err != nil {
				return err
			}
		}
	case reflect.Slice, reflect.Array:
		var list []json.RawMessage
		if json.Unmarshal(raw, &list) != nil {
			return nil
		}
		for i, e := range list {
			if err := checkValue(e, t.Elem(), fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
	case reflect.Map:
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return nil
		}
		for _, k := range sortedKeys(obj) {
			if err := checkText(path+" key", k, true); err != nil {
				return err
			}
			if err := checkValue(obj[k], t.Elem(), join(path, k)); err != nil {
				return err
			}
		}
	case reflect.Interface:
		return checkAny(raw, path)
	case reflect.String:
		if raw[0] != '"' {
			return nil
		}
		if !utf8.Valid(raw) {
			return errf(400, "bad_text", "field %s is not valid UTF-8", path)
		}
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return nil
		}
		return checkText(path, s, singleLine(path))
	}
	return nil
}

// checkAny checks the strings of a value of any shape.
func checkAny(raw []byte, path string) error {
	if !utf8.Valid(raw) {
		return errf(400, "bad_text", "field %s is not valid UTF-8", path)
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	var walk func(v any, path string) error
	walk = func(v any, path string) error {
		switch x := v.(type) {
		case string:
			return checkText(path, x, false)
		case []any:
			for i, e := range x {
				if err := walk(e, fmt.Sprintf("%s[%d]", path, i)); err != nil {
					return err
				}
			}
		case map[string]any:
			for _, k := range sortedKeys(x) {
				if err := checkText(path+" key", k, true); err != nil {
					return err
				}
				if err := walk(x[k], join(path, k)); err != nil {
					return err
				}
			}
		}
		return nil
	}
	return walk(v, path)
}

// checkText refuses control characters (line breaks and tabs too when single), bidi
// overrides and isolates, and invalid UTF-8 (a password is anything the user typed).
func checkText(field, s string, single bool) error {
	if field == "password" || strings.HasSuffix(field, ".password") {
		return nil
	}
	if !utf8.ValidString(s) {
		return errf(400, "bad_text", "field %s is not valid UTF-8", field)
	}
	for _, r := range s {
		switch {
		case r == '\n' || r == '\r' || r == '\t':
			if single {
				return errf(400, "bad_text", "field %s must be one line: U+%04X is not allowed", field, r)
			}
		case unicode.IsControl(r), r == utf8.RuneError:
			return errf(400, "bad_text", "field %s contains the control character U+%04X", field, r)
		case isBidiControl(r):
			return errf(400, "bad_text", "field %s contains the bidirectional control U+%04X, which makes text read differently from what it is", field, r)
		}
	}
	return nil
}

func isBidiControl(r rune) bool {
	return (r >= 0x202A && r <= 0x202E) || (r >= 0x2066 && r <= 0x2069)
}

// singleLine: names and titles are one line.
func singleLine(path string) bool {
	last := path[strings.LastIndexAny(path, ".]")+1:]
	return strings.Contains(last, "name") || strings.Contains(last, "title") || last == "username" || last == "phone"
}

// jsonFields maps each JSON field name of struct t to its field, as encoding/json
// names them (tag, else the Go name; embedded structs flattened).
func jsonFields(t reflect.Type) map[string]reflect.StructField {
	out := map[string]reflect.StructField{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "-" && !strings.Contains(tag, ",") {
			continue
		}
		if f.Anonymous && name == "" {
			et := f.Type
			if et.Kind() == reflect.Pointer {
				et = et.Elem()
			}
			if et.Kind() == reflect.Struct {
				for k, v := range jsonFields(et) {
					if _, ok := out[k]; !ok {
						out[k] = v
					}
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f
	}
	return out
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func trimSpace(b []byte) []byte {
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t' || b[0] == '\n' || b[0] == '\r') {
		b = b[1:]
	}
	for len(b) > 0 && (b[len(b)-1] == ' ' || b[len(b)-1] == '\t' || b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}
