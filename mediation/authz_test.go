package mediation

import (
	"fmt"
	"testing"
	"time"
)

// TestAuthorizationMatrix: every endpoint against every role, allowed and refused. Each
// cell runs against a fresh scene (a case of centre east, a session hosted by "mediator",
// a guest in the lobby); a refused call must leave the scene exactly as it was.
//
// Columns: anonymous, party (knows its invitation code, has no account), observer (east),
// mediator of another centre (west), mediator (east, the case's mediator and host),
// leader (east, not a host of this session), admin (city: sees everything below).
func TestAuthorizationMatrix(t *testing.T) {
	fx := newFixture(t)
	const (
		ok  = 200
		cr  = 201
		nc  = 204
		un  = 401
		fb  = 403
		nf  = 404
		all = 0
	)
	staffOnly := [7]int{un, un, ok, ok, ok, ok, ok}
	visible := [7]int{un, un, ok, nf, ok, ok, ok}
	host := [7]int{un, un, fb, nf, ok, fb, ok}
	type row struct {
		name   string
		method string
		path   string // %d = session id, %c = case id, %s = invitation code (anonymous: a made-up one)
		body   string // %g = the guest's identity, %p = the applicant party id
		want   [7]int
	}
	rows := []row{
		{"me", "GET", "/api/me", "", staffOnly},
		{"staff", "GET", "/api/staff?tier=city", "", staffOnly},
		{"centres", "GET", "/api/centres", "", staffOnly},
		{"create case", "POST", "/api/cases", `{"title":"t","category":"land","risk":"red","parties":[{"name":"a","side":"applicant"}]}`, [7]int{un, un, fb, cr, cr, cr, cr}},
		{"list cases", "GET", "/api/cases?status=accepted", "", staffOnly},
		{"get case", "GET", "/api/cases/%c", "", visible},
		{"patch case", "PATCH", "/api/cases/%c", `{"risk":"red","status":"assessed"}`, [7]int{un, un, fb, nf, ok, ok, ok}},
		{"create session", "POST", "/api/cases/%c/sessions", `{"kind":"mediation","title":"second"}`, [7]int{un, un, fb, nf, cr, cr, cr}},
		{"list sessions", "GET", "/api/sessions", "", staffOnly},
		{"get session", "GET", "/api/sessions/%d", "", visible},
		{"create invitation", "POST", "/api/sessions/%d/invitations", `{"role":"agent","name":"Agent","party":%p}`, [7]int{un, un, fb, nf, cr, fb, cr}},
		{"list invitations", "GET", "/api/sessions/%d/invitations", "", host},
		{"revoke invitation", "DELETE", "/api/invitations/%s", "", [7]int{un, un, fb, nf, nc, fb, nc}},
		{"join info", "GET", "/api/join/%s", "", [7]int{nf, ok, ok, ok, ok, ok, ok}},
		{"join by invitation", "POST", "/api/join/%s", `{"consent":true}`, [7]int{nf, ok, ok, ok, ok, ok, ok}},
		{"join as staff", "POST", "/api/sessions/%d/join", "", visible},
		{"live", "GET", "/api/sessions/%d/live", "", visible},
		{"admit", "POST", "/api/sessions/%d/admit", `{"identity":"%g"}`, host},
		{"deny", "POST", "/api/sessions/%d/deny", `{"identity":"%g","revoke":true}`, host},
		{"lobby", "POST", "/api/sessions/%d/lobby", `{"identity":"%g"}`, host},
		{"move", "POST", "/api/sessions/%d/move", `{"identity":"%g","space":"caucus-a"}`, host},
		{"mute", "POST", "/api/sessions/%d/mute", `{"identity":"%g"}`, host},
		{"remove", "POST", "/api/sessions/%d/remove", `{"identity":"%g"}`, host},
		{"end", "POST", "/api/sessions/%d/end", "", host},
		{"next", "POST", "/api/sessions/%d/next", "", host},
		{"outcome", "POST", "/api/sessions/%d/outcome", `{"identity":"%g","note":"heard","supervise":{"unit":"司法所","deadline":"2026-12-31"}}`, [7]int{un, un, fb, nf, cr, fb, cr}},
		{"recording stop", "POST", "/api/sessions/%d/recording", `{"action":"stop","reason":"break"}`, host},
		{"case file", "GET", "/api/sessions/%d/casefile", "", visible},
		{"case file event log", "GET", "/api/sessions/%d/casefile/files/events.jsonl", "", visible},
		{"case file verify", "POST", "/api/sessions/%d/casefile/verify", "", visible},
		{"case file export", "GET", "/api/sessions/%d/casefile/export", "", visible},
		{"invite staff", "POST", "/api/sessions/%d/invite-staff", `{"username":"judge"}`, host},
		{"events", "GET", "/api/events", "", staffOnly},
		{"stats", "GET", "/api/stats?by=tier", "", staffOnly},
		// documents (issue 10): %D draft, %S out for signature (applicant and mediator), %E sealed,
		// %G sealed with %F a confirmation pending before the judge; %H the fingerprint of %S, %P a PNG
		{"create document", "POST", "/api/cases/%c/documents", `{"kind":"agreement"}`, [7]int{un, un, fb, nf, cr, cr, cr}},
		{"list documents", "GET", "/api/cases/%c/documents", "", visible},
		{"get document", "GET", "/api/documents/%D", "", visible},
		{"document versions", "GET", "/api/documents/%D/versions", "", visible},
		{"edit document", "PUT", "/api/documents/%D", `{"body":"新的文字"}`, [7]int{un, un, fb, nf, ok, ok, ok}},
		{"send document", "POST", "/api/documents/%D/send", `{"signers":[{"username":"med"}]}`, [7]int{un, un, fb, nf, ok, ok, ok}},
		{"attest signer", "POST", "/api/documents/%S/attest", `{"invitation":"%s"}`, [7]int{un, un, fb, nf, nc, nc, nc}},
		{"show document", "POST", "/api/documents/%D/show", `{"space":"joint"}`, [7]int{un, un, fb, nf, nc, nc, nc}},
		{"void document", "POST", "/api/documents/%D/void", `{"reason":"重写"}`, [7]int{un, un, fb, nf, nc, nc, nc}},
		{"staff sign", "POST", "/api/documents/%S/sign", `{"version":1,"sha256":"%H","signature_png":"%P"}`, [7]int{un, un, fb, nf, ok, fb, fb}},
		{"staff pdf", "GET", "/api/documents/%E/pdf", "", visible},
		{"request confirmation", "POST", "/api/documents/%E/confirmation", `{"judge":"judge"}`, [7]int{un, un, fb, nf, cr, cr, cr}},
		{"judge queue", "GET", "/api/confirmations", "", [7]int{un, un, fb, fb, fb, fb, fb}},
		{"confirmation detail", "GET", "/api/confirmations/%F", "", visible},
		{"confirmation file", "GET", "/api/confirmations/%F/file/s%d/events.jsonl", "", visible},
		{"decide confirmation", "POST", "/api/confirmations/%F/decision", `{"decision":"confirmed"}`, [7]int{un, un, fb, nf, fb, fb, fb}},
		{"schedule confirmation", "POST", "/api/confirmations/%F/session", `{}`, [7]int{un, un, fb, nf, fb, fb, fb}},
		{"templates", "GET", "/api/document-templates", "", staffOnly},
		{"edit template", "PUT", "/api/document-templates/agreement/land", `{"title":"协议","body":"{{案号}}"}`, [7]int{un, un, fb, fb, fb, fb, ok}},
		{"upload seal", "PUT", "/api/centres/east/seal", `{"png":"%P"}`, [7]int{un, un, fb, nf, fb, fb, nc}},
		{"seal image", "GET", "/api/centres/east/seal", "", visible},
		{"join documents", "GET", "/api/join/%s/documents", "", [7]int{nf, ok, ok, ok, ok, ok, ok}},
		{"join otp", "POST", "/api/join/%s/documents/%S/otp", "", [7]int{nf, 409, 409, 409, 409, 409, 409}},
		{"join sign", "POST", "/api/join/%s/documents/%S/sign", `{"version":1,"sha256":"%H","agree":true,"signature_png":"%P"}`, [7]int{nf, ok, ok, ok, ok, ok, ok}},
		{"join pdf", "GET", "/api/join/%s/documents/%E/pdf", "", [7]int{nf, ok, ok, ok, ok, ok, ok}},
		{"join confirmation", "POST", "/api/join/%s/documents/%E/confirmation", `{"judge":"judge"}`, [7]int{nf, cr, cr, cr, cr, cr, cr}},
		{"unknown endpoint", "GET", "/api/nope", "", [7]int{nf, nf, nf, nf, nf, nf, nf}},

		// the loop (issue 11): %L the loop scene's case, %a its alert, %t its transfer,
		// %v its supervision item, %x a closed case, %n a fresh name
		{"assess", "POST", "/api/cases/%c/assess", `{"notes":"n","board":"dispute","category":"land","risk":"red"}`, [7]int{un, un, fb, nf, ok, ok, ok}},
		{"alerts", "GET", "/api/alerts", "", staffOnly},
		{"ack alert", "POST", "/api/alerts/%a/ack", "", [7]int{un, un, fb, nf, fb, ok, ok}},
		{"case loop", "GET", "/api/cases/%L/loop", "", visible},
		{"departments", "GET", "/api/centres/east/departments", "", staffOnly},
		{"add department", "POST", "/api/centres/east/departments", `{"kind":"court","name":"%n"}`, [7]int{un, un, fb, nf, fb, cr, cr}},
		{"transfer", "POST", "/api/cases/%c/transfer", `{"centre":"west","reason":"r"}`, [7]int{un, un, fb, nf, cr, cr, cr}},
		{"transfers", "GET", "/api/transfers", "", staffOnly},
		{"accept transfer", "POST", "/api/transfers/%t/accept", "", [7]int{un, un, fb, nf, ok, ok, ok}},
		{"return transfer", "POST", "/api/transfers/%t/return", `{"reason":"not ours"}`, [7]int{un, un, fb, nf, ok, ok, ok}},
		{"add supervision", "POST", "/api/cases/%c/supervisions", `{"unit":"u","deadline":"2099-01-01","note":"n"}`, [7]int{un, un, fb, nf, cr, cr, cr}},
		{"supervision done", "PATCH", "/api/supervisions/%v", `{"done":true,"note":"n"}`, [7]int{un, un, fb, nf, ok, ok, ok}},
		{"close", "POST", "/api/cases/%c/close", `{"outcome":"o","informed_by":"phone"}`, [7]int{un, un, fb, nf, ok, ok, ok}},
		{"reopen", "POST", "/api/cases/%x/reopen", `{"reason":"r"}`, [7]int{un, un, fb, nf, ok, ok, ok}},
		{"follow-up", "POST", "/api/cases/%c/followups", `{"method":"phone","note":"n"}`, [7]int{un, un, fb, nf, cr, cr, cr}},

		// the citizen's way in (issue 11): %k a closed request's tracking code, %y a slot,
		// %o a fresh phone number, %f the loop case's photo; a tracking code shows its own request only
		// (TestCitizenRequestThroughTheLoop checks what it shows)
		{"public centre", "GET", "/api/public/centres/east", "", [7]int{ok, ok, ok, ok, ok, ok, ok}},
		{"public centre unknown", "GET", "/api/public/centres/nope", "", [7]int{nf, nf, nf, nf, nf, nf, nf}},
		{"public request", "POST", "/api/public/requests", `{"centre":"east","board":"dispute","category":"land","name":"N","phone":"%o","description":"d"}`, [7]int{cr, cr, cr, cr, cr, cr, cr}},
		{"tracking", "GET", "/api/public/requests/%k", "", [7]int{ok, ok, ok, ok, ok, ok, ok}},
		{"tracking unknown", "GET", "/api/public/requests/ZZZZZZZZZZ", "", [7]int{nf, nf, nf, nf, nf, nf, nf}},
		{"feedback", "POST", "/api/public/requests/%k/feedback", `{"satisfaction":4}`, [7]int{ok, ok, ok, ok, ok, ok, ok}},
		{"video call", "POST", "/api/public/centres/east/call", `{"name":"N"}`, [7]int{ok, ok, ok, ok, ok, ok, ok}},
		{"public slots", "GET", "/api/public/centres/east/slots", "", [7]int{ok, ok, ok, ok, ok, ok, ok}},
		{"booking", "POST", "/api/public/centres/east/bookings", `{"slot":%y,"name":"N","phone":"%o","topic":"t"}`, [7]int{cr, cr, cr, cr, cr, cr, cr}},
		{"slots", "GET", "/api/centres/east/slots", "", [7]int{un, un, ok, nf, ok, ok, ok}},
		{"add slot", "POST", "/api/centres/east/slots", `{"start":"2099-01-01T09:00:00Z","leader":"lead"}`, [7]int{un, un, fb, nf, fb, cr, cr}},
		{"duty", "GET", "/api/centres/east/duty", "", [7]int{un, un, ok, nf, ok, ok, ok}},
		{"set duty", "POST", "/api/centres/east/duty", `{"on":true}`, [7]int{un, un, fb, nf, ok, ok, ok}},
		{"photo", "GET", "/api/cases/%L/photos/%f", "", [7]int{un, un, ok, nf, ok, ok, ok}},
		{"stats by centre", "GET", "/api/stats?by=centre&period=month", "", staffOnly},
		{"stats of another tree", "GET", "/api/stats?by=centre&centre=east", "", [7]int{un, un, ok, nf, ok, ok, ok}},
		{"stats export", "GET", "/api/stats/export.xlsx?by=board", "", staffOnly},
		{"cases paged", "GET", "/api/cases?page=1&per_page=10&q=x&board=dispute", "", staffOnly},
		{"qr code", "GET", "/api/centres/east/qr.svg", "", [7]int{ok, ok, ok, ok, ok, ok, ok}},
	}
	_ = all
	loopFrom := len(rows) // the loop's rows (issue 11) need its scene too
	for i, r := range rows {
		if r.name == "assess" {
			loopFrom = i
		}
	}
	for ri, r := range rows {
		for i, role := range matrixRoles {
			sc := fx.scene()
			if ri >= loopFrom {
				sc.loop = fx.loopScene()
			}
			ds := fx.docScene(sc)
			code := sc.code
			if role == "anonymous" {
				code = randomCode(16)
			}
			repl := func(s string) string {
				out := ""
				for j := 0; j < len(s); j++ {
					if s[j] == '%' && j+1 < len(s) {
						switch s[j+1] {
						case 'd':
							out += fmt.Sprint(sc.sessID)
						case 'c':
							out += fmt.Sprint(sc.caseID)
						case 's':
							out += code
						case 'g':
							out += sc.guest
						case 'p':
							out += fmt.Sprint(sc.parties[0].ID)
						case 'D':
							out += fmt.Sprint(ds.draft)
						case 'S':
							out += fmt.Sprint(ds.signing)
						case 'E':
							out += fmt.Sprint(ds.sealed)
						case 'G':
							out += fmt.Sprint(ds.confirmed)
						case 'F':
							out += fmt.Sprint(ds.confirmation)
						case 'H':
							out += ds.signingSHA
						case 'P':
							out += testSignatureB64()
						case 'L':
							out += fmt.Sprint(sc.loop.caseID)
						case 'a':
							out += fmt.Sprint(sc.loop.alertID)
						case 't':
							out += fmt.Sprint(sc.loop.transferID)
						case 'v':
							out += fmt.Sprint(sc.loop.supID)
						case 'x':
							out += fmt.Sprint(sc.loop.closedID)
						case 'n':
							out += randomCode(6)
						case 'k':
							out += sc.loop.tracking
						case 'y':
							out += fmt.Sprint(sc.loop.slotID)
						case 'f':
							out += sc.loop.photo
						case 'o':
							out += fmt.Sprintf("13%09d", time.Now().UnixNano()%1e9)
						default:
							out += s[j : j+2]
						}
						j++
						continue
					}
					out += s[j : j+1] // a byte, not a rune: keep UTF-8 intact
				}
				return out
			}
			before := fx.fingerprint(sc)
			status, body := fx.do(role, r.method, repl(r.path), repl(r.body))
			if status != r.want[i] {
				t.Errorf("%s as %s: status %d, want %d (%s)", r.name, role, status, r.want[i], body)
				continue
			}
			if status >= 400 {
				if after := fx.fingerprint(sc); after != before {
					t.Errorf("%s as %s: refused (%d) but changed state:\n before %s\n after  %s", r.name, role, status, before, after)
				}
			}
		}
	}
}
