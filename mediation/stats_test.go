package mediation

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"rsc.io/qr"

	"yizhan/store"
)

// readXLSX reads the first sheet of an XLSX back into strings (inline strings and numbers).
func readXLSX(t *testing.T, data []byte) [][]string {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatalf("not a zip: %v", err)
	}
	parts := map[string]bool{}
	var sheet []byte
	for _, f := range z.File {
		parts[f.Name] = true
		if f.Name == "xl/worksheets/sheet1.xml" {
			rc, _ := f.Open()
			sheet, _ = io.ReadAll(rc)
			rc.Close()
		}
	}
	for _, p := range []string{"[Content_Types].xml", "_rels/.rels", "xl/workbook.xml", "xl/_rels/workbook.xml.rels"} {
		if !parts[p] {
			t.Fatalf("part %s missing", p)
		}
	}
	var ws struct {
		Rows []struct {
			Cells []struct {
				R string `xml:"r,attr"`
				T string `xml:"t,attr"`
				V string `xml:"v"`
				S string `xml:"is>t"`
			} `xml:"c"`
		} `xml:"sheetData>row"`
	}
	if err := xml.Unmarshal(sheet, &ws); err != nil {
		t.Fatalf("sheet: %v", err)
	}
	var out [][]string
	for _, r := range ws.Rows {
		var row []string
		for _, c := range r.Cells {
			if c.T == "inlineStr" {
				row = append(row, c.S)
			} else {
				row = append(row, c.V)
			}
		}
		out = append(out, row)
	}
	return out
}

