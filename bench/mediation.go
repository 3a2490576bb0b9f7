package bench

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"yizhan/signaling"
)

// Joiner hands out the tokens a scenario's participants connect with.
type Joiner interface {
	// Token returns a token for the next participant. name is a label (pub-0, sub-003).
	Token(ctx context.Context, name string, publish, subscribe, hidden bool) (string, error)
	// Joined is called once the participant is connected, with the identity the server
	// gave it (e.g. to admit it from a lobby).
	Joined(ctx context.Context, identity string) error
}

// devJoiner mints tokens with the server's key for a plain room (no mediation session).
type devJoiner struct{ room, key, secret string }

func (j devJoiner) Token(_ context.Context, name string, publish, subscribe, hidden bool) (string, error) {
	return signaling.MintToken(j.key, j.secret, signaling.TokenSpec{
		Room: j.room, Identity: name, TTL: time.Hour,
		CanPublish: publish, CanSubscribe: subscribe, Hidden: hidden,
	})
}

func (devJoiner) Joined(context.Context, string) error { return nil }

// sessionJoiner joins participants to a mediation session through the /api of a
// `serve --dev` server, as the web app would: the first is the host (staff, lands in the
// joint space), the others are parties with invitations who consent to recording, land
// in the lobby and are admitted into the joint space by the host.
type sessionJoiner struct {
	base    string // http://127.0.0.1:port
	http    *http.Client
	session int64
	room    string
	n       atomic.Int32 // participants handed a token so far
}

// demoUser is the dev seed's mediator, host of the sessions we create.
const demoUser = "east-mediator"

// newSessionJoiner logs in as the demo mediator (its password is in the server's log),
// opens a case and a session on it, recorded on open when record is set.
func newSessionJoiner(ctx context.Context, srv *Server, record bool) (*sessionJoiner, error) {
	pw, err := demoPassword(srv.LogPath, demoUser)
	if err != nil {
		return nil, err
	}
	jar, _ := cookiejar.New(nil)
	j := &sessionJoiner{base: "http://" + srv.HTTP, http: &http.Client{Jar: jar, Timeout: 15 * time.Second}}
	if err := j.call(ctx, "POST", "/api/login", map[string]string{"username": demoUser, "password": pw}, nil); err != nil {
		return nil, err
	}
	var c struct{ ID int64 }
	err = j.call(ctx, "POST", "/api/cases", map[string]any{
		"title": "sfubench", "category": "other", "risk": "blue",
		"parties": []map[string]string{{"name": "甲", "side": "applicant"}, {"name": "乙", "side": "respondent"}},
	}, &c)
	if err != nil {
		return nil, err
	}
	var se struct {
		ID   int64
		Room string
	}
	err = j.call(ctx, "POST", fmt.Sprintf("/api/cases/%d/sessions", c.ID), map[string]any{
		"kind": "mediation", "title": "sfubench", "record_on_open": record,
	}, &se)
	if err != nil {
		return nil, err
	}
	j.session, j.room = se.ID, se.Room
	return j, nil
}

func (j *sessionJoiner) Token(ctx context.Context, name string, publish, subscribe, hidden bool) (string, error) {
	var join struct{ Token string }
	if j.n.Add(1) == 1 {
		err := j.call(ctx, "POST", fmt.Sprintf("/api/sessions/%d/join", j.session), map[string]any{}, &join)
		return join.Token, err
	}
	side := "applicant"
	if j.n.Load()%2 == 1 {
		side = "respondent"
	}
	var inv struct{ Code string }
	err := j.call(ctx, "POST", fmt.Sprintf("/api/sessions/%d/invitations", j.session), map[string]any{
		"role": "party", "name": name, "side": side,
	}, &inv)
	if err != nil {
		return "", err
	}
	err = j.call(ctx, "POST", "/api/join/"+inv.Code, map[string]any{"consent": true}, &join)
	return join.Token, err
}

func (j *sessionJoiner) Joined(ctx context.Context, identity string) error {
	if !strings.HasPrefix(identity, "guest-") {
		return nil // the host is in the joint space already
	}
	return j.call(ctx, "POST", fmt.Sprintf("/api/sessions/%d/admit", j.session), map[string]string{"identity": identity}, nil)
}

// recordingState is the session's Recording object (docs/API.md).
type recordingState struct {
	Active  bool   `json:"active"`
	Healthy bool   `json:"healthy"`
	Error   string `json:"error"`
}

func (j *sessionJoiner) recording(ctx context.Context) (recordingState, error) {
	var live struct {
		Recording recordingState `json:"recording"`
	}
	err := j.call(ctx, "GET", fmt.Sprintf("/api/sessions/%d/live", j.session), nil, &live)
	return live.Recording, err
}

// call does one JSON request; out may be nil.
func (j *sessionJoiner) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, j.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := j.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(b)))
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			return fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

// demoPassword finds user's line in the "demo staff" table that `serve --dev` prints.
func demoPassword(logPath, user string) (string, error) {
	f, err := os.Open(logPath)
	if err != nil {
		return "", err
	}
	defer f.Close()
	return parseDemoPassword(f, user)
}

func parseDemoPassword(r io.Reader, user string) (string, error) {
	sc := bufio.NewScanner(r)
	inTable := false
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "demo staff") {
			inTable = true
			continue
		}
		if !inTable {
			continue
		}
		if !strings.HasPrefix(line, "  ") {
			inTable = false
			continue
		}
		if f := strings.Fields(line); len(f) >= 2 && f[0] == user {
			return f[1], nil
		}
	}
	return "", fmt.Errorf("no password for %s in the server's demo staff table (is this a --dev server with mediation?)", user)
}

// dirSize sums the sizes of regular files under dir (the recordings' growth).
func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return nil
		}
		if d.Type().IsRegular() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}
