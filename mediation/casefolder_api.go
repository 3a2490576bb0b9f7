package mediation

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"path"
	"path/filepath"

	"yizhan/recording"
	"yizhan/store"
)

// The case file as a whole (every session folder of a case, and its custody log), and
// the server's public key, so that anyone can check a case file offline:
//
//	GET  /api/signing-key                 the public key PEM (no login: it is public)
//	GET  /api/cases/{id}/file             the files of the case folder
//	GET  /api/cases/{id}/file/{path...}   one file (range requests), ?download=1 to save it
//	POST /api/cases/{id}/file/verify      recording.Verify of the case folder
//
// Staff who can see the case read it; restricted (sealed caucus) files only the case's
// mediator and admins. Every list, view and download goes into the case's custody log
// first: if that cannot be written, nothing is served.

// caseFileAPI serves the case file: case folders, session folders, verify, export.
type caseFileAPI struct{ *core }

// caseFileRoutes registers the case-file endpoints on m.
func (s *caseFileAPI) caseFileRoutes(m *http.ServeMux) {
	m.Handle("GET /api/signing-key", http.HandlerFunc(s.signingKey))
	m.Handle("GET /api/cases/{id}/file", s.staff(s.caseFolderList))
	m.Handle("GET /api/cases/{id}/file/{path...}", s.staff(s.caseFolderFile))
	m.Handle("POST /api/cases/{id}/file/verify", s.staff(s.caseFolderVerify))
}

func (s *caseFileAPI) signingKey(w http.ResponseWriter, r *http.Request) {
	pub := s.cfg.CaseKey
	if s.cfg.CaseDir == "" || pub == nil {
		s.writeErr(w, r, errRecordingOff)
		return
	}
	w.Header().Set("Content-Type", "application/x-pem-file")
	w.Header().Set("X-Key-Id", pub.KeyID())
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, _ = w.Write(pub.PEM())
}

// caseFolder resolves {id} to a case the actor can see and its folder on disk.
func (s *caseFileAPI) caseFolder(r *http.Request, a *actor) (store.Case, string, error) {
	if s.cfg.CaseDir == "" {
		return store.Case{}, "", errRecordingOff
	}
	id, err := pathID(r, "id")
	if err != nil {
		return store.Case{}, "", err
	}
	c, err := s.visibleCase(r.Context(), a, id)
	if err != nil {
		return c, "", err
	}
	return c, recording.CaseFolder(c.ID, c.Number), nil
}

var errRecordingOff = errf(http.StatusNotFound, "not_found", "recording is not enabled on this server")

// mayOpenRestricted: sealed caucus media is for the case's mediator and admins (who can
// see the case: the caller checked that).
func mayOpenRestricted(a *actor, c store.Case) bool {
	return a.Username == c.Mediator || a.Has("admin")
}

// logCustody appends one access to the case's custody log.
func logCustody(dataDir, folder, kind string, a *actor, subject string, detail map[string]string) error {
	l, err := recording.OpenCustodyLog(dataDir, folder)
	if err != nil {
		return fmt.Errorf("custody log: %w", err)
	}
	defer l.Close()
	if _, err := l.Append(recording.Event{Kind: kind, Actor: a.identity(), Subject: subject, Detail: detail}); err != nil {
		return fmt.Errorf("custody log: %w", err)
	}
	return nil
}

type caseFolderJSON struct {
	Case       int64                `json:"case_id"`
	Number     string               `json:"number"`
	Folder     string               `json:"folder"`
	Files      []recording.CaseFile `json:"files"`
	Restricted int                  `json:"restricted_hidden"` // restricted files not listed to this reader
}

func (s *caseFileAPI) caseFolderList(w http.ResponseWriter, r *http.Request, a *actor) error {
	c, folder, err := s.caseFolder(r, a)
	if err != nil {
		return err
	}
	out := caseFolderJSON{Case: c.ID, Number: c.Number, Folder: folder, Files: []recording.CaseFile{}}
	files, err := recording.ListCase(s.cfg.CaseDir, folder)
	if errors.Is(err, fs.ErrNotExist) {
		writeJSON(w, http.StatusOK, out) // nothing recorded yet
		return nil
	}
	if err != nil {
		return err
	}
	for _, f := range files {
		if f.Restricted && !mayOpenRestricted(a, c) {
			out.Restricted++
			continue
		}
		out.Files = append(out.Files, f)
	}
	if err := logCustody(s.cfg.CaseDir, folder, recording.KindViewed, a, "file list", nil); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *caseFileAPI) caseFolderFile(w http.ResponseWriter, r *http.Request, a *actor) error {
	c, folder, err := s.caseFolder(r, a)
	if err != nil {
		return err
	}
	rel := r.PathValue("path")
	return serveCaseFile(w, r, a, s.cfg.CaseDir, folder, rel, mayOpenRestricted(a, c))
}

// serveCaseFile serves one file of a case folder (range requests, so a player can
// seek), after writing the view or download into the custody log: if that cannot be
// written, nothing is served. Restricted files need mayRestricted.
func serveCaseFile(w http.ResponseWriter, r *http.Request, a *actor, dataDir, folder, rel string, mayRestricted bool) error {
	f, info, err := recording.OpenCaseFile(dataDir, folder, rel)
	if err != nil {
		return notFound("case file " + rel)
	}
	defer f.Close()
	if info.Restricted && !mayRestricted {
		return errf(http.StatusForbidden, "forbidden", "caucus media is restricted to the case's mediator and admins")
	}
	kind := recording.KindViewed
	if r.URL.Query().Get("download") == "1" {
		kind = recording.KindDownloaded
		w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", folder+"_"+path.Base(info.Path)))
	}
	plainRead(r)
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return err
	}
	// One bounded line per read that serves content (custodyrange.go).
	if span, served := servedSpan(r.Header.Get("Range"), size); served && r.Method != http.MethodHead {
		var detail map[string]string
		if span != "" {
			detail = map[string]string{"range": span}
		}
		if err := logCustody(dataDir, folder, kind, a, info.Path, detail); err != nil {
			return err
		}
	}
	switch filepath.Ext(info.Path) {
	case ".webm":
		w.Header().Set("Content-Type", "video/webm")
	case ".json", ".jsonl":
		w.Header().Set("Content-Type", "application/json")
	case ".sig":
		w.Header().Set("Content-Type", "application/octet-stream")
	}
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, path.Base(info.Path), info.ModTime, f)
	return nil
}

func (s *caseFileAPI) caseFolderVerify(w http.ResponseWriter, r *http.Request, a *actor) error {
	var req struct{}
	if err := decode(w, r, &req, true); err != nil {
		return err
	}
	_, folder, err := s.caseFolder(r, a)
	if err != nil {
		return err
	}
	return s.writeVerify(w, filepath.Join(s.cfg.CaseDir, "cases", folder))
}

// writeVerify answers with recording.Verify of dir (a case or a session folder),
// trusting this server's key.
func (s *caseFileAPI) writeVerify(w http.ResponseWriter, dir string) error {
	rep, err := recording.Verify(dir, s.cfg.CaseKey)
	if errors.Is(err, fs.ErrNotExist) && len(rep.Sessions) == 0 {
		return notFound("case file (nothing was recorded)")
	}
	if rep.Problems == nil {
		rep.Problems = []string{}
	}
	if rep.Checked == nil {
		rep.Checked = []string{}
	}
	writeJSON(w, http.StatusOK, rep)
	return nil
}
