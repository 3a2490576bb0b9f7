package mediation

import (
	"reflect"
	"testing"

	"yizhan/signaling"
)

// TestProgramTracksFollowTheStage: everyone on stage is in the picture (staff speakers
// first, then guests, moderators, viewers brought on stage; at most four), every
// microphone among them is mixed; hidden viewers and muted cameras are not.
func TestProgramTracksFollowTheStage(t *testing.T) {
	cam := func(sid string, muted bool) signaling.Track {
		return signaling.Track{SID: sid, Kind: "video", Source: "camera", Muted: muted}
	}
	mic := func(sid string) signaling.Track {
		return signaling.Track{SID: sid, Kind: "audio", Source: "microphone"}
	}
	p := func(id, role string, hidden bool, attrs map[string]string, ts ...signaling.Track) signaling.Participant {
		a := map[string]string{"role": role}
		for k, v := range attrs {
			a[k] = v
		}
		return signaling.Participant{Identity: id, Attributes: a, Hidden: hidden, Tracks: ts}
	}
	ps := []signaling.Participant{
		p("viewer-b", "viewer", false, nil, cam("VB", false), mic("AB")), // on stage
		p("viewer-c", "viewer", true, nil, cam("VC", false), mic("AC")),  // hidden: not on stage
		p("guest-1", "speaker", false, map[string]string{"guest": "1"}, cam("VG", false), mic("AG")),
		p("staff-med", "speaker", false, nil, cam("VS", false), mic("AS")),
		p("staff-mod", "moderator", false, nil, cam("VM", true), mic("AM")), // camera muted
		p("viewer-d", "viewer", false, nil, cam("VD", false)),               // on stage, 4th picture
		p("viewer-e", "viewer", false, nil, cam("VE", false), mic("AE")),    // on stage, 5th picture: sound only
	}
	got := programTracks(ps, []string{"viewer-b", "viewer-c", "viewer-d", "viewer-e"})
	want := []programTrack{
		{"staff-med", "VS", true}, {"staff-med", "AS", false},
		{"guest-1", "VG", true}, {"guest-1", "AG", false},
		{"staff-mod", "AM", false},
		{"viewer-b", "VB", true}, {"viewer-b", "AB", false},
		{"viewer-d", "VD", true},
		{"viewer-e", "AE", false},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("program tracks:\n got %+v\nwant %+v", got, want)
	}
}
