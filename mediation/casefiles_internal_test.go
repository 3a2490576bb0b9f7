package mediation

import (
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"testing"
)

func TestFailureShownWithoutServerPaths(t *testing.T) {
	err := fmt.Errorf("recording video-a.webm of 张三: %w", &fs.PathError{Op: "write", Path: "/srv/yizhan/data/cases/case1_2026-0001/s1/video-a.webm", Err: syscall.ENOSPC})
	got := forHosts(err)
	if strings.Contains(got, "/srv/") || !strings.Contains(got, "video-a.webm") || !strings.Contains(got, "no space left") {
		t.Fatalf("shown to hosts: %q", got)
	}
}
