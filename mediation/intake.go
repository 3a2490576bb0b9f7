package mediation

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"image"
	"image/jpeg"
	_ "image/png" // photos may come as PNG; they are kept as JPEG
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"yizhan/signaling"
	"yizhan/store"
)

// intake is the citizen's way in (issue 11): each centre's public page (/q/{code}) submits
// requests with photos, calls the centre's duty reception, books a leader's slot; the
// tracking page (/t/{code}) shows progress in plain words and takes the citizen's rating.
// Nothing here needs an account; what it shows is what a citizen may see, never staff
// internals (notes, risk, names of staff, alerts).
type intake struct {
	// static after construction
	svc      *Service
	st       store.Store
	log      *slog.Logger
	photoDir string // <CaseDir>/intake; "" = this server takes no photos

	byPhone, byAddr     *buckets  // requests and bookings
	callPhone, callAddr *buckets  // video calls
	lookups             *throttle // unknown tracking codes and tickets per address (throttle.go)
}

const (
	maxPhotos     = 5
	maxPhotoBytes = 3 << 20          // one photo as sent
	maxPhotoPixel = 40_000_000       // decompression bombs: width x height
	maxIntakeBody = 22 << 20         // five photos in base64 and the text
	joinEarly     = 30 * time.Minute // a booking's join link shows this long before its slot
	callTTL       = 2 * time.Hour    // a video call's invitation
	dutyRoomTitle = "视频反映"           // data: the duty reception's session title
	dutyCaseTitle = "视频反映值班"         // data: its holder case
)

func newIntake(s *Service) *intake {
	in := &intake{svc: s, st: s.st, log: s.log.With("part", "intake"),
		byPhone: newBuckets(5, 30*time.Minute), byAddr: newBuckets(120, 20*time.Second),
		callPhone: newBuckets(6, 10*time.Minute), callAddr: newBuckets(60, 10*time.Second),
		lookups: newThrottle(20, time.Second, 8*time.Second, 10*time.Minute)}
	if s.cfg.CaseDir != "" {
		in.photoDir = filepath.Join(s.cfg.CaseDir, "intake")
	}
	return in
}

func (in *intake) routes(m *http.ServeMux) {
	s := in.svc
	m.Handle("GET /api/public/centres/{code}", s.open(in.centre))
	m.Handle("POST /api/public/requests", s.open(in.request))
	m.Handle("GET /api/public/requests/{code}", s.open(in.track))
	m.Handle("POST /api/public/requests/{code}/feedback", s.open(in.feedback))
	m.Handle("POST /api/public/centres/{code}/call", s.open(in.call))
	m.Handle("GET /api/public/calls/{ticket}", s.open(in.callState))
	m.Handle("GET /api/public/centres/{code}/slots", s.open(in.publicSlots))
	m.Handle("POST /api/public/centres/{code}/bookings", s.open(in.book))

	m.Handle("GET /api/centres/{code}/slots", s.staff(in.staffSlots))
	m.Handle("POST /api/centres/{code}/slots", s.staff(in.addSlot))
	m.Handle("GET /api/centres/{code}/duty", s.staff(in.duty))
	m.Handle("POST /api/centres/{code}/duty", s.staff(in.setDuty))
	m.Handle("GET /api/cases/{id}/photos/{name}", s.staff(in.photo))
}

// allow spends one token of the phone's bucket and one of the address's. The phone is
// asked first: someone who used up their own bucket is refused before they can drain the
// bucket their neighbours behind the same address share.
func allow(byPhone, byAddr *buckets, phone, addr string, now time.Time) error {
	if phone != "" && !byPhone.has(phone, now) {
		return tooMany(byPhone.wait(phone, now), "too many requests from this phone number; try again later")
	}
	if !byAddr.has(addr, now) {
		return tooMany(byAddr.wait(addr, now), "too many requests from your network; try again in a few minutes")
	}
	if phone != "" {
		byPhone.take(phone, now)
	}
	byAddr.take(addr, now)
	return nil
}

var phoneRE = regexp.MustCompile(`^\+?[0-9][0-9 -]{4,19}$`)

