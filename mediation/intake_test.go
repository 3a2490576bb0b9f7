package mediation

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/jpeg"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"yizhan/store"
)

// jpegWithExif is a small JPEG with an EXIF segment carrying a GPS-like marker.
func jpegWithExif(t *testing.T) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 64, 48))
	for x := 0; x < 64; x++ {
		img.Set(x, x%48, color.RGBA{200, 30, 30, 255})
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	raw := b.Bytes()
	payload := append([]byte("Exif\x00\x00"), []byte("GPS 39.9042N 116.4074E secret-location")...)
	seg := append([]byte{0xFF, 0xE1, byte((len(payload) + 2) >> 8), byte(len(payload) + 2)}, payload...)
	out := append(append(append([]byte{}, raw[:2]...), seg...), raw[2:]...)
	if !bytes.Contains(out, []byte("secret-location")) {
		t.Fatal("exif not inserted")
	}
	return out
}

type trackResp struct {
	TrackingCode string `json:"tracking_code"`
	Stage        string `json:"stage"`
	Steps        []struct {
		Stage, To string
	} `json:"steps"`
	CentreName string  `json:"centre_name"`
	SessionAt  *string `json:"session_at"`
	JoinURL    string  `json:"join_url"`
	Closed     bool    `json:"closed"`
	CanRate    bool    `json:"can_rate"`
	Outcome    string  `json:"outcome"`
}

