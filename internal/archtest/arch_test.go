// Package archtest holds the import rules of DESIGN.md: who may import whom.
package archtest

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// allowed lists, for each package of ours, the packages of ours it may import
// (non-test code). A package missing here may import none: media, recording, store,
// web, turn and docpdf are leaves. recording's subpackages import nothing of ours but each
// other (recordingLeaf).
var allowed = map[string][]string{
	"yizhan/signaling":       {"yizhan/media"},
	"yizhan/mediation":       {"yizhan/signaling", "yizhan/store", "yizhan/recording", "yizhan/recording/recorder", "yizhan/docpdf", "yizhan/recording/hls"},
	"yizhan/metrics":         {"yizhan/media", "yizhan/signaling"},
	"yizhan/bench":           {"yizhan/internal/lktest", "yizhan/signaling"},
	"yizhan/cmd/sfubench":    {"yizhan/bench"},
	"yizhan/cmd/yizhan":      {"*"},
	"yizhan/web/e2e":         {"*"},
	"yizhan/internal/lktest": nil,
}

// only says which of our packages may import a third-party package directly.
var only = map[string][]string{
	"github.com/livekit/protocol":       {"yizhan/signaling", "yizhan/internal/lktest"},
	"github.com/livekit/server-sdk-go/": {"yizhan/internal/lktest"},
	"github.com/gorilla/websocket":      {"yizhan/signaling", "yizhan/internal/lktest"},
	"database/sql":                      {"yizhan/store"},
	"codeberg.org/go-pdf/fpdf":          {"yizhan/docpdf"},
}

// recordingLeaf: package recording and its subpackages (the WebM writer, the jitter
// buffer, the recorder runtime) form one leaf: they may import each other, nothing else.
func recordingLeaf(pkg string) bool {
	return pkg == "yizhan/recording" || strings.HasPrefix(pkg, "yizhan/recording/")
}

func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}}:{{join .Imports " "}}`, "yizhan/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) < 8 {
		t.Fatalf("go list found only %d packages", len(lines))
	}
	for _, line := range lines {
		pkg, imports, _ := strings.Cut(line, ":")
		for _, imp := range strings.Fields(imports) {
			if strings.HasPrefix(imp, "yizhan/") && !slices.Contains(allowed[pkg], "*") && !slices.Contains(allowed[pkg], imp) &&
				!(recordingLeaf(pkg) && recordingLeaf(imp)) {
				t.Errorf("%s imports %s; DESIGN.md does not allow it", pkg, imp)
			}
			for prefix, who := range only {
				if strings.HasPrefix(imp, prefix) && !slices.Contains(who, pkg) {
					t.Errorf("%s imports %s, which only %v may", pkg, imp, who)
				}
			}
		}
	}
}
