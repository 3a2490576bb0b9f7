package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"yizhan/store"
)

func TestCentreAndUserAdd(t *testing.T) {
	data := t.TempDir()
	runOK := func(stdin string, args ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(args, strings.NewReader(stdin), &out, &errb); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errb.String())
		}
		return out.String()
	}
	runFails := func(stdin, want string, args ...string) {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(args, strings.NewReader(stdin), &out, &errb); code == 0 || !strings.Contains(errb.String(), want) {
			t.Fatalf("%v: exit %d, stderr %q (want it to mention %q)", args, code, errb.String(), want)
		}
	}
	runOK("", "centre", "add", "--data", data, "--code", "city", "--name", "市综治中心", "--tier", "city")
	runOK("", "centre", "add", "--data", data, "--code", "east", "--name", "东城镇", "--tier", "township", "--parent", "city")
	runFails("", "tier", "centre", "add", "--data", data, "--code", "x", "--name", "X", "--tier", "county")
	runFails("", "exists", "centre", "add", "--data", data, "--code", "east", "--name", "again", "--tier", "township", "--parent", "city")

	out := runOK("correct horse battery\n", "user", "add", "--data", data, "--username", "wang", "--name", "王金牌",
		"--centre", "east", "--role", "mediator,clerk", "--gold", "--password-stdin")
	if !strings.Contains(out, "wang") {
		t.Fatalf("output %q", out)
	}
	runFails("pw\n", "password-stdin", "user", "add", "--data", data, "--username", "li", "--name", "Li", "--centre", "east", "--role", "judge")
	runFails("short\n", "at least 8", "user", "add", "--data", data, "--username", "li", "--name", "Li", "--centre", "east", "--role", "judge", "--password-stdin")
	runFails("long enough pw\n", "centre", "user", "add", "--data", data, "--username", "li", "--name", "Li", "--centre", "nowhere", "--role", "judge", "--password-stdin")

	st, err := store.Open(context.Background(), filepath.Join(data, dbFile), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	u, err := st.Staff(context.Background(), "wang")
	if err != nil {
		t.Fatal(err)
	}
	if u.Centre != "east" || !u.Gold || !u.Has("mediator") || !u.Has("clerk") || u.PasswordHash == "" || strings.Contains(u.PasswordHash, "horse") {
		t.Fatalf("stored %+v", u)
	}
	if !store.CheckPassword(u.PasswordHash, "correct horse battery") || store.CheckPassword(u.PasswordHash, "wrong") {
		t.Fatal("the stored hash does not check the password")
	}
}
