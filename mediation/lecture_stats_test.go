package mediation

import (
	"fmt"
	"testing"
)

// TestLectureAttendanceInStatistics: real SDK viewers of a city lecture from two
// villages and a township's screen (30 people in its hall); the city's statistics count
// each centre (viewers, people reached, peak); a township's statistics count its own
// centres' attendance of the city's lecture, and nobody else's.
func TestLectureAttendanceInStatistics(t *testing.T) {
	ls := newLiveServer(t)
	ls.cookies["admin"] = ls.login(fixtureUsers["admin"].Username, fixturePassword)
	var lec lectureJSON
	ls.call("admin", "POST", "/api/lectures", `{"title":"土地承包法","scheduled_at":"2026-12-07T14:00:00+08:00","centre":"city","speakers":["med"]}`, 201, &lec)
	ls.call("admin", "POST", fmt.Sprintf("/api/lectures/%d/start", lec.ID), "", 200, nil)
	ls.speaker(lec)
	join := fmt.Sprintf("/api/public/lectures/%d/join", lec.ID)
	var js []lectureJoin
	for _, body := range []string{`{"name":"甲","centre":"east-v"}`, `{"name":"乙","centre":"east-v"}`, `{"name":"丙","centre":"张村"}`} {
		var j lectureJoin
		ls.call("anonymous", "POST", join, body, 200, &j)
		js = append(js, j)
	}
	var screen lectureJoin
	ls.call("leader", "POST", fmt.Sprintf("/api/lectures/%d/join", lec.ID), `{"screen":true,"people":30}`, 200, &screen)
	js = append(js, screen)
	for _, j := range js {
		ls.connect(joinJSON{URL: j.URL, Token: j.Token, Identity: j.Identity})
	}

	type stats struct {
		Lectures int              `json:"lectures"`
		Rows     []attendanceJSON `json:"rows"`
	}
	byCentre := func(s stats) map[string]attendanceJSON {
		m := map[string]attendanceJSON{}
		for _, r := range s.Rows {
			m[r.Centre] = r
		}
		return m
	}
	var city stats
	waitFor(t, "the city's statistics count every centre that watched", func() bool {
		ls.call("admin", "GET", "/api/lectures/stats", "", 200, &city)
		m := byCentre(city)
		return m["east-v"].Viewers == 2 && m["east"].Viewers == 1 && m["张村"].Viewers == 1
	})
	m := byCentre(city)
	if city.Lectures != 1 || m["east"].People != 30 || m["east-v"].People != 2 || m["east-v"].Peak != 2 || m["east"].Peak != 1 ||
		m["east-v"].Name != "East Village" || m["张村"].People != 1 || len(city.Rows) != 3 {
		t.Fatalf("city statistics: %+v", city)
	}
	var east stats
	ls.call("leader", "GET", "/api/lectures/stats", "", 200, &east)
	m = byCentre(east)
	if len(east.Rows) != 2 || m["east"].People != 30 || m["east-v"].Viewers != 2 || m["east-v"].Peak != 2 {
		t.Fatalf("the township's statistics: %+v (want its screen and its village, not 张村)", east)
	}
	ls.cookies["other-mediator"] = ls.login(fixtureUsers["other-mediator"].Username, fixturePassword)
	var west stats
	ls.call("other-mediator", "GET", "/api/lectures/stats", "", 200, &west)
	if len(west.Rows) != 0 {
		t.Fatalf("another township's statistics count others' viewers: %+v", west)
	}
}
