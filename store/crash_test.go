package store

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// TestKillKeepsCommitted: a child process commits cases and prints each id once Commit
// returned; it is killed (SIGKILL) mid-stream. Every printed id must be there after
// reopening. (Power loss is what synchronous=FULL is for; this checks the process crash.)
func TestKillKeepsCommitted(t *testing.T) {
	if path := os.Getenv("YIZHAN_STORE_CHILD"); path != "" {
		crashChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	s, err := Open(context.Background(), path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.AddCentre(context.Background(), Centre{Code: "c", Name: "C", Tier: "city"}); err != nil {
		t.Fatal(err)
	}
	s.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestKillKeepsCommitted$")
	cmd.Env = append(os.Environ(), "YIZHAN_STORE_CHILD="+path)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var ids []int64
	sc := bufio.NewScanner(out)
	for sc.Scan() && len(ids) < 40 {
		if id, err := strconv.ParseInt(sc.Text(), 10, 64); err == nil {
			ids = append(ids, id)
		}
	}
	_ = cmd.Process.Kill() // mid-write: the child is still committing
	_ = cmd.Wait()
	if len(ids) < 40 {
		t.Fatalf("child committed only %d cases", len(ids))
	}
	s, err = Open(context.Background(), path, nil)
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer s.Close()
	for _, id := range ids {
		if _, err := s.Case(context.Background(), id); err != nil {
			t.Errorf("committed case %d lost: %v", id, err)
		}
	}
	var n int
	var integrity string
	if err := s.db.QueryRow(`PRAGMA integrity_check`).Scan(&integrity); err != nil || integrity != "ok" {
		t.Fatalf("integrity check: %q %v", integrity, err)
	}
	s.db.QueryRow(`SELECT COUNT(*) FROM cases`).Scan(&n)
	t.Logf("%d cases reported committed, %d in the database after the kill", len(ids), n)
}

func crashChild(path string) {
	s, err := Open(context.Background(), path, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	for i := 0; ; i++ {
		c, err := s.CreateCase(context.Background(), Case{Title: "crash " + strconv.Itoa(i), Category: "other", Risk: "blue", Centre: "c",
			Parties: []Party{{Name: "p", Side: "applicant"}}})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stdout, c.ID) // os.Stdout is unbuffered: printed = committed
	}
}