// TestCitizenRequestThroughTheLoop is the end-to-end test through the API: a
// citizen's request at a village centre -> assessed red -> an alert at the township and
// the city, acknowledged by the city leader -> transferred to another township, accepted
// -> mediated in a session -> supervised, done -> closed -> the citizen sees "resolved"
// and rates it -> the statistics count it once, in the right centre.
func TestCitizenRequestThroughTheLoop(t *testing.T) {
	fx := newFixture(t)
	fx.addRole("city-leader", UserSpec{Username: "cityboss", Name: "City Leader", Centre: "city", Roles: []string{"leader"}})
	photo := "data:image/jpeg;base64," + base64.StdEncoding.EncodeToString(jpegWithExif(t))
	body := fmt.Sprintf(`{"centre":"east-v","board":"dispute","category":"labour_wages","name":"李四","phone":"138 0000 1111","address":"东村3组",
		"description":"工地拖欠二十名工人工资三个月\n老板联系不上","photos":[%q],"consent":true}`, photo)
	var sent struct{ TrackingCode, URL string }
	b := fx.call("anonymous", "POST", "/api/public/requests", body, 201, nil)
	if err := json.Unmarshal([]byte(b), &struct {
		TrackingCode *string `json:"tracking_code"`
		URL          *string `json:"url"`
	}{&sent.TrackingCode, &sent.URL}); err != nil || len(sent.TrackingCode) != 10 || !strings.HasSuffix(sent.URL, "/t/"+sent.TrackingCode) {
		t.Fatalf("answer %s", b)
	}
	track := func() trackResp {
		var tr trackResp
		raw := fx.call("anonymous", "GET", "/api/public/requests/"+sent.TrackingCode, "", 200, &tr)
		for _, secret := range []string{"13800001111", "138 0000 1111", "cityboss", "westmed", "protest", "\"risk\"", "\"red\"", "李四"} {
			if strings.Contains(raw, secret) {
				t.Fatalf("tracking shows %q: %s", secret, raw)
			}
		}
		return tr
	}
	if tr := track(); tr.Stage != "received" || tr.CentreName != "East Village" {
		t.Fatalf("after sending: %+v", tr)
	}
	// the request is in the village's intake queue as an accepted case with its channel and photo
	var list struct{ Cases []caseResp }
	fx.call("admin", "GET", "/api/cases?status=accepted", "", 200, &list)
	if len(list.Cases) != 1 || list.Cases[0].Channel != "qr" || list.Cases[0].Board != "dispute" {
		t.Fatalf("intake queue %+v", list)
	}
	id := list.Cases[0].ID
	var lv struct{ Photos []string }
	fx.call("mediator", "GET", fmt.Sprintf("/api/cases/%d/loop", id), "", 200, &lv)
	if len(lv.Photos) != 1 {
		t.Fatalf("photos %+v", lv)
	}
	st, img := fx.do("mediator", "GET", lv.Photos[0], "")
	if st != 200 || bytes.Contains([]byte(img), []byte("secret-location")) || bytes.Contains([]byte(img), []byte("Exif")) {
		t.Fatalf("photo: %d, %d bytes, exif kept=%v", st, len(img), bytes.Contains([]byte(img), []byte("Exif")))
	}
	if _, _, err := image.Decode(strings.NewReader(img)); err != nil {
		t.Fatalf("stored photo: %v", err)
	}
	if st, _ := fx.do("other-mediator", "GET", lv.Photos[0], ""); st != 404 {
		t.Fatalf("west sees east's photo: %d", st)
	}

	// assess red: alerts at the township and the city; the city leader acknowledges
	var assessed struct{ Alerts []alertJSON }
	fx.call("mediator", "POST", fmt.Sprintf("/api/cases/%d/assess", id), `{"notes":"a protest is planned","board":"dispute","category":"labour_wages","risk":"red"}`, 200, &assessed)
	if len(assessed.Alerts) != 2 {
		t.Fatalf("alerts %+v", assessed.Alerts)
	}
	if tr := track(); tr.Stage != "assessing" {
		t.Fatalf("after assessing: %+v", tr)
	}
	for _, al := range assessed.Alerts {
		if al.Centre == "city" {
			fx.call("city-leader", "POST", fmt.Sprintf("/api/alerts/%d/ack", al.ID), "", 200, nil)
		}
	}
	// transfer to the other township, accepted
	var tr transferJSON
	fx.call("mediator", "POST", fmt.Sprintf("/api/cases/%d/transfer", id), `{"centre":"west","reason":"the employer is in West"}`, 201, &tr)
	fx.call("other-mediator", "POST", fmt.Sprintf("/api/transfers/%d/accept", tr.ID), "", 200, nil)
	if got := track(); got.Stage != "handed" || got.Steps[len(got.Steps)-1].To != "West" {
		t.Fatalf("after the transfer: %+v", got)
	}
	// mediated in a session
	fx.call("other-mediator", "PATCH", fmt.Sprintf("/api/cases/%d", id), `{"status":"assigned","mediator":"westmed"}`, 200, nil)
	fx.call("other-mediator", "PATCH", fmt.Sprintf("/api/cases/%d", id), `{"status":"mediating"}`, 200, nil)
	at := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Minute).Format(time.RFC3339)
	fx.call("other-mediator", "POST", fmt.Sprintf("/api/cases/%d/sessions", id), fmt.Sprintf(`{"kind":"mediation","title":"first","scheduled_at":%q}`, at), 201, nil)
	if got := track(); got.Stage != "session" || got.SessionAt == nil || *got.SessionAt != at {
		t.Fatalf("with a session: %+v", got)
	}
	// supervised, done, closed
	var sp supervisionItemJSON
	fx.call("city-leader", "POST", fmt.Sprintf("/api/cases/%d/supervisions", id), `{"unit":"West labour office","deadline":"2099-01-01","note":"wages by Friday"}`, 201, &sp)
	fx.call("other-mediator", "PATCH", fmt.Sprintf("/api/supervisions/%d", sp.ID), `{"done":true,"note":"paid"}`, 200, nil)
	fx.call("anonymous", "POST", "/api/public/requests/"+sent.TrackingCode+"/feedback", `{"satisfaction":5}`, 409, nil) // not resolved yet
	fx.call("other-mediator", "POST", fmt.Sprintf("/api/cases/%d/close", id), `{"outcome":"工资已全部发放","informed_by":"phone"}`, 200, nil)
	got := track()
	if got.Stage != "resolved" || !got.Closed || !got.CanRate || got.Outcome != "工资已全部发放" {
		t.Fatalf("closed: %+v", got)
	}
	fx.call("anonymous", "POST", "/api/public/requests/"+sent.TrackingCode+"/feedback", `{"satisfaction":9}`, 400, nil)
	fx.call("anonymous", "POST", "/api/public/requests/"+sent.TrackingCode+"/feedback", `{"satisfaction":5,"comment":"很满意"}`, 200, &got)
	if got.CanRate {
		t.Fatalf("rated twice allowed: %+v", got)
	}
	fx.call("anonymous", "POST", "/api/public/requests/"+sent.TrackingCode+"/feedback", `{"satisfaction":1}`, 409, nil)
	fx.checkStatsOnce(t, id)
}

