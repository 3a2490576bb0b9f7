// Package docpdf renders a signed document of a case (minutes, a mediation agreement, a
// court's confirmation) to PDF: Chinese text in an embedded TrueType CJK font, the case
// number and parties, each signature image with name and time, the centre's seal, and a
// footer with the document's fingerprint on every page. It imports no package of ours.
//
// The labels printed here are part of the legal document (it is in Chinese, like the
// templates it is filled from); the web app's words are elsewhere.
package docpdf

import (
	"bytes"
	"errors"
	"fmt"
	"image/png"
	"os"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// DefaultFont is Debian's fonts-droid-fallback: a TrueType (not TTC) font with CJK glyphs.
const DefaultFont = "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf"

// ErrNoFont: the font file is missing; the message says how to get one.
var ErrNoFont = errors.New("docpdf: CJK TrueType font not found")

// Signature is one signature printed on the document.
type Signature struct {
	Name     string
	Role     string // as printed: 申请人, 被申请人, 人民调解员 ...
	Time     time.Time
	PNG      []byte // the handwritten signature
	Evidence string // as printed: how identity was established
}

// Doc is what Render prints.
type Doc struct {
	Title       string
	CaseNumber  string
	Centre      string
	Parties     []string // one line each: "申请人：张三"
	Body        string
	Version     int
	Fingerprint string // hex SHA-256 of the version's canonical text
	Signatures  []Signature
	Seal        []byte // the centre's seal image (PNG), nil = none uploaded
	SealedAt    time.Time
}

// CheckFont reports whether path is a readable font file, with an error that says what
// to install when it is not.
func CheckFont(path string) error {
	if path == "" {
		path = DefaultFont
	}
	fi, err := os.Stat(path)
	if err != nil || fi.IsDir() {
		return fmt.Errorf("%w: %s (install Debian package fonts-droid-fallback, or pass --pdf-font with a .ttf that has Chinese glyphs)", ErrNoFont, path)
	}
	return nil
}

var cst = time.FixedZone("CST", 8*3600) // documents carry China Standard Time

// Render returns the PDF of d, set in the TrueType font at fontPath.
func Render(d Doc, fontPath string) ([]byte, error) {
	if fontPath == "" {
		fontPath = DefaultFont
	}
	if err := CheckFont(fontPath); err != nil {
		return nil, err
	}
	font, err := os.ReadFile(fontPath)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoFont, err)
	}
	f := fpdf.New("P", "mm", "A4", "")
	f.SetCreationDate(d.SealedAt)
	f.SetModificationDate(d.SealedAt)
	f.SetCatalogSort(true)
	f.SetTitle(d.Title, true)
	f.SetSubject("案号 "+d.CaseNumber, true)
	f.SetCreator("yizhan", true)
	f.AddUTF8FontFromBytes("cjk", "", font)
	f.SetMargins(20, 20, 20)
	f.SetAutoPageBreak(true, 22)
	f.AliasNbPages("{nb}")
	f.SetFooterFunc(func() {
		f.SetY(-18)
		f.SetFont("cjk", "", 7.5)
		f.SetTextColor(90, 90, 90)
		f.CellFormat(0, 4, fmt.Sprintf("案号 %s · 第 %d 版 · 第 %d 页，共 {nb} 页 · 文件指纹 SHA-256：", d.CaseNumber, d.Version, f.PageNo()), "", 1, "L", false, 0, "")
		f.CellFormat(0, 4, d.Fingerprint, "", 0, "L", false, 0, "")
		f.SetTextColor(0, 0, 0)
	})
	f.AddPage()
	f.SetFont("cjk", "", 18)
	f.MultiCell(0, 10, d.Title, "", "C", false)
	f.SetFont("cjk", "", 10.5)
	f.CellFormat(0, 6, "案号："+d.CaseNumber, "", 1, "R", false, 0, "")
	if d.Centre != "" {
		f.CellFormat(0, 6, "调解组织："+d.Centre, "", 1, "R", false, 0, "")
	}
	f.Ln(2)
	if len(d.Parties) > 0 {
		f.SetFont("cjk", "", 11)
		for _, p := range d.Parties {
			f.MultiCell(0, 6.5, p, "", "L", false)
		}
		f.Ln(3)
	}
	f.SetFont("cjk", "", 11.5)
	for _, para := range strings.Split(strings.ReplaceAll(d.Body, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(para) == "" {
			f.Ln(3.5)
			continue
		}
		f.MultiCell(0, 7, para, "", "L", false)
	}
	f.Ln(6)
	if len(d.Signatures) > 0 {
		f.SetFont("cjk", "", 12)
		f.CellFormat(0, 8, "签名", "B", 1, "L", false, 0, "")
		f.Ln(2)
	}
	for i, s := range d.Signatures {
		if f.GetY() > 240 {
			f.AddPage()
		}
		y := f.GetY()
		f.SetFont("cjk", "", 10.5)
		f.SetXY(20, y)
		f.CellFormat(60, 6, s.Role+"："+s.Name, "", 2, "L", false, 0, "")
		f.SetFont("cjk", "", 8.5)
		f.CellFormat(60, 5, "签名时间："+s.Time.In(cst).Format("2006-01-02 15:04:05")+" (UTC+8)", "", 2, "L", false, 0, "")
		if s.Evidence != "" {
			f.MultiCell(60, 5, s.Evidence, "", "L", false)
		}
		if len(s.PNG) > 0 {
			name := fmt.Sprintf("sig%d", i)
			w, h := fitImage(s.PNG, 70, 24)
			opt := fpdf.ImageOptions{ImageType: "PNG", ReadDpi: false}
			f.RegisterImageOptionsReader(name, opt, bytes.NewReader(s.PNG))
			f.ImageOptions(name, 90, y, w, h, false, opt, 0, "")
		}
		f.SetY(max(f.GetY(), y+26) + 2)
	}
	if len(d.Seal) > 0 {
		if f.GetY() > 230 {
			f.AddPage()
		}
		y := f.GetY() + 2
		opt := fpdf.ImageOptions{ImageType: "PNG"}
		w, h := fitImage(d.Seal, 40, 40)
		f.RegisterImageOptionsReader("seal", opt, bytes.NewReader(d.Seal))
		f.ImageOptions("seal", 190-w, y, w, h, false, opt, 0, "")
		f.SetFont("cjk", "", 10.5)
		f.SetXY(20, y+h/2)
		f.CellFormat(0, 6, d.Centre+"（印章）  "+d.SealedAt.In(cst).Format("2006年1月2日"), "", 1, "L", false, 0, "")
	}
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("render pdf: %w", err)
	}
	var out bytes.Buffer
	if err := f.Output(&out); err != nil {
		return nil, fmt.Errorf("render pdf: %w", err)
	}
	return out.Bytes(), nil
}

// fitImage scales a PNG into a box of maxW x maxH millimetres, keeping its aspect.
func fitImage(b []byte, maxW, maxH float64) (float64, float64) {
	cfg, err := png.DecodeConfig(bytes.NewReader(b))
	if err != nil || cfg.Width == 0 || cfg.Height == 0 {
		return maxW, maxH
	}
	w, h := maxW, maxW*float64(cfg.Height)/float64(cfg.Width)
	if h > maxH {
		w, h = maxH*float64(cfg.Width)/float64(cfg.Height), maxH
	}
	return w, h
}
