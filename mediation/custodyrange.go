package mediation

import (
	"errors"
	"net/http"
	"net/textproto"
	"strconv"
	"strings"
)

// A case file read goes into the custody log only when it serves content, in one
// bounded line (issue 12, row 7): the Range header is never copied (a 240 KB header made
// a 240 KB line); HEAD, 416 (no range satisfiable) and 304 are not views.

// servedSpan parses Range as http.ServeContent will (a copy of net/http's parseRange)
// for a file of size bytes. It reports whether content will be served, and a bounded
// description of what: "" for the whole file, "bytes=a-b" for one range, "bytes=a-b
// +N more" for several.
func servedSpan(rangeHdr string, size int64) (span string, served bool) {
	ranges, err := parseRange(rangeHdr, size)
	if err != nil {
		return "", false // 416
	}
	var sum int64
	for _, r := range ranges {
		sum += r.length
	}
	if len(ranges) == 0 || sum > size {
		return "", true // ServeContent sends the whole file
	}
	span = "bytes=" + strconv.FormatInt(ranges[0].start, 10) + "-" + strconv.FormatInt(ranges[0].start+ranges[0].length-1, 10)
	if len(ranges) > 1 {
		span += " +" + strconv.Itoa(len(ranges)-1) + " more"
	}
	return span, true
}

// plainRead drops the conditional headers of a file read, so that what ServeContent
// does depends on Range alone: no 304 that was logged as a view, no If-Range that turns
// a refused range into a whole, unlogged file.
func plainRead(r *http.Request) {
	for _, h := range []string{"If-Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"} {
		r.Header.Del(h)
	}
}

type httpRange struct{ start, length int64 }

var errNoOverlap = errors.New("invalid range: failed to overlap")

// parseRange is net/http's (fs.go), unchanged in what it accepts.
func parseRange(s string, size int64) ([]httpRange, error) {
	if s == "" {
		return nil, nil
	}
	const b = "bytes="
	if !strings.HasPrefix(s, b) {
		return nil, errors.New("invalid range")
	}
	var ranges []httpRange
	noOverlap := false
	for _, ra := range strings.Split(s[len(b):], ",") {
		ra = textproto.TrimString(ra)
		if ra == "" {
			continue
		}
		start, end, ok := strings.Cut(ra, "-")
		if !ok {
			return nil, errors.New("invalid range")
		}
		start, end = textproto.TrimString(start), textproto.TrimString(end)
		var r httpRange
		if start == "" {
			if end == "" || end[0] == '-' {
				return nil, errors.New("invalid range")
			}
			i, err := strconv.ParseInt(end, 10, 64)
			if i < 0 || err != nil {
				return nil, errors.New("invalid range")
			}
			if i > size {
				i = size
			}
			r.start = size - i
			r.length = size - r.start
		} else {
			i, err := strconv.ParseInt(start, 10, 64)
			if err != nil || i < 0 {
				return nil, errors.New("invalid range")
			}
			if i >= size {
				noOverlap = true
				continue
			}
			r.start = i
			if end == "" {
				r.length = size - r.start
			} else {
				i, err := strconv.ParseInt(end, 10, 64)
				if err != nil || r.start > i {
					return nil, errors.New("invalid range")
				}
				if i >= size {
					i = size - 1
				}
				r.length = i - r.start + 1
			}
		}
		ranges = append(ranges, r)
	}
	if noOverlap && len(ranges) == 0 {
		return nil, errNoOverlap
	}
	return ranges, nil
}
