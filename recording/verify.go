package recording

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/emmansun/gmsm/sm2"
)

// Report says what Verify checked and what did not match.
type Report struct {
	Path      string   `json:"path"`
	Sessions  []string `json:"sessions"`   // session folders checked, relative to Path
	Checked   []string `json:"checked"`    // one line per check that passed
	Problems  []string `json:"problems"`   // every mismatch, in the order found; Problems[0] is the error
	KeyIDs    []string `json:"key_ids"`    // the keys the manifests name
	KeyPinned bool     `json:"key_pinned"` // the signatures were checked against a trusted key, not only the embedded one
}

// OK reports whether everything matched.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// MarshalJSON adds "ok" to the fields, for the case-file API.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	return json.Marshal(struct {
		OK bool `json:"ok"`
		plain
	}{r.OK(), plain(r)})
}

func (r *Report) ok(format string, a ...any) {
	r.Checked = append(r.Checked, fmt.Sprintf(format, a...))
}
func (r *Report) bad(format string, a ...any) {
	r.Problems = append(r.Problems, fmt.Sprintf(format, a...))
}

// Verify checks a case folder (every session folder in it, and its custody log) or one
// session folder, offline: every file's size, SHA-256 and SM3; the event log's chain,
// length and last hash against the manifest; no file added or missing; and the Ed25519
// and SM2 signatures over manifest.json. With trusted set, the manifest must also name
// that key: without it, a forger could re-sign an edited manifest with a key of their own.
// The error names the first mismatch; the report lists every check.
func Verify(dir string, trusted *PublicKey) (Report, error) {
	r := Report{Path: dir, KeyPinned: trusted != nil}
	fi, err := os.Stat(dir)
	if err != nil {
		return r, err
	}
	if !fi.IsDir() {
		return r, fmt.Errorf("%s is not a folder", dir)
	}
	if isSessionDir(dir) {
		r.Sessions = append(r.Sessions, ".")
		verifySession(&r, dir, "", trusted)
	} else {
		ents, err := os.ReadDir(dir)
		if err != nil {
			return r, err
		}
		for _, e := range ents {
			switch {
			case e.IsDir() && isSessionDir(filepath.Join(dir, e.Name())):
				r.Sessions = append(r.Sessions, e.Name())
				verifySession(&r, filepath.Join(dir, e.Name()), e.Name()+"/", trusted)
			case e.IsDir() && e.Name() == DocumentsDir: // documents.go
				verifyDocuments(&r, filepath.Join(dir, e.Name()), trusted)
			case e.Name() == custodyName:
				data, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err != nil {
					r.bad("%s: %v", custodyName, err)
				} else if n, _, err := verifyChain(data); err != nil {
					r.bad("%s: %v", custodyName, err)
				} else {
					r.ok("%s: chain of %d events intact", custodyName, n)
				}
			default:
				r.bad("%s: not a session folder (unexpected in a case folder)", e.Name())
			}
		}
		if len(r.Sessions) == 0 {
			r.bad("no session folder found in %s", dir)
		}
	}
	if !r.OK() {
		return r, errors.New(r.Problems[0])
	}
	return r, nil
}

func isSessionDir(dir string) bool {
	return exists(filepath.Join(dir, manifestName)) || exists(filepath.Join(dir, markerName)) ||
		exists(filepath.Join(dir, eventsName))
}

func verifySession(r *Report, dir, prefix string, trusted *PublicKey) {
	body, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		if exists(filepath.Join(dir, markerName)) {
			r.bad("%s: not sealed: recording in progress, or interrupted and not yet recovered (start the server to seal it)", prefix+".")
		} else {
			r.bad("%s%s: %v", prefix, manifestName, err)
		}
		return
	}
	var m Manifest
	if err := json.Unmarshal(body, &m); err != nil {
		r.bad("%s%s: not a manifest: %v", prefix, manifestName, err)
		return
	}
	if m.Format != ManifestFormat {
		r.bad("%s%s: format %q, want %q", prefix, manifestName, m.Format, ManifestFormat)
		return
	}
	verifySignatures(r, dir, prefix, body, &m, trusted)
	verifyEvents(r, dir, prefix, &m)

	listed := map[string]bool{eventsName: true, manifestName: true, sigName: true}
	if m.Signing.SM2PublicKey != "" {
		listed[sm2SigName] = true
	}
	for _, f := range m.Files {
		if !cleanRel(f.Path) || listed[f.Path] {
			r.bad("%s%s: manifest lists a bad or duplicate path %q", prefix, manifestName, f.Path)
			continue
		}
		listed[f.Path] = true
		checkFile(r, filepath.Join(dir, filepath.FromSlash(f.Path)), prefix+f.Path, f.Size, f.SHA256, f.SM3)
	}
	var extra []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if listed[rel] || sealBookkeeping(rel, listed) {
			return nil
		}
		extra = append(extra, rel)
		return nil
	})
	sort.Strings(extra)
	for _, e := range extra {
		r.bad("%s%s: file not listed in the manifest (added after sealing)", prefix, e)
	}
}

