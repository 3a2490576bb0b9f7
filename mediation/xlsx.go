package mediation

import (
	"archive/zip"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// writeXLSX writes a one-sheet Office Open XML workbook: the few parts Excel, WPS and
// LibreOffice need, strings inline (no shared-string table), numbers as numbers.
func writeXLSX(w io.Writer, sheet string, rows [][]any) error {
	z := zip.NewWriter(w)
	part := func(name, body string) error {
		f, err := z.Create(name)
		if err != nil {
			return err
		}
		_, err = io.WriteString(f, xml.Header+body)
		return err
	}
	var sb strings.Builder
	sb.WriteString(`<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
	for i, row := range rows {
		fmt.Fprintf(&sb, `<row r="%d">`, i+1)
		for j, v := range row {
			ref := colName(j) + strconv.Itoa(i+1)
			switch x := v.(type) {
			case int:
				fmt.Fprintf(&sb, `<c r="%s"><v>%d</v></c>`, ref, x)
			case float64:
				fmt.Fprintf(&sb, `<c r="%s"><v>%s</v></c>`, ref, strconv.FormatFloat(x, 'f', -1, 64))
			default:
				sb.WriteString(`<c r="` + ref + `" t="inlineStr"><is><t xml:space="preserve">`)
				if err := xml.EscapeText(&sb, []byte(fmt.Sprint(v))); err != nil {
					return err
				}
				sb.WriteString(`</t></is></c>`)
			}
		}
		sb.WriteString(`</row>`)
	}
	sb.WriteString(`</sheetData></worksheet>`)
	var name strings.Builder
	if err := xml.EscapeText(&name, []byte(sheet)); err != nil {
		return err
	}
	for _, p := range [][2]string{
		{"[Content_Types].xml", `<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
			`<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>` +
			`<Default Extension="xml" ContentType="application/xml"/>` +
			`<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>` +
			`<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`},
		{"_rels/.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`},
		{"xl/workbook.xml", `<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">` +
			`<sheets><sheet name="` + name.String() + `" sheetId="1" r:id="rId1"/></sheets></workbook>`},
		{"xl/_rels/workbook.xml.rels", `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">` +
			`<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>`},
		{"xl/worksheets/sheet1.xml", sb.String()},
	} {
		if err := part(p[0], p[1]); err != nil {
			return err
		}
	}
	return z.Close()
}

// colName is a spreadsheet column's letters: 0 -> A, 25 -> Z, 26 -> AA.
func colName(i int) string {
	s := ""
	for i++; i > 0; i = (i - 1) / 26 {
		s = string(rune('A'+(i-1)%26)) + s
	}
	return s
}