func TestXLSXReadsBack(t *testing.T) {
	var b bytes.Buffer
	rows := [][]any{{"分组", "a<b&c", "x"}, {"east", 3, 0.25}}
	if err := writeXLSX(&b, "统计", rows); err != nil {
		t.Fatal(err)
	}
	got := readXLSX(t, b.Bytes())
	want := [][]string{{"分组", "a<b&c", "x"}, {"east", "3", "0.25"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("read back %q, want %q", got, want)
	}
	for i, want := range map[int]string{0: "A", 25: "Z", 26: "AA", 27: "AB", 701: "ZZ", 702: "AAA"} {
		if colName(i) != want {
			t.Errorf("colName(%d) = %s, want %s", i, colName(i), want)
		}
	}
}

// TestStatsRolledUp: statistics count requests (not reception holders) once, at their
// centre, rolled up the tree; periods and keys; the export says the same.
func TestStatsRolledUp(t *testing.T) {
	fx := newFixture(t)
	ctx := fx.ctx
	mk := func(centre, board, channel string, closed bool) store.Case {
		c, err := fx.st.CreateCase(ctx, store.Case{Title: "x", Category: "land", Risk: "blue", Centre: centre, Board: board, Channel: channel})
		if err != nil {
			t.Fatal(err)
		}
		if closed {
			if _, err := fx.st.CloseCase(ctx, c.ID, "ok", "phone", "med"); err != nil {
				t.Fatal(err)
			}
		}
		return c
	}
	mk("east-v", "dispute", "qr", true)
	mk("east-v", "petition", "video", false)
	mk("east", "dispute", "walk_in", true)
	mk("west", "dispute", "qr", false)
	rated := mk("east", "livelihood", "qr", true)
	if _, err := fx.st.SetFeedback(ctx, rated.ID, 4, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := fx.st.CreateCase(ctx, store.Case{Title: "holder", Category: "other", Risk: "blue", Centre: "east", Kind: "reception"}); err != nil {
		t.Fatal(err)
	}
	type row struct {
		Key, Parent      string
		Accepted, Closed int
		ClosureRate      float64 `json:"closure_rate"`
		Satisfaction     float64
		Rated            int
	}
	var st struct {
		Rows  []row
		Total row
	}
	fx.call("admin", "GET", "/api/stats?by=centre", "", 200, &st)
	got := map[string][2]int{}
	for _, r := range st.Rows {
		got[r.Key] = [2]int{r.Accepted, r.Closed}
	}
	want := map[string][2]int{"city": {5, 3}, "east": {4, 3}, "east-v": {2, 1}, "west": {1, 0}}
	if fmt.Sprint(got) != fmt.Sprint(want) || st.Total.Accepted != 5 || st.Total.Satisfaction != 4 || st.Total.Rated != 1 {
		t.Fatalf("by centre %v total %+v, want %v", got, st.Total, want)
	}
	fx.call("leader", "GET", "/api/stats?by=centre", "", 200, &st) // east's leader sees east's tree
	if len(st.Rows) != 2 || st.Rows[0].Key != "east" || st.Total.Accepted != 4 {
		t.Fatalf("east's tree %+v", st)
	}
	fx.call("leader", "GET", "/api/stats?by=centre&centre=west", "", 404, nil)
	for by, want := range map[string]string{"channel": "qr:3/2 video:1/0 walk_in:1/1", "board": "dispute:3/2 livelihood:1/1 petition:1/0",
		"tier": "city:0/0 township:3/2 village:2/1", "status": "accepted:2/0 closed:3/3"} {
		fx.call("admin", "GET", "/api/stats?by="+by, "", 200, &st)
		var parts []string
		for _, r := range st.Rows {
			parts = append(parts, fmt.Sprintf("%s:%d/%d", r.Key, r.Accepted, r.Closed))
		}
		if by == "tier" {
			parts = append([]string{"city:0/0"}, parts...)
		}
		if strings.Join(parts, " ") != want {
			t.Errorf("by %s: %s, want %s", by, strings.Join(parts, " "), want)
		}
	}
	tomorrow := time.Now().AddDate(0, 0, 2).Format("2006-01-02")
	fx.call("admin", "GET", "/api/stats?by=tier&from="+tomorrow, "", 200, &st)
	if st.Total.Accepted != 0 {
		t.Fatalf("from tomorrow: %+v", st.Total)
	}
	fx.call("admin", "GET", "/api/stats?by=tier&period=year", "", 200, &st)
	if st.Total.Accepted != 5 {
		t.Fatalf("this year: %+v", st.Total)
	}
	fx.call("admin", "GET", "/api/stats?by=nope", "", 400, nil)
	fx.call("admin", "GET", "/api/stats?period=decade", "", 400, nil)

	status, body := fx.do("admin", "GET", "/api/stats/export.xlsx?by=centre", "")
	if status != 200 {
		t.Fatalf("export %d %s", status, body)
	}
	sheet := readXLSX(t, []byte(body))
	if len(sheet) != 1+4+1 || sheet[0][0] != "分组" || sheet[1][0] != "city" || sheet[1][2] != "5" || sheet[5][0] != "合计" {
		t.Fatalf("export %q", sheet)
	}
}

// TestCasesPaged: /api/cases pages and filters on the server.
func TestCasesPaged(t *testing.T) {
	fx := newFixture(t)
	for i := 0; i < 7; i++ {
		if _, err := fx.st.CreateCase(fx.ctx, store.Case{Title: "c" + strconv.Itoa(i), Category: "land", Risk: []string{"red", "blue"}[i%2], Centre: "east-v",
			Board: "dispute", Parties: []store.Party{{Name: "村民" + strconv.Itoa(i), Side: "applicant"}}}); err != nil {
			t.Fatal(err)
		}
	}
	var page struct {
		Cases                []caseResp
		Total, Page, PerPage int
	}
	fx.call("mediator", "GET", "/api/cases?page=2&per_page=3", "", 200, &page)
	if page.Total != 7 || len(page.Cases) != 3 || page.Page != 2 {
		t.Fatalf("page 2: %+v", page)
	}
	fx.call("mediator", "GET", "/api/cases?risk=red&q=村民", "", 200, &page)
	if page.Total != 4 {
		t.Fatalf("red: %+v", page)
	}
	fx.call("mediator", "GET", "/api/cases?q=村民5", "", 200, &page)
	if page.Total != 1 {
		t.Fatalf("search: %+v", page)
	}
	fx.call("other-mediator", "GET", "/api/cases", "", 200, &page)
	if page.Total != 0 {
		t.Fatalf("west sees east's cases: %+v", page)
	}
	fx.call("other-mediator", "GET", "/api/cases?under=east", "", 404, nil)
	fx.call("mediator", "GET", "/api/cases?page=0", "", 400, nil)
	fx.call("mediator", "GET", "/api/cases?channel=fax", "", 400, nil)
}

func TestQRCodeSVG(t *testing.T) {
	fx := newFixture(t)
	status, body := fx.do("anonymous", "GET", "/api/centres/east-v/qr.svg", "")
	if status != 200 || !strings.HasPrefix(body, "<svg") {
		t.Fatalf("qr.svg: %d %.80s", status, body)
	}
	// decode the modules back and compare with an encoding of the expected URL
	want, err := qr.Encode(fx.srv.URL+"/q/east-v", qr.M)
	if err != nil {
		t.Fatal(err)
	}
	dark := map[[2]int]bool{}
	for _, m := range regexp.MustCompile(`M(\d+) (\d+)h1`).FindAllStringSubmatch(body, -1) {
		x, _ := strconv.Atoi(m[1])
		y, _ := strconv.Atoi(m[2])
		dark[[2]int{x - 4, y - 4}] = true
	}
	for y := 0; y < want.Size; y++ {
		for x := 0; x < want.Size; x++ {
			if want.Black(x, y) != dark[[2]int{x, y}] {
				t.Fatalf("module %d,%d differs", x, y)
			}
		}
	}
	if status, _ := fx.do("anonymous", "GET", "/api/centres/nope/qr.svg", ""); status != 404 {
		t.Fatalf("unknown centre: %d", status)
	}
}
