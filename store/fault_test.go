package store

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Fault tests of the reliability campaign (issue 12): the database busy (another
// writer holds it) or read-only (the disk remounted read-only after an error). A write
// fails with an error within its context, never hangs and never panics; what was
// committed before stays readable; once the fault is gone, writes work again.

func TestDatabaseBusy(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "yizhan.db")
	st, err := Open(ctx, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.AddCentre(ctx, Centre{Code: "city", Name: "City", Tier: "city"}); err != nil {
		t.Fatal(err)
	}
	// Another process's writer holds the database.
	other, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN EXCLUSIVE"); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	start := time.Now()
	err = st.AddCentre(wctx, Centre{Code: "east", Name: "East", Tier: "township", Parent: "city"})
	cancel()
	if err == nil {
		t.Fatal("a write succeeded while another writer held the database")
	}
	if waited := time.Since(start); waited > 30*time.Second {
		t.Fatalf("the write hung for %s past its context", waited)
	}
	t.Logf("busy write: %v", err)
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := st.AddCentre(ctx, Centre{Code: "east", Name: "East", Tier: "township", Parent: "city"}); err != nil {
		t.Fatalf("write after the other writer let go: %v", err)
	}
	cs, err := st.Centres(ctx)
	if err != nil || len(cs) != 2 {
		t.Fatalf("centres after the fault: %v %v", cs, err)
	}
}

// TestDatabaseDiskFull fills the small tmpfs holding the database (root only; skipped
// otherwise). (A read-only remount is refused by the kernel while the database is open
// for writing, so a full disk is the write fault we can make for real.)
func TestDatabaseDiskFull(t *testing.T) {
	dir := mountTmpfs(t, "4m")
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(dir, "yizhan.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.AddCentre(ctx, Centre{Code: "city", Name: "City", Tier: "city"}); err != nil {
		t.Fatal(err)
	}
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 64<<10)
	for {
		if _, err := f.Write(buf); err != nil {
			break // the disk is full
		}
	}
	_ = f.Close()
	failed := false
	for i := 0; i < 200 && !failed; i++ { // the WAL may hold a few pages; fill it
		wctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		err = st.AddCentre(wctx, Centre{Code: fmt.Sprintf("v%d", i), Name: strings.Repeat("村", 2000), Tier: "township", Parent: "city"})
		cancel()
		failed = err != nil
	}
	if !failed {
		t.Fatal("writes kept succeeding on a full disk")
	}
	t.Logf("write on a full disk: %v", err)
	if c, err := st.Centre(ctx, "city"); err != nil || c.Name != "City" {
		t.Fatalf("committed centre unreadable on the full disk: %+v %v", c, err)
	}
	before, err := st.Centres(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if err := st.AddCentre(ctx, Centre{Code: "east", Name: "East", Tier: "township", Parent: "city"}); err != nil {
		t.Fatalf("write after space came back: %v", err)
	}
	if cs, err := st.Centres(ctx); err != nil || len(cs) != len(before)+1 {
		t.Fatalf("centres after the fault: %d, want %d (%v)", len(cs), len(before)+1, err)
	}
}

// mountTmpfs mounts a tmpfs of size on a fresh folder, or skips the test.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a tmpfs (a real full or read-only disk); skipped")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v: %s); skipped", err, out)
	}
	t.Cleanup(func() { _ = exec.Command("umount", "-l", dir).Run() })
	return dir
}