// TestIntakeLimits: a phone that sends too much is refused; a neighbour behind the same
// address is not. Bad photos are refused and nothing is kept.
func TestIntakeLimits(t *testing.T) {
	fx := newFixture(t)
	req := func(phone, photos string) (int, string) {
		return fx.do("anonymous", "POST", "/api/public/requests",
			fmt.Sprintf(`{"centre":"east","board":"livelihood","name":"王","phone":%q,"description":"路灯坏了","photos":[%s]}`, phone, photos))
	}
	for i := 0; i < 5; i++ {
		if st, b := req("13900000001", ""); st != 201 {
			t.Fatalf("request %d: %d %s", i, st, b)
		}
	}
	if st, _ := req("139-0000-0001", ""); st != 429 {
		t.Fatalf("sixth request of one phone: %d, want 429", st)
	}
	if st, b := req("13900000002", ""); st != 201 {
		t.Fatalf("a neighbour is blocked: %d %s", st, b)
	}
	before, _ := os.ReadDir(filepath.Join(fx.dataDir, "intake"))
	cases, _ := fx.st.ListCases(fx.ctx, store.CaseFilter{})
	for _, bad := range []struct{ name, photos string }{
		{"not base64", `"!!!"`},
		{"not an image", fmt.Sprintf("%q", base64.StdEncoding.EncodeToString([]byte("GIF89a nope")))},
		{"six photos", strings.Repeat(fmt.Sprintf("%q,", base64.StdEncoding.EncodeToString(jpegWithExif(t))), 5) + `"x"`},
	} {
		if st, b := req("13900000003", bad.photos); st != 400 {
			t.Fatalf("%s: %d %s", bad.name, st, b)
		}
	}
	after, _ := os.ReadDir(filepath.Join(fx.dataDir, "intake"))
	cases2, _ := fx.st.ListCases(fx.ctx, store.CaseFilter{})
	if len(after) != len(before) || len(cases2) != len(cases) {
		t.Fatalf("refused requests left files (%d -> %d) or cases (%d -> %d)", len(before), len(after), len(cases), len(cases2))
	}
	for _, bad := range []string{
		`{"centre":"nope","board":"dispute","name":"a","phone":"13900000004","description":"d"}`,
		`{"centre":"east","board":"gossip","name":"a","phone":"13900000004","description":"d"}`,
		`{"centre":"east","board":"dispute","name":"a","phone":"call me","description":"d"}`,
		`{"centre":"east","board":"dispute","name":"a","phone":"13900000004","description":""}`,
		`{"centre":"east","board":"dispute","name":"a","phone":"13900000004","description":"d","consent":false}`,
	} {
		if st, b := fx.do("anonymous", "POST", "/api/public/requests", bad); st != 400 {
			t.Fatalf("%s: %d %s", bad, st, b)
		}
	}
	if st, _ := fx.do("anonymous", "GET", "/api/public/requests/NOSUCHCODE", ""); st != 404 {
		t.Fatalf("unknown tracking code: %d", st)
	}
}

