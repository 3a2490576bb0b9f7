package recording

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
)

// Modes of what we create under <data>/cases: evidence is readable only by the server's
// user (and written only by it, until sealed).
const (
	fileMode   = 0o600 // events, custody log, track files and their journals, the marker
	sealedMode = 0o400 // manifest and signatures: written once, at seal
	dirMode    = 0o700 // cases/, case and session folders, sealed/
)

// ErrBadName is returned for a case, session, identity or track name that could not be
// used safely as one path element.
var ErrBadName = errors.New("recording: bad name")

// CheckName accepts only names made of ASCII letters, digits, '.', '_' and '-', 1 to 64
// characters, starting with a letter or digit. Every path element we build from outside
// data passes here, so no name can climb out of the data folder ("..", "/", "\"), hide
// (".x"), or surprise a shell or a file system (spaces, control or non-ASCII characters).
func CheckName(s string) error {
	if len(s) == 0 || len(s) > 64 {
		return fmt.Errorf("%w: %q: length must be 1 to 64", ErrBadName, s)
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case (c == '.' || c == '_' || c == '-') && i > 0:
		default:
			return fmt.Errorf("%w: %q: only A-Z a-z 0-9 . _ - allowed, starting with a letter or digit", ErrBadName, s)
		}
	}
	return nil
}

// CaseFolder is the name of a case's folder under <data>/cases: the id makes it unique, the
// number's year and sequence make it readable. A number like (2026)东城调字第0001号 gives
// case12_2026-0001, the same folder as its number of before (2026-0001), so existing case
// files stay where they are.
func CaseFolder(caseID int64, number string) string {
	runs := strings.FieldsFunc(number, func(r rune) bool { return r < '0' || r > '9' })
	if len(runs) >= 2 {
		number = runs[0] + "-" + runs[len(runs)-1]
	}
	return "case" + strconv.FormatInt(caseID, 10) + "_" + number
}

// SessionFolder is the name of a session's folder inside its case folder.
func SessionFolder(sessionID int64) string { return "s" + strconv.FormatInt(sessionID, 10) }

// HidePaths is err's text without the server's folders, for the case file and for the
// hosts' browsers (the log keeps the full text): a path under one of dirs becomes
// relative to it, and the path of any other fs.PathError its base name.
func HidePaths(err error, dirs ...string) string {
	msg := err.Error()
	for _, d := range dirs {
		if d != "" {
			msg = strings.ReplaceAll(msg, filepath.Clean(d)+string(filepath.Separator), "")
		}
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && filepath.IsAbs(pe.Path) {
		msg = strings.ReplaceAll(msg, pe.Path, filepath.Base(pe.Path))
	}
	return msg
}
