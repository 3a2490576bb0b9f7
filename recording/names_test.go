package recording

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"syscall"
	"testing"
)

// TestHidePaths: what the case file and the hosts see of an error names files
// relative to the session folder, never the server's folders.
func TestHidePaths(t *testing.T) {
	const data = "/srv/yizhan/data"
	const sess = data + "/cases/case1_2026-0001/s1"
	for _, tc := range []struct {
		name string
		err  error
		dirs []string
		want string
	}{
		{"under the session folder", fmt.Errorf("recording sealed/video-a.webm of 张三: %w",
			&fs.PathError{Op: "write", Path: sess + "/sealed/video-a.webm", Err: syscall.ENOSPC}), []string{sess, data},
			"recording sealed/video-a.webm of 张三: write sealed/video-a.webm: no space left on device"},
		{"under the data folder", fmt.Errorf("open case file: %w",
			&fs.PathError{Op: "mkdir", Path: data + "/cases/case1_2026-0001", Err: syscall.EACCES}), []string{"", data + "/"},
			"open case file: mkdir cases/case1_2026-0001: permission denied"},
		{"elsewhere", fmt.Errorf("recording video-a.webm of 张三: %w",
			&fs.PathError{Op: "write", Path: "/mnt/other/video-a.webm", Err: syscall.ENOSPC}), []string{sess},
			"recording video-a.webm of 张三: write video-a.webm: no space left on device"},
		{"no path", errors.New("encode event: bad"), []string{sess}, "encode event: bad"},
	} {
		got := HidePaths(tc.err, tc.dirs...)
		if got != tc.want || strings.Contains(got, "/srv/") || strings.Contains(got, "/mnt/") {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