// phoneKey is the digits of a phone number (what the limiter counts); "" when it is not one.
func phoneKey(p string) string {
	if !phoneRE.MatchString(p) {
		return ""
	}
	return strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, p)
}

// trackingAlphabet has no 0/O, 1/I/L: codes are read out over the phone.
const trackingAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

func trackingCode() string {
	b := make([]byte, 10) // 31^10: about 2^49
	if _, err := rand.Read(b); err != nil {
		panic(fmt.Sprintf("crypto/rand: %v", err))
	}
	for i := range b {
		b[i] = trackingAlphabet[int(b[i])%len(trackingAlphabet)]
	}
	return string(b)
}

func (in *intake) publicURL(r *http.Request, path string) string {
	return in.svc.publicBase(r) + path // never the request's Host (issue 12)
}

type publicCentreJSON struct {
	Code       string   `json:"code"`
	Name       string   `json:"name"`
	Tier       string   `json:"tier"`
	ParentName string   `json:"parent_name"`
	Boards     []string `json:"boards"`
	Categories []string `json:"categories"`
	Slots      int      `json:"slots"` // bookable slots ahead
	URL        string   `json:"url"`   // the page the centre's QR code opens
}

func (in *intake) publicCentre(ctx context.Context, code string) (store.Centre, error) {
	c, err := in.st.Centre(ctx, code)
	if errors.Is(err, store.ErrNotFound) || len(code) > 64 {
		return c, notFound("centre")
	}
	return c, err
}

