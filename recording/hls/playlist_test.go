package hls

import (
	"strings"
	"testing"
)

const ffmpegPlaylist = `#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:1
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:EVENT
#EXT-X-INDEPENDENT-SEGMENTS
#EXTINF:1.000000,
#EXT-X-PROGRAM-DATE-TIME:2026-12-07T08:20:26.420+0000
seg00000.ts
#EXTINF:1.000000,
seg00001.ts
#EXT-X-DISCONTINUITY
#EXTINF:1.000000,
seg00002.ts
#EXTINF:1.000000,
seg00003.ts
`

// TestPlaylistWindow: a torn read keeps only complete entries; the live window counts
// sequence and discontinuity numbers from the start; the archive lists everything.
func TestPlaylistWindow(t *testing.T) {
	for _, tc := range []struct {
		name, in string
		entries  int
	}{
		{"whole", ffmpegPlaylist, 4},
		{"torn in a URI", strings.TrimSuffix(ffmpegPlaylist, "03.ts\n"), 3},
		{"torn after a tag", strings.TrimSuffix(ffmpegPlaylist, "seg00003.ts\n"), 3},
		{"header only", "#EXTM3U\n#EXT-X-TARGETDURATION:1\n", 0},
		{"garbage", "seg1.ts\n../../etc/passwd\n", 0},
	} {
		pl := parsePlaylist([]byte(tc.in))
		if len(pl.entries) != tc.entries {
			t.Errorf("%s: %d entries, want %d", tc.name, len(pl.entries), tc.entries)
		}
	}
	pl := parsePlaylist([]byte(ffmpegPlaylist + "#EXT-X-ENDLIST\n"))
	live := string(pl.render(3, false))
	for _, want := range []string{"#EXT-X-MEDIA-SEQUENCE:3\n", "#EXT-X-DISCONTINUITY-SEQUENCE:1\n", "seg00003.ts\n", "#EXT-X-ENDLIST\n"} {
		if !strings.Contains(live, want) {
			t.Errorf("live window lacks %q:\n%s", want, live)
		}
	}
	if strings.Contains(live, "seg00002.ts") || strings.Contains(live, "PLAYLIST-TYPE") {
		t.Errorf("live window:\n%s", live)
	}
	arch := string(pl.render(0, true))
	if !strings.Contains(arch, "#EXT-X-PLAYLIST-TYPE:VOD\n") || strings.Count(arch, ".ts\n") != 4 {
		t.Errorf("archive:\n%s", arch)
	}
}