// TestVideoCallAndBooking: a citizen calls the duty queue (a case opened from the call's
// outcome has the video channel); a leader publishes a slot, a citizen books it, the
// tracking page shows the time and, shortly before, the join link; the reception's
// outcome goes into the booking's case.
func TestVideoCallAndBooking(t *testing.T) {
	fx := newFixture(t)
	var duty dutyJSON
	fx.call("mediator", "POST", "/api/centres/east/duty", `{"on":true}`, 200, &duty)
	if !duty.OnDuty || duty.Hosts[0] != "med" {
		t.Fatalf("duty %+v", duty)
	}
	var call struct {
		Token, Identity, Ticket string
		Position                int
		Session                 sessionJSON
	}
	fx.call("anonymous", "POST", "/api/public/centres/east/call", `{"name":"张三","phone":"13700000000","consent":true}`, 200, &call)
	if call.Token == "" || call.Position != 1 || call.Session.ID != duty.SessionID || call.Session.Kind != "reception" {
		t.Fatalf("call %+v", call)
	}
	var cs struct {
		State    string
		Position int
	}
	fx.call("anonymous", "GET", "/api/public/calls/"+call.Ticket, "", 200, &cs)
	if cs.State != "waiting" || cs.Position != 1 {
		t.Fatalf("call state %+v", cs)
	}
	if _, err := fx.st.Arrive(fx.ctx, store.ReceptionEntry{SessionID: duty.SessionID, Identity: call.Identity, Name: "张三"}); err != nil {
		t.Fatal(err)
	}
	var out struct{ Case caseResp }
	fx.call("mediator", "POST", fmt.Sprintf("/api/sessions/%d/outcome", duty.SessionID), fmt.Sprintf(`{"identity":%q,"note":"heard"}`, call.Identity), 201, &out)
	if out.Case.Channel != "video" {
		t.Fatalf("call's case %+v", out.Case)
	}

	// a leader's slot, starting in an hour
	start := time.Now().Add(time.Hour).UTC().Truncate(time.Second)
	var sl slotJSON
	fx.call("leader", "POST", "/api/centres/east/slots", fmt.Sprintf(`{"start":%q,"capacity":1}`, start.Format(time.RFC3339)), 201, &sl)
	fx.call("mediator", "POST", "/api/centres/east/slots", fmt.Sprintf(`{"start":%q}`, start.Format(time.RFC3339)), 403, nil)
	var slots struct{ Slots []slotJSON }
	fx.call("anonymous", "GET", "/api/public/centres/east/slots", "", 200, &slots)
	if len(slots.Slots) != 1 || slots.Slots[0].Free != 1 || slots.Slots[0].LeaderName != "Leader" || slots.Slots[0].SessionID != 0 {
		t.Fatalf("public slots %+v", slots)
	}
	var booked struct {
		TrackingCode string `json:"tracking_code"`
	}
	fx.call("anonymous", "POST", "/api/public/centres/east/bookings", fmt.Sprintf(`{"slot":%d,"name":"赵六","phone":"13600000000","topic":"征地补偿"}`, sl.ID), 201, &booked)
	fx.call("anonymous", "POST", "/api/public/centres/east/bookings", fmt.Sprintf(`{"slot":%d,"name":"钱七","phone":"13600000001","topic":"x"}`, sl.ID), 409, nil) // full
	fx.call("anonymous", "POST", "/api/public/centres/west/bookings", fmt.Sprintf(`{"slot":%d,"name":"钱七","phone":"13600000001","topic":"x"}`, sl.ID), 400, nil)
	var tr trackResp
	fx.call("anonymous", "GET", "/api/public/requests/"+booked.TrackingCode, "", 200, &tr)
	if tr.Stage != "session" || tr.SessionAt == nil || tr.JoinURL != "" {
		t.Fatalf("booking tracked %+v", tr)
	}
	// half an hour before: the join link shows
	fx.svc.cfg.Now = func() time.Time { return start.Add(-10 * time.Minute) }
	fx.call("anonymous", "GET", "/api/public/requests/"+booked.TrackingCode, "", 200, &tr)
	if !strings.Contains(tr.JoinURL, "/j/") {
		t.Fatalf("no join link just before: %+v", tr)
	}
	fx.svc.cfg.Now = time.Now
	code := tr.JoinURL[strings.LastIndex(tr.JoinURL, "/")+1:]
	inv, err := fx.st.Invitation(fx.ctx, code)
	if err != nil {
		t.Fatal(err)
	}
	bookedCase, _ := fx.st.CaseByTracking(fx.ctx, booked.TrackingCode)
	fx.call("leader", "POST", fmt.Sprintf("/api/sessions/%d/outcome", sl.SessionID), fmt.Sprintf(`{"identity":%q,"note":"答复了补偿标准"}`, guestIdentity(inv.ID)), 201, &out)
	if out.Case.ID != bookedCase.ID || out.Case.Channel != "booking" {
		t.Fatalf("reception outcome went to %+v, want the booking's case %d", out.Case, bookedCase.ID)
	}
}

// checkStatsOnce: the statistics count case id once, at its centre now (west).
func (fx *fixture) checkStatsOnce(t *testing.T, id int64) {
	t.Helper()
	var stats struct {
		Rows []struct {
			Key              string
			Accepted, Closed int
		}
		Total struct{ Accepted, Closed int }
	}
	fx.call("admin", "GET", "/api/stats?by=tier", "", 200, &stats)
	if stats.Total.Accepted != 1 || stats.Total.Closed != 1 || len(stats.Rows) != 1 || stats.Rows[0].Key != "township" {
		t.Fatalf("stats %+v", stats)
	}
}