func verifySignatures(r *Report, dir, prefix string, body []byte, m *Manifest, trusted *PublicKey) {
	pub, err := parsePublicKeys(m.Signing.Ed25519PublicKey, m.Signing.SM2PublicKey)
	if err != nil {
		r.bad("%s%s: signing key: %v", prefix, manifestName, err)
		return
	}
	r.KeyIDs = appendUnique(r.KeyIDs, pub.KeyID())
	if trusted != nil {
		if !pub.Ed25519.Equal(trusted.Ed25519) {
			r.bad("%s%s: signed by key %s, not the trusted key %s", prefix, manifestName, pub.KeyID(), trusted.KeyID())
		} else if trusted.SM2 != nil && pub.SM2 != nil && !pub.SM2.Equal(trusted.SM2) {
			r.bad("%s%s: SM2 key is not the trusted SM2 key", prefix, manifestName)
		} else {
			r.ok("%s%s: names the trusted key %s", prefix, manifestName, pub.KeyID())
		}
	}
	sig, err := os.ReadFile(filepath.Join(dir, sigName))
	switch {
	case err != nil:
		r.bad("%s%s: %v", prefix, sigName, err)
	case !ed25519.Verify(pub.Ed25519, body, sig):
		r.bad("%s%s: Ed25519 signature does not match manifest.json (manifest edited or signature replaced)", prefix, sigName)
	default:
		r.ok("%s%s: Ed25519 signature valid (key %s)", prefix, sigName, pub.KeyID())
	}
	if pub.SM2 == nil {
		return
	}
	sig, err = os.ReadFile(filepath.Join(dir, sm2SigName))
	switch {
	case err != nil:
		r.bad("%s%s: %v", prefix, sm2SigName, err)
	case !sm2.VerifyASN1WithSM2(pub.SM2, []byte(m.Signing.SM2ID), body, sig):
		r.bad("%s%s: SM2 signature does not match manifest.json (manifest edited or signature replaced)", prefix, sm2SigName)
	default:
		r.ok("%s%s: SM2 signature valid", prefix, sm2SigName)
	}
}

func verifyEvents(r *Report, dir, prefix string, m *Manifest) {
	name := prefix + eventsName
	data, err := os.ReadFile(filepath.Join(dir, eventsName))
	if err != nil {
		r.bad("%s: %v", name, err)
		return
	}
	n, last, err := verifyChain(data)
	switch {
	case err != nil:
		r.bad("%s: %v", name, err)
	case n != m.Events.Count:
		r.bad("%s: %d events, the manifest says %d (lines removed or added at the end)", name, n, m.Events.Count)
	case last != m.Events.LastHash:
		r.bad("%s: last line's hash is not the one in the manifest (the last line edited or replaced)", name)
	default:
		r.ok("%s: chain of %d events intact, last hash matches the manifest", name, n)
	}
	checkFile(r, filepath.Join(dir, eventsName), name, m.Events.Size, m.Events.SHA256, m.Events.SM3)
}

func checkFile(r *Report, p, name string, size int64, sha, sm3 string) {
	n, h1, h2, err := hashFile(p)
	switch {
	case err != nil:
		if os.IsNotExist(err) || errors.Is(err, os.ErrNotExist) {
			r.bad("%s: missing", name)
		} else {
			r.bad("%s: %v", name, err)
		}
	case n != size:
		r.bad("%s: size %d, the manifest says %d", name, n, size)
	case h1 != sha:
		r.bad("%s: SHA-256 does not match the manifest (file changed)", name)
	case h2 != sm3:
		r.bad("%s: SM3 does not match the manifest (file changed)", name)
	default:
		r.ok("%s: %d bytes, SHA-256 and SM3 match", name, n)
	}
}

// cleanRel accepts a relative '/'-separated path that stays inside its folder.
func cleanRel(p string) bool {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") || path.Clean(p) != p {
		return false
	}
	for _, el := range strings.Split(p, "/") {
		if el == ".." || el == "." || el == "" {
			return false
		}
	}
	return true
}

func appendUnique(s []string, v string) []string {
	for _, x := range s {
		if x == v {
			return s
		}
	}
	return append(s, v)
}

// Summary renders the report for people: what was checked, then what did not match.
func (r *Report) Summary() string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "verify %s: %d session folder(s)\n", r.Path, len(r.Sessions))
	for _, c := range r.Checked {
		fmt.Fprintf(&b, "  ok   %s\n", c)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "  FAIL %s\n", p)
	}
	if !r.KeyPinned {
		fmt.Fprintf(&b, "  note: signatures checked against the key the manifest names (%s); pass the server's public key to pin it\n", strings.Join(r.KeyIDs, ", "))
	}
	if r.OK() {
		b.WriteString("OK\n")
	} else {
		fmt.Fprintf(&b, "FAILED: %s\n", r.Problems[0])
	}
	return b.String()
}

// sealBookkeeping is the recording marker and the journals of listed track files:
// written while recording, folded into the manifest, and removed just after the
// manifest is written. Found beside a manifest (a verify in that instant, or a crash
// before the removal) they are not evidence and change nothing that is.
func sealBookkeeping(rel string, listed map[string]bool) bool {
	if rel == markerName {
		return true
	}
	track, ok := strings.CutSuffix(rel, journalSuffix)
	return ok && listed[track]
}
