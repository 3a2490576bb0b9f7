package mediation

import (
	"archive/zip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"yizhan/recording"
)

// The case file of one session (GET /api/sessions/{id}/casefile...): its sealed record. Only staff who can see the case
// (its centre or above) read it; restricted (sealed caucus) files only the case's
// mediator and admins. Every read is logged in the case's custody log.

// caseFileSession resolves {id} to a session the actor may read the case file of.
func (s *caseFileAPI) caseFileSession(r *http.Request, a *actor) (*sessionCtx, string, error) {
	if s.cfg.CaseDir == "" {
		return nil, "", errRecordingOff
	}
	id, err := pathID(r, "id")
	if err != nil {
		return nil, "", err
	}
	sc, err := s.loadSession(r.Context(), a, id)
	if err != nil {
		return nil, "", err
	}
	if !sc.visible && !sc.host {
		return nil, "", notFound("session")
	}
	return sc, recording.CaseFolder(sc.cas.ID, sc.cas.Number), nil
}

// mayReadRestricted: sealed caucus media is for the case's mediator and the admins who
// can see the case (a host of another centre is not one of them).
func mayReadRestricted(a *actor, sc *sessionCtx) bool {
	return mayOpenRestricted(a, sc.cas) && (a.Username == sc.cas.Mediator || sc.visible)
}

func (s *caseFileAPI) caseFile(w http.ResponseWriter, r *http.Request, a *actor) error {
	sc, folder, err := s.caseFileSession(r, a)
	if err != nil {
		return err
	}
	sess := recording.SessionFolder(sc.sess.ID)
	dir := filepath.Join(s.cfg.CaseDir, "cases", folder, sess)
	out := struct {
		Manifest json.RawMessage      `json:"manifest"`
		Events   []recording.Event    `json:"events"`
		Sealed   bool                 `json:"sealed"`
		Files    []recording.CaseFile `json:"files"`
	}{Manifest: json.RawMessage("null"), Events: []recording.Event{}, Files: []recording.CaseFile{}}
	if m, err := os.ReadFile(filepath.Join(dir, "manifest.json")); err == nil {
		out.Manifest, out.Sealed = m, true
	}
	evs, err := recording.ReadEvents(filepath.Join(dir, "events.jsonl"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	if evs != nil {
		out.Events = evs
	}
	files, err := recording.ListCase(s.cfg.CaseDir, folder)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	for _, f := range files {
		if f.Session == sess || strings.HasPrefix(f.Session, sess+"-part") {
			f.Path = strings.TrimPrefix(f.Path, sess+"/")
			if !f.Restricted || mayReadRestricted(a, sc) {
				out.Files = append(out.Files, f)
			}
		}
	}
	if err := logCustody(s.cfg.CaseDir, folder, recording.KindViewed, a, sess, nil); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *caseFileAPI) caseFileDownload(w http.ResponseWriter, r *http.Request, a *actor) error {
	sc, folder, err := s.caseFileSession(r, a)
	if err != nil {
		return err
	}
	sess := recording.SessionFolder(sc.sess.ID)
	rel := sess + "/" + r.PathValue("path")
	if strings.HasPrefix(r.PathValue("path"), sess+"-part") { // a session continued after a crash
		rel = r.PathValue("path")
	}
	return serveCaseFile(w, r, a, s.cfg.CaseDir, folder, rel, mayReadRestricted(a, sc))
}

func (s *caseFileAPI) caseFileVerify(w http.ResponseWriter, r *http.Request, a *actor) error {
	var req struct{}
	if err := decode(w, r, &req, true); err != nil {
		return err
	}
	sc, folder, err := s.caseFileSession(r, a)
	if err != nil {
		return err
	}
	return s.writeVerify(w, filepath.Join(s.cfg.CaseDir, "cases", folder, recording.SessionFolder(sc.sess.ID)))
}

// caseFileExport streams the session folder as a zip (restricted files only for those
// who may read them); the export is logged first.
func (s *caseFileAPI) caseFileExport(w http.ResponseWriter, r *http.Request, a *actor) error {
	sc, folder, err := s.caseFileSession(r, a)
	if err != nil {
		return err
	}
	sess := recording.SessionFolder(sc.sess.ID)
	files, err := recording.ListCase(s.cfg.CaseDir, folder)
	if err != nil {
		return notFound("case file (nothing was recorded)")
	}
	if err := logCustody(s.cfg.CaseDir, folder, recording.KindExported, a, sess, nil); err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/zip")
	w.Header().Set("Content-Disposition", fmt.Sprintf("attachment; filename=%q", folder+"_"+sess+".zip"))
	zw := zip.NewWriter(w)
	for _, f := range files {
		if f.Session != sess && !strings.HasPrefix(f.Session, sess+"-part") {
			continue
		}
		if f.Restricted && !mayReadRestricted(a, sc) {
			continue
		}
		src, _, err := recording.OpenCaseFile(s.cfg.CaseDir, folder, f.Path)
		if err != nil {
			continue
		}
		dst, err := zw.CreateHeader(&zip.FileHeader{Name: f.Path, Method: zip.Store, Modified: f.ModTime})
		if err == nil {
			_, err = io.Copy(dst, src)
		}
		src.Close()
		if err != nil {
			s.log.Warn("export", "file", f.Path, "err", err)
			return nil // the client went away; the status is already sent
		}
	}
	return zw.Close()
}
