package recording

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSealDocument writes a document folder into a case folder, verifies the case folder,
// then flips one byte of the PDF: Verify fails and names the file.
func TestSealDocument(t *testing.T) {
	data := t.TempDir()
	key, err := LoadOrCreateKey(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	meta := DocMeta{Case: "case7_2026-0001", Folder: "d3-agreement-v2", Title: "人民调解协议书", Kind: "agreement", Centre: "east"}
	files := []DocFile{{Name: "agreement-v2.pdf", Data: []byte("%PDF-1.4 not really\n")}, {Name: "text.txt", Data: []byte("body\n")}}
	evs := []Event{{Time: t0, Kind: "document_created", Actor: "staff-med"}, {Time: t0.Add(time.Minute), Kind: "document_signed", Actor: "guest-1"}}
	m, err := SealDocument(data, meta, files, evs, key)
	if err != nil {
		t.Fatal(err)
	}
	if m.Folder != meta.Folder || len(m.Files) != 2 || m.Events.Count != 4 || !m.OpenedAt.Equal(t0) {
		t.Fatalf("manifest: folder %q files %d events %d opened %v", m.Folder, len(m.Files), m.Events.Count, m.OpenedAt)
	}
	if _, err := SealDocument(data, meta, files, evs, key); !errors.Is(err, ErrDocumentExists) {
		t.Fatalf("second seal: %v, want ErrDocumentExists", err)
	}
	caseDir := filepath.Join(data, "cases", meta.Case)
	rep, err := Verify(caseDir, docPtr(key.Public()))
	if err != nil {
		t.Fatalf("verify: %v\n%s", err, rep.Summary())
	}
	if fs, _ := DocumentFolders(data, meta.Case); len(fs) != 1 || fs[0] != meta.Folder {
		t.Fatalf("DocumentFolders = %v", fs)
	}
	pdf := filepath.Join(caseDir, DocumentsDir, meta.Folder, "agreement-v2.pdf")
	os.Chmod(pdf, 0o600)
	b, _ := os.ReadFile(pdf)
	b[3] ^= 1
	if err := os.WriteFile(pdf, b, 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = Verify(caseDir, docPtr(key.Public()))
	if err == nil || !strings.Contains(err.Error(), "documents/d3-agreement-v2/agreement-v2.pdf") {
		t.Fatalf("verify after a flipped byte: %v, want it to name the PDF", err)
	}
	// a stray file in documents/ is reported too
	os.WriteFile(filepath.Join(caseDir, DocumentsDir, "stray.pdf"), []byte("x"), 0o644)
	if rep, _ := Verify(caseDir, nil); !strings.Contains(strings.Join(rep.Problems, "\n"), "documents/stray.pdf") {
		t.Fatalf("stray file not reported: %v", rep.Problems)
	}
}

func docPtr[T any](v T) *T { return &v }
