package docpdf

import (
	"bytes"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func testPNG(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, w, h))
	for x := 10; x < w-10; x++ {
		img.Set(x, h/2+(x%20)-10, color.NRGBA{0, 0, 0, 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestRenderReadBack renders a document and reads it back with pdftotext (poppler-utils):
// the parties' names, the case number, the body and the fingerprint are text in the PDF.
func TestRenderReadBack(t *testing.T) {
	if err := CheckFont(""); err != nil {
		t.Fatal(err)
	}
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Fatal("pdftotext (poppler-utils) is needed")
	}
	sig := testPNG(t, 300, 120)
	d := Doc{Title: "人民调解协议书", CaseNumber: "2026-0042", Centre: "东城街道人民调解委员会",
		Parties: []string{"申请人：张三", "被申请人：李四"},
		Body:    "一、李四于2026年12月31日前向张三支付人民币伍仟元整。\n\n二、双方就本纠纷再无其他争议。" + strings.Repeat("这是一段很长的文字，用来检验换行。", 30),
		Version: 3, Fingerprint: strings.Repeat("ab", 32), SealedAt: time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC),
		Signatures: []Signature{{Name: "张三", Role: "申请人", Time: time.Now(), PNG: sig, Evidence: "身份核验：短信验证码"},
			{Name: "李四", Role: "被申请人", Time: time.Now(), PNG: sig}, {Name: "王调解", Role: "人民调解员", Time: time.Now(), PNG: sig}},
		Seal: testPNG(t, 200, 200)}
	pdf, err := Render(d, "")
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "a.pdf")
	if err := os.WriteFile(p, pdf, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-enc", "UTF-8", p, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext: %v", err)
	}
	text := strings.Join(strings.Fields(string(out)), "")
	for _, want := range []string{"张三", "李四", "王调解", "2026-0042", "人民调解协议书", "伍仟元整", strings.Repeat("ab", 32)} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext does not find %q in:\n%s", want, out)
		}
	}
	t.Logf("PDF %d bytes", len(pdf))
}

func TestMissingFont(t *testing.T) {
	_, err := Render(Doc{Title: "x"}, "/nonexistent/font.ttf")
	if !errors.Is(err, ErrNoFont) || !strings.Contains(err.Error(), "fonts-droid-fallback") {
		t.Fatalf("err = %v, want ErrNoFont naming the package", err)
	}
}

// BenchmarkRender: one agreement of two pages with three signatures and a seal; the
// CJK font is read and subset on every call.
func BenchmarkRender(b *testing.B) {
	t := &testing.T{}
	sig := testPNG(t, 300, 120)
	d := Doc{Title: "人民调解协议书", CaseNumber: "2026-0042", Centre: "东城街道人民调解委员会", Parties: []string{"申请人：张三", "被申请人：李四"},
		Body: strings.Repeat("一、李四于2026年12月31日前向张三支付人民币伍仟元整。\n", 40), Version: 3, Fingerprint: strings.Repeat("ab", 32),
		Signatures: []Signature{{Name: "张三", Role: "申请人", PNG: sig}, {Name: "李四", Role: "被申请人", PNG: sig}, {Name: "王调解", Role: "人民调解员", PNG: sig}},
		Seal:       testPNG(t, 200, 200)}
	var size int
	for b.Loop() {
		pdf, err := Render(d, "")
		if err != nil {
			b.Fatal(err)
		}
		size = len(pdf)
	}
	b.ReportMetric(float64(size), "pdf-bytes")
}
