package bench

import (
	"fmt"
	"strings"
)

// Scenario is one shape of load. Publishers send synthetic VP8 (and Opus when Audio);
// in a meeting every publisher also subscribes to every other one, otherwise the
// Subscribers only watch and the publishers subscribe to nothing.
type Scenario struct {
	Name        string
	Publishers  int
	Subscribers int  // watch-only participants (0 in a meeting)
	Meeting     bool // publishers subscribe to each other
	Audio       bool // publishers also send Opus (20 ms packets)
	// Mediated joins everyone through the mediation API (/api) of a --dev server: the
	// first participant is the host, the others are invited parties admitted from the
	// lobby. Record sets the session to record on open (everyone consents); it implies
	// Mediated.
	Mediated bool
	Record   bool
	// Lecture (lecture1xN, issue 15): one speaker with 720p simulcast (three layers) and
	// Opus; the Subscribers are hidden viewers on the low layer who join in a storm,
	// all within StormWindow, through the lecture API of a --dev server (lecture.go).
	Lecture bool
}

// Default is the scenario table run when --scenarios is not given (issue 2: 1 video x
// {10, 25, 50}, a 4-person meeting, 2 video x 40).
var Default = []Scenario{
	{Name: "video1x10", Publishers: 1, Subscribers: 10},
	{Name: "video1x25", Publishers: 1, Subscribers: 25},
	{Name: "video1x50", Publishers: 1, Subscribers: 50},
	{Name: "meeting4", Publishers: 4, Meeting: true, Audio: true},
	{Name: "video2x40", Publishers: 2, Subscribers: 40},
}

// Extra scenarios are run only when named.
var Extra = []Scenario{
	{Name: "tiny", Publishers: 1, Subscribers: 2},
	{Name: "meeting4-session", Publishers: 4, Meeting: true, Audio: true, Mediated: true},
	{Name: "meeting4-recorded", Publishers: 4, Meeting: true, Audio: true, Mediated: true, Record: true},
}

// Participants is how many clients the scenario connects.
func (s Scenario) Participants() int { return s.Publishers + s.Subscribers }

// Receivers is how many participants subscribe to each published track.
func (s Scenario) Receivers() int {
	if s.Meeting {
		return s.Publishers - 1
	}
	return s.Subscribers
}

// SubscriberCount is the number of participants that subscribe at all.
func (s Scenario) SubscriberCount() int {
	if s.Meeting {
		return s.Publishers
	}
	return s.Subscribers
}

// Select picks scenarios by comma-separated names; "" or "all" is Default, and "all"
// may be combined with others ("all,meeting4-recorded").
// A name of the form videoPxS (e.g. video3x7) builds a broadcast scenario on the fly.
func Select(names string) ([]Scenario, error) {
	names = strings.TrimSpace(names)
	if names == "" || names == "all" {
		return Default, nil
	}
	var out []Scenario
	for _, n := range strings.Split(names, ",") {
		n = strings.TrimSpace(n)
		if n == "" {
			continue
		}
		if n == "all" {
			out = append(out, Default...)
			continue
		}
		s, ok := lookup(n)
		if !ok {
			return nil, fmt.Errorf("unknown scenario %q (known: %s, videoPxS, or lecture1xN)", n, strings.Join(known(), ", "))
		}
		out = append(out, s)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no scenario in %q", names)
	}
	return out, nil
}

func lookup(name string) (Scenario, bool) {
	for _, s := range append(append([]Scenario{}, Default...), Extra...) {
		if s.Name == name {
			return s, true
		}
	}
	var p, n int
	var rest string
	if c, _ := fmt.Sscanf(name, "video%dx%d%s", &p, &n, &rest); c == 2 && p >= 1 && p <= 8 && n >= 1 && n <= 200 {
		return Scenario{Name: name, Publishers: p, Subscribers: n}, true
	}
	if c, _ := fmt.Sscanf(name, "lecture1x%d%s", &n, &rest); c == 1 && n >= 1 && n <= 5000 {
		return Scenario{Name: name, Publishers: 1, Subscribers: n, Audio: true, Lecture: true, Mediated: true}, true
	}
	return Scenario{}, false
}

func known() []string {
	var out []string
	for _, s := range append(append([]Scenario{}, Default...), Extra...) {
		out = append(out, s.Name)
	}
	return out
}
