package recording

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// Sealed documents of a case (the minutes, a mediation agreement, a court's decision):
//
//	<data>/cases/<case>/documents/<document>/     one folder per sealed document version
//	    events.jsonl                             every step of the document, hash-chained
//	    <files>                                  the PDF, the canonical text, the signatures
//	    manifest.json, manifest.sig, manifest.sm2.sig
//
// A document folder has the layout of a session folder (same manifest format, SHA-256 and
// SM3 of every file, the same signatures), so Verify checks it the same way. It is
// written once: built in a hidden temporary folder and renamed into place, so a reader
// never sees half a document and two sealers cannot both win.

// DocumentsDir is the folder of a case folder that holds the sealed documents.
const DocumentsDir = "documents"

// ErrDocumentExists: a document folder of that name is already sealed.
var ErrDocumentExists = errors.New("recording: document already sealed")

// DocFile is one file of a sealed document folder.
type DocFile struct {
	Name string // CheckName applies
	Data []byte
}

// DocMeta describes the document in the folder's first event and its manifest.
type DocMeta struct {
	Case   string // the case folder's name
	Folder string // the document folder's name; CheckName applies
	Title  string
	Kind   string // minutes, agreement, confirmation
	Centre string
}

// SealDocument writes a document folder under <dataDir>/cases/<meta.Case>/documents/:
// the files, an event log made of events (their times kept, then a sealed event), and
// the signed manifest. It returns the manifest.
func SealDocument(dataDir string, meta DocMeta, files []DocFile, events []Event, key *Signer) (*Manifest, error) {
	if key == nil {
		return nil, errors.New("recording: no signing key")
	}
	for _, n := range []string{meta.Case, meta.Folder} {
		if err := CheckName(n); err != nil {
			return nil, err
		}
	}
	parent := filepath.Join(dataDir, "cases", meta.Case, DocumentsDir)
	final := filepath.Join(parent, meta.Folder)
	if exists(final) {
		return nil, ErrDocumentExists
	}
	if err := os.MkdirAll(parent, dirMode); err != nil {
		return nil, err
	}
	var rnd [6]byte
	rand.Read(rnd[:])
	work := filepath.Join(parent, ".seal-"+hex.EncodeToString(rnd[:])+".tmp") // hidden: Verify and readers skip it
	tmp := filepath.Join(work, meta.Folder)                                   // the manifest names the real folder
	if err := os.MkdirAll(tmp, dirMode); err != nil {
		return nil, err
	}
	defer os.RemoveAll(work) // empty once renamed
	for _, f := range files {
		if err := CheckName(f.Name); err != nil {
			return nil, err
		}
		if f.Name == eventsName || f.Name == manifestName || f.Name == sigName || f.Name == sm2SigName || housekeeping(f.Name) {
			return nil, fmt.Errorf("%w: %q is reserved", ErrBadName, f.Name)
		}
		if err := writeFileAtomic(filepath.Join(tmp, f.Name), f.Data, sealedMode, true); err != nil {
			return nil, fmt.Errorf("write %s: %w", f.Name, err)
		}
	}
	log, err := OpenEventLog(filepath.Join(tmp, eventsName))
	if err != nil {
		return nil, err
	}
	first := Event{Kind: KindSessionOpened, Actor: "system", Detail: map[string]string{
		"case": meta.Case, "session": meta.Folder, "title": meta.Title, "kind": meta.Kind, "centre": meta.Centre}}
	if len(events) > 0 {
		first.Time = events[0].Time
	}
	for _, ev := range append(append([]Event{first}, events...), Event{Kind: KindSealed, Actor: "system"}) {
		if _, err := log.Append(ev); err != nil {
			log.Close()
			return nil, err
		}
	}
	if err := log.Close(); err != nil {
		return nil, err
	}
	m, err := sealDir(tmp, key)
	if err != nil {
		return nil, err
	}
	if err := os.Rename(tmp, final); err != nil {
		if exists(final) {
			return nil, ErrDocumentExists
		}
		return nil, fmt.Errorf("place document folder: %w", err)
	}
	syncDir(parent)
	return m, nil
}

// DocumentFolders lists the sealed document folders of a case, sorted.
func DocumentFolders(dataDir, caseFolder string) ([]string, error) {
	if err := CheckName(caseFolder); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir(filepath.Join(dataDir, "cases", caseFolder, DocumentsDir))
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if e.IsDir() && CheckName(e.Name()) == nil {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// OpenDocumentFile opens one file of a sealed document folder (names pass CheckName).
func OpenDocumentFile(dataDir, caseFolder, docFolder, name string) (*os.File, os.FileInfo, error) {
	for _, n := range []string{caseFolder, docFolder, name} {
		if err := CheckName(n); err != nil {
			return nil, nil, err
		}
	}
	p := filepath.Join(dataDir, "cases", caseFolder, DocumentsDir, docFolder, name)
	fi, err := os.Lstat(p)
	if err != nil {
		return nil, nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%w: %q is not a regular file", ErrBadName, name)
	}
	f, err := os.Open(p)
	return f, fi, err
}

// verifyDocuments checks every folder of <case>/documents as a sealed folder; anything
// else in it is a problem (hidden temporary folders of an interrupted seal excepted).
func verifyDocuments(r *Report, dir string, trusted *PublicKey) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		r.bad("%s: %v", DocumentsDir, err)
		return
	}
	for _, e := range ents {
		name := e.Name()
		switch {
		case e.IsDir() && len(name) > 0 && name[0] == '.':
			continue // an interrupted seal's temporary folder: not part of the record
		case e.IsDir() && CheckName(name) == nil:
			prefix := DocumentsDir + "/" + name + "/"
			r.Sessions = append(r.Sessions, DocumentsDir+"/"+name)
			verifySession(r, filepath.Join(dir, name), prefix, trusted)
		default:
			r.bad("%s/%s: not a sealed document folder (unexpected)", DocumentsDir, name)
		}
	}
}
