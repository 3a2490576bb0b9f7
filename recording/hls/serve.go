package hls

import (
	"bytes"
	"fmt"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// LiveSegments is how many segments the live playlist lists: enough for a player to
// hold a few seconds back from the edge, few enough to keep the playlist small.
const LiveSegments = 6

// Handler serves the programs under root, one directory per program name:
//
//	/{name}/index.m3u8    the live window of the playlist; cached for 1 s
//	/{name}/archive.m3u8  the whole playlist (the archive); 1 s while live, 1 h after
//	/{name}/segNNNNN.ts   a segment; never changes: cached for a year, immutable
//
// A CDN or any HTTP cache in front (nginx proxy_cache) then carries the audience: every
// client's request for the same second hits the cache, not this server.
func Handler(root string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		name, file, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		if !ok || !nameRE.MatchString(name) {
			http.NotFound(w, r)
			return
		}
		dir := filepath.Join(root, name)
		w.Header().Set("Access-Control-Allow-Origin", "*")
		switch {
		case file == "index.m3u8" || file == "archive.m3u8":
			servePlaylist(w, r, dir, file == "archive.m3u8")
		case segmentRE.MatchString(file):
			w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
			w.Header().Set("Content-Type", "video/mp2t")
			http.ServeFile(w, r, filepath.Join(dir, file))
		default:
			http.NotFound(w, r)
		}
	})
}

var (
	nameRE    = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)
	segmentRE = regexp.MustCompile(`^seg[0-9]{5,9}\.ts$`)
)

func servePlaylist(w http.ResponseWriter, r *http.Request, dir string, archive bool) {
	b, err := os.ReadFile(filepath.Join(dir, PlaylistName))
	if err != nil {
		w.Header().Set("Cache-Control", "public, max-age=1")
		http.Error(w, "no such stream (yet)", http.StatusNotFound)
		return
	}
	pl := parsePlaylist(b)
	// The stream has ended when its owner said so (ffmpeg ends its playlists whenever
	// it stops, also for a switch to other inputs).
	_, err = os.Stat(filepath.Join(dir, EndedName))
	pl.ended = err == nil
	if len(pl.entries) == 0 {
		w.Header().Set("Cache-Control", "public, max-age=1")
		http.Error(w, "the stream has not started yet", http.StatusNotFound)
		return
	}
	var out []byte
	if archive {
		out = pl.render(0, true)
	} else {
		out = pl.render(max(0, len(pl.entries)-LiveSegments), false)
	}
	maxAge := 1
	if pl.ended && archive {
		maxAge = 3600
	}
	w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", maxAge))
	w.Header().Set("Content-Type", "application/vnd.apple.mpegurl")
	w.Header().Set("Content-Length", strconv.Itoa(len(out)))
	if r.Method == http.MethodHead {
		return
	}
	_, _ = w.Write(out)
}

// playlist is an ffmpeg event playlist: a header and complete segment entries.
type playlist struct {
	header  []string // tags before the first segment, except the sequence and type
	entries []entry
	ended   bool
	target  int
}

type entry struct {
	lines []string // tags (#EXTINF, #EXT-X-DISCONTINUITY, #EXT-X-PROGRAM-DATE-TIME) then the URI
}

// parsePlaylist keeps only complete entries: ffmpeg rewrites the file in place, so a
// read may see half of it.
func parsePlaylist(b []byte) playlist {
	var pl playlist
	var cur []string
	complete := bytes.HasSuffix(b, []byte("\n"))
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	for i, ln := range lines {
		ln = strings.TrimSpace(ln)
		last := i == len(lines)-1
		switch {
		case ln == "":
		case ln == "#EXT-X-ENDLIST":
			pl.ended = true
		case strings.HasPrefix(ln, "#EXT-X-TARGETDURATION:"):
			pl.target, _ = strconv.Atoi(strings.TrimPrefix(ln, "#EXT-X-TARGETDURATION:"))
		case strings.HasPrefix(ln, "#EXT-X-MEDIA-SEQUENCE:"), strings.HasPrefix(ln, "#EXT-X-PLAYLIST-TYPE:"):
		case strings.HasPrefix(ln, "#EXTINF:"), strings.HasPrefix(ln, "#EXT-X-DISCONTINUITY"), strings.HasPrefix(ln, "#EXT-X-PROGRAM-DATE-TIME:"):
			cur = append(cur, ln)
		case strings.HasPrefix(ln, "#"):
			if len(pl.entries) == 0 && len(cur) == 0 {
				pl.header = append(pl.header, ln)
			}
		default: // a URI ends an entry
			if last && !complete {
				break
			}
			if segmentRE.MatchString(ln) {
				pl.entries = append(pl.entries, entry{lines: append(cur, ln)})
			}
			cur = nil
		}
	}
	if pl.target == 0 {
		pl.target = 1
	}
	return pl
}

// render writes entries from first on. A live window starts where the archive's
// sequence number says, so players and caches agree on which segment is which.
func (pl playlist) render(first int, archive bool) []byte {
	var b bytes.Buffer
	for _, h := range pl.header {
		if strings.HasPrefix(h, "#EXT-X-TARGETDURATION:") {
			continue
		}
		b.WriteString(h + "\n")
	}
	fmt.Fprintf(&b, "#EXT-X-TARGETDURATION:%d\n", pl.target)
	fmt.Fprintf(&b, "#EXT-X-MEDIA-SEQUENCE:%d\n", first)
	disc := 0
	for _, e := range pl.entries[:first] {
		for _, l := range e.lines {
			if strings.HasPrefix(l, "#EXT-X-DISCONTINUITY") {
				disc++
			}
		}
	}
	if !archive && disc > 0 {
		fmt.Fprintf(&b, "#EXT-X-DISCONTINUITY-SEQUENCE:%d\n", disc)
	}
	if archive {
		if pl.ended {
			b.WriteString("#EXT-X-PLAYLIST-TYPE:VOD\n")
		} else {
			b.WriteString("#EXT-X-PLAYLIST-TYPE:EVENT\n")
		}
	}
	for _, e := range pl.entries[first:] {
		for _, l := range e.lines {
			b.WriteString(l + "\n")
		}
	}
	if pl.ended {
		b.WriteString("#EXT-X-ENDLIST\n")
	}
	return b.Bytes()
}

// dateTime is the entry's #EXT-X-PROGRAM-DATE-TIME (ffmpeg writes it with
// program_date_time), ok false without one.
func (e entry) dateTime() (time.Time, bool) {
	for _, l := range e.lines {
		if v, ok := strings.CutPrefix(l, "#EXT-X-PROGRAM-DATE-TIME:"); ok {
			for _, layout := range []string{"2006-01-02T15:04:05.000-0700", time.RFC3339Nano} {
				if t, err := time.Parse(layout, v); err == nil {
					return t, true
				}
			}
		}
	}
	return time.Time{}, false
}

func (e entry) discontinuity() bool {
	for _, l := range e.lines {
		if l == "#EXT-X-DISCONTINUITY" {
			return true
		}
	}
	return false
}

// duration is the entry's #EXTINF rounded up to whole seconds (for TARGETDURATION).
func (e entry) duration() int {
	for _, l := range e.lines {
		if v, ok := strings.CutPrefix(l, "#EXTINF:"); ok {
			v, _, _ = strings.Cut(v, ",")
			f, _ := strconv.ParseFloat(v, 64)
			return int(math.Ceil(f))
		}
	}
	return 0
}