func (in *intake) centre(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	c, err := in.publicCentre(ctx, r.PathValue("code"))
	if err != nil {
		return err
	}
	v := publicCentreJSON{Code: c.Code, Name: c.Name, Tier: c.Tier, Boards: store.Boards, Categories: store.Categories, URL: in.publicURL(r, "/q/"+c.Code)}
	if c.Parent != "" {
		if p, err := in.st.Centre(ctx, c.Parent); err == nil {
			v.ParentName = p.Name
		}
	}
	slots, err := in.st.Slots(ctx, c.Code, in.svc.now())
	if err != nil {
		return err
	}
	for _, sl := range slots {
		if sl.Booked < sl.Capacity {
			v.Slots++
		}
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

type requestReq struct {
	Centre      string   `json:"centre"`
	Board       string   `json:"board"`
	Category    string   `json:"category"`
	Name        string   `json:"name"`
	Phone       string   `json:"phone"`
	Address     string   `json:"address"`
	Description string   `json:"description"`
	Photos      []string `json:"photos"`
	Consent     *bool    `json:"consent"` // the personal-information notice; false is refused
}

// checkPerson validates what every citizen form asks: a name and a phone number.
func checkPerson(name, phone string, phoneRequired bool) error {
	if name == "" || utf8.RuneCountInString(name) > 40 {
		return badRequest("name is required (at most 40 characters)")
	}
	if phone == "" && !phoneRequired {
		return nil
	}
	if phoneKey(phone) == "" {
		return badRequest("phone must be a phone number (digits, spaces, - and a leading +)")
	}
	return nil
}

func (in *intake) request(w http.ResponseWriter, r *http.Request) error {
	var req requestReq
	if err := decodeMax(w, r, &req, false, maxIntakeBody); err != nil {
		return err
	}
	ctx := r.Context()
	req.Name, req.Phone, req.Address = strings.TrimSpace(req.Name), strings.TrimSpace(req.Phone), strings.TrimSpace(req.Address)
	req.Description = strings.TrimSpace(req.Description)
	centre, err := in.publicCentre(ctx, req.Centre)
	if err != nil {
		return badRequest("centre %q is unknown", req.Centre)
	}
	if !store.OneOf(req.Board, store.Boards) {
		return badRequest("board must be one of %s", strings.Join(store.Boards, ", "))
	}
	if req.Category == "" {
		req.Category = "other"
	}
	if !store.OneOf(req.Category, store.Categories) {
		return badRequest("category must be one of %s", strings.Join(store.Categories, ", "))
	}
	if err := checkPerson(req.Name, req.Phone, true); err != nil {
		return err
	}
	if req.Description == "" || utf8.RuneCountInString(req.Description) > 5000 {
		return badRequest("description is required (at most 5000 characters)")
	}
	if utf8.RuneCountInString(req.Address) > 200 {
		return badRequest("address is longer than 200 characters")
	}
	if req.Consent != nil && !*req.Consent {
		return badRequest("the personal-information notice must be accepted to send a request")
	}
	if len(req.Photos) > maxPhotos {
		return badRequest("at most %d photos", maxPhotos)
	}
	if len(req.Photos) > 0 && in.photoDir == "" {
		return badRequest("this server takes no photos")
	}
	jpegs := make([][]byte, 0, len(req.Photos))
	for i, p := range req.Photos {
		j, err := cleanPhoto(p)
		if err != nil {
			return badRequest("photo %d: %v", i+1, err)
		}
		jpegs = append(jpegs, j)
	}
	if err := allow(in.byPhone, in.byAddr, phoneKey(req.Phone), clientAddr(r), in.svc.now()); err != nil {
		in.log.Warn("request rate-limited", "addr", clientAddr(r))
		return err
	}
	code := trackingCode()
	c, err := in.st.CreateCase(ctx, store.Case{Title: titleOf(req.Description), Category: req.Category, Risk: "blue", Centre: centre.Code,
		Description: req.Description, Board: req.Board, Channel: "qr", Address: req.Address, TrackingCode: code, CreatedBy: "citizen",
		Parties: []store.Party{{Name: req.Name, Side: "applicant", Phone: req.Phone}}})
	if err != nil {
		return err
	}
	in.svc.caseEvent(ctx, store.Event{CaseID: c.ID, Kind: "consent", Actor: "citizen", Subject: "privacy", Detail: "accepted the personal-information notice"})
	for _, j := range jpegs {
		if err := in.savePhoto(ctx, c.ID, j); err != nil {
			in.log.Error("photo lost", "case", c.ID, "err", err)
			return err
		}
	}
	in.svc.publishCase(c, "intake")
	writeJSON(w, http.StatusCreated, map[string]string{"tracking_code": code, "url": in.publicURL(r, "/t/"+code)})
	return nil
}

// titleOf is a case title from a citizen's description: its first line, at most 40 characters.
func titleOf(d string) string {
	line, _, _ := strings.Cut(d, "\n")
	if r := []rune(strings.TrimSpace(line)); len(r) > 40 {
		return string(r[:40]) + "…"
	}
	return strings.TrimSpace(line)
}

// cleanPhoto decodes a photo (base64, optionally a data: URL) and re-encodes it as JPEG:
// EXIF and anything else beside the pixels is gone.
func cleanPhoto(p string) ([]byte, error) {
	if rest, ok := strings.CutPrefix(p, "data:"); ok {
		_, b64, found := strings.Cut(rest, ",")
		if !found {
			return nil, errors.New("not a data URL")
		}
		p = b64
	}
	if base64.StdEncoding.DecodedLen(len(p)) > maxPhotoBytes+3 {
		return nil, fmt.Errorf("larger than %d MB", maxPhotoBytes>>20)
	}
	raw, err := base64.StdEncoding.DecodeString(p)
	if err != nil {
		return nil, errors.New("not base64")
	}
	cfg, format, err := image.DecodeConfig(bytes.NewReader(raw))
	if err != nil || (format != "jpeg" && format != "png") {
		return nil, errors.New("not a JPEG or PNG image")
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > maxPhotoPixel {
		return nil, fmt.Errorf("%dx%d pixels is too large", cfg.Width, cfg.Height)
	}
	img, _, err := image.Decode(bytes.NewReader(raw))
	if err != nil {
		return nil, fmt.Errorf("cannot be read: %v", err)
	}
	var out bytes.Buffer
	if err := jpeg.Encode(&out, img, &jpeg.Options{Quality: 85}); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

var photoNameRE = regexp.MustCompile(`^[a-z0-9]{16,40}\.jpg$`)

// savePhoto writes a cleaned photo under a name of our making (no path from the client)
// and records it: temp file, fsync, rename.
func (in *intake) savePhoto(ctx context.Context, caseID int64, data []byte) error {
	if err := os.MkdirAll(in.photoDir, 0o750); err != nil {
		return fmt.Errorf("photo folder: %w", err)
	}
	name := randomCode(16) + ".jpg"
	tmp, err := os.CreateTemp(in.photoDir, ".upload-*")
	if err != nil {
		return fmt.Errorf("save photo: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("save photo: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("save photo: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("save photo: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(in.photoDir, name)); err != nil {
		return fmt.Errorf("save photo: %w", err)
	}
	return in.st.AddPhoto(ctx, caseID, name, len(data))
}

func (in *intake) photoURLs(ctx context.Context, caseID int64) ([]string, error) {
	names, err := in.st.Photos(ctx, caseID)
	out := make([]string, 0, len(names))
	for _, n := range names {
		out = append(out, "/api/cases/"+strconv.FormatInt(caseID, 10)+"/photos/"+n)
	}
	return out, err
}

func (in *intake) photo(w http.ResponseWriter, r *http.Request, a *actor) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	ctx := r.Context()
	if _, err := in.svc.visibleCase(ctx, a, id); err != nil {
		return err
	}
	name := r.PathValue("name")
	if !photoNameRE.MatchString(name) || in.photoDir == "" {
		return notFound("photo")
	}
	if owner, err := in.st.PhotoCase(ctx, name); err != nil || owner != id {
		return notFound("photo")
	}
	f, err := os.Open(filepath.Join(in.photoDir, name))
	if err != nil {
		return notFound("photo")
	}
	defer f.Close()
	w.Header().Set("Content-Type", "image/jpeg")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Cache-Control", "private, max-age=3600")
	http.ServeContent(w, r, "", time.Time{}, f)
	return nil
}

// byTracking resolves a tracking code; unknown codes count against the caller's address.
func (in *intake) byTracking(r *http.Request) (store.Case, error) {
	// A known code is never refused; unknown ones are answered later and later (throttle.go).
	code := strings.ToUpper(strings.TrimSpace(r.PathValue("code")))
	c, err := in.st.CaseByTracking(r.Context(), code)
	if errors.Is(err, store.ErrNotFound) || len(code) > 20 || code == "" {
		if err := in.svc.failed(r.Context(), throttleKey{in.lookups, clientAddr(r)}); err != nil {
			return c, err
		}
		return c, errf(http.StatusNotFound, "not_found", "no request has this tracking code")
	}
	return c, err
}

func (in *intake) feedback(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Satisfaction int    `json:"satisfaction"`
		Comment      string `json:"comment"`
	}
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	c, err := in.byTracking(r)
	if err != nil {
		return err
	}
	req.Comment = strings.TrimSpace(req.Comment)
	if req.Satisfaction < 1 || req.Satisfaction > 5 {
		return badRequest("satisfaction is 1 to 5")
	}
	if utf8.RuneCountInString(req.Comment) > 2000 {
		return badRequest("comment is longer than 2000 characters")
	}
	if _, err := in.st.SetFeedback(r.Context(), c.ID, req.Satisfaction, req.Comment); err != nil {
		return err
	}
	return in.writeTracking(w, r, c.TrackingCode)
}

func (in *intake) track(w http.ResponseWriter, r *http.Request) error {
	c, err := in.byTracking(r)
	if err != nil {
		return err
	}
	return in.writeTracking(w, r, c.TrackingCode)
}

func (in *intake) writeTracking(w http.ResponseWriter, r *http.Request, code string) error {
	v, err := in.tracking(r, code)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, v)
	return nil
}

// callReq: a video call into the centre's duty queue.
type callReq struct {
	Name    string `json:"name"`
	Phone   string `json:"phone"`
	Consent *bool  `json:"consent"` // the recording notice; absent = not given
}

func (in *intake) dutySession(ctx context.Context, centre string) (store.Session, error) {
	return in.st.DutySession(ctx, centre, dutyCaseTitle, dutyRoomTitle, "s-"+randomCode(10))
}

func (in *intake) call(w http.ResponseWriter, r *http.Request) error {
	var req callReq
	if err := decode(w, r, &req, false); err != nil {
		return err
	}
	ctx := r.Context()
	centre, err := in.publicCentre(ctx, r.PathValue("code"))
	if err != nil {
		return err
	}
	req.Name, req.Phone = strings.TrimSpace(req.Name), strings.TrimSpace(req.Phone)
	if err := checkPerson(req.Name, req.Phone, false); err != nil {
		return err
	}
	if err := allow(in.callPhone, in.callAddr, phoneKey(req.Phone), clientAddr(r), in.svc.now()); err != nil {
		return err
	}
	se, err := in.dutySession(ctx, centre.Code)
	if err != nil {
		return err
	}
	inv, err := in.st.CreateInvitation(ctx, store.Invitation{Code: randomCode(16), SessionID: se.ID, Role: "party", Side: "applicant", Name: req.Name,
		ExpiresAt: in.svc.now().Add(callTTL), CreatedBy: "citizen"})
	if err != nil {
		return err
	}
	ident := guestIdentity(inv.ID)
	consent := req.Consent != nil && *req.Consent
	attrs := map[string]string{"role": "party", "side": "applicant", "centre": centre.Code, "tier": centre.Tier,
		"session": strconv.FormatInt(se.ID, 10), "consent": map[bool]string{true: "1", false: "0"}[consent], "lobby": "1"}
	tok, err := in.svc.rc.MintToken(signaling.TokenSpec{Room: se.Room, Identity: ident, Name: req.Name, Attributes: cleanAttrs(attrs),
		TTL: in.svc.cfg.TokenTTL, CanPublish: true, CanSubscribe: true, CanPublishData: true})
	if err != nil {
		return err
	}
	if req.Consent != nil {
		in.svc.caseEvent(ctx, store.Event{CaseID: se.CaseID, Kind: "consent", Actor: ident, SessionID: se.ID, Subject: ident,
			Detail: fmt.Sprintf("%s (party) %s the recording notice", req.Name, map[bool]string{true: "accepted", false: "declined"}[consent])})
	}
	if req.Phone != "" {
		in.svc.setNote(se.Room, ident, req.Phone)
		in.svc.caseEvent(ctx, store.Event{CaseID: se.CaseID, Kind: "note", Actor: ident, SessionID: se.ID, Subject: ident, Detail: req.Phone})
	}
	c, err := in.st.Case(ctx, se.CaseID)
	if err != nil {
		return err
	}
	pos, err := in.position(ctx, se.ID, ident)
	if err != nil {
		return err
	}
	in.svc.emit(event{name: "duty_call", to: se.Hosts, caseCentre: centre.Code, data: map[string]any{"session_id": se.ID, "centre": centre.Code, "name": req.Name}})
	writeJSON(w, http.StatusOK, map[string]any{"url": in.svc.signalURL(r), "token": tok, "identity": ident, "session": sessionView(se, c),
		"ticket": inv.Code, "position": pos})
	return nil
}

// position is identity's place in the session's queue (1 = next); not yet arrived
// callers count after everyone waiting.
func (in *intake) position(ctx context.Context, sessionID int64, identity string) (int, error) {
	q, err := in.st.Queue(ctx, sessionID)
	if err != nil {
		return 0, err
	}
	for i, e := range q {
		if e.Identity == identity {
			return i + 1, nil
		}
	}
	return len(q) + 1, nil
}

func (in *intake) callState(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	code := r.PathValue("ticket")
	inv, err := in.st.Invitation(ctx, code)
	if errors.Is(err, store.ErrNotFound) || len(code) > 64 { // a known ticket is never refused (throttle.go)
		if err := in.svc.failed(ctx, throttleKey{in.lookups, clientAddr(r)}); err != nil {
			return err
		}
		return notFound("ticket")
	}
	if err != nil {
		return err
	}
	if centre, err := in.st.DutyCentre(ctx, inv.SessionID); err != nil {
		return err
	} else if centre == "" {
		return notFound("ticket")
	}
	ident := guestIdentity(inv.ID)
	state, pos := "waiting", 0
	se, err := in.st.Session(ctx, inv.SessionID)
	if err != nil {
		return err
	}
	if p, ok := in.svc.participant(se.Room, ident); ok && p.Space != "" {
		state = "admitted"
	} else if pos, err = in.position(ctx, inv.SessionID, ident); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"state": state, "position": pos})
	return nil
}
