package recording

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// Reading a case file, for the case-file API (GET /api/cases/{id}/file[/{path}]).
// Access control is the caller's (mediation's): this package only tells it which files
// are restricted, and keeps every path inside the case folder.

// CaseFile is one file of a case folder as listed to staff.
type CaseFile struct {
	Path       string    `json:"path"` // relative to the case folder: "<session>/<file>" or "<session>/sealed/<file>"
	Session    string    `json:"session"`
	Size       int64     `json:"size"`
	ModTime    time.Time `json:"mod_time"`
	Restricted bool      `json:"restricted"` // caucus media: only the case's mediator and admins
	Sealed     bool      `json:"sealed"`     // its session folder is sealed (the file will not change)
}

// OpenCustodyLog opens the case's custody log, <data>/cases/<case>/custody.jsonl: who
// viewed, downloaded or exported which file (KindViewed, KindDownloaded, KindExported).
// It is hash-chained like events.jsonl and lives beside the session folders, since it
// keeps growing after they are sealed; Verify checks its chain. Close it after use, or
// keep one open per case.
func OpenCustodyLog(dataDir, caseNumber string) (*EventLog, error) {
	if err := CheckName(caseNumber); err != nil {
		return nil, fmt.Errorf("case number: %w", err)
	}
	dir := filepath.Join(dataDir, "cases", caseNumber)
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return nil, err
	}
	return OpenEventLog(filepath.Join(dir, custodyName))
}

// ListCase lists the files of a case folder (no housekeeping files), sorted by path.
func ListCase(dataDir, caseNumber string) ([]CaseFile, error) {
	if err := CheckName(caseNumber); err != nil {
		return nil, fmt.Errorf("case number: %w", err)
	}
	caseDir := filepath.Join(dataDir, "cases", caseNumber)
	sessions, err := os.ReadDir(caseDir)
	if err != nil {
		return nil, err
	}
	out := []CaseFile{}
	for _, sd := range sessions {
		if !sd.IsDir() || CheckName(sd.Name()) != nil {
			continue
		}
		dir := filepath.Join(caseDir, sd.Name())
		sealed := exists(filepath.Join(dir, manifestName))
		for _, sub := range []string{"", sealedDir} {
			ents, _ := os.ReadDir(filepath.Join(dir, sub))
			for _, e := range ents {
				if !e.Type().IsRegular() || CheckName(e.Name()) != nil || strings.HasSuffix(e.Name(), journalSuffix) {
					continue
				}
				fi, err := e.Info()
				if err != nil {
					continue
				}
				rel := sd.Name() + "/" + e.Name()
				if sub != "" {
					rel = sd.Name() + "/" + sub + "/" + e.Name()
				}
				out = append(out, CaseFile{Path: rel, Session: sd.Name(), Size: fi.Size(), ModTime: fi.ModTime().UTC(),
					Restricted: sub == sealedDir, Sealed: sealed})
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out, nil
}

// OpenCaseFile opens one file of a case folder by its listed path, refusing anything
// else: every element must pass CheckName ("..", absolute paths and hidden files
// cannot), at most "<session>/sealed/<file>", a regular file, not a symlink. Serve it
// with http.ServeContent for range requests.
func OpenCaseFile(dataDir, caseNumber, rel string) (*os.File, CaseFile, error) {
	var cf CaseFile
	if err := CheckName(caseNumber); err != nil {
		return nil, cf, fmt.Errorf("case number: %w", err)
	}
	els := strings.Split(rel, "/")
	if len(els) < 2 || len(els) > 3 || (len(els) == 3 && els[1] != sealedDir) {
		return nil, cf, fmt.Errorf("%w: %q is not a case file path", ErrBadName, rel)
	}
	for _, el := range els {
		if err := CheckName(el); err != nil {
			return nil, cf, err
		}
	}
	name := els[len(els)-1]
	if strings.HasSuffix(name, journalSuffix) {
		return nil, cf, fmt.Errorf("%w: %q is not a case file", ErrBadName, rel)
	}
	dir := filepath.Join(dataDir, "cases", caseNumber, els[0])
	p := filepath.Join(dataDir, "cases", caseNumber, filepath.Join(els...))
	fi, err := os.Lstat(p)
	if err != nil {
		return nil, cf, err
	}
	if !fi.Mode().IsRegular() {
		return nil, cf, fmt.Errorf("%w: %q is not a regular file", ErrBadName, rel)
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, cf, err
	}
	cf = CaseFile{Path: rel, Session: els[0], Size: fi.Size(), ModTime: fi.ModTime().UTC(),
		Restricted: len(els) == 3, Sealed: exists(filepath.Join(dir, manifestName))}
	return f, cf, nil
}
