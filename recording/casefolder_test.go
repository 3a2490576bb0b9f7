package recording

import "testing"

// TestCaseFolderKeepsOldFolders: a network-wide number maps to the folder its old
// per-centre number had, and every folder name passes CheckName.
func TestCaseFolderKeepsOldFolders(t *testing.T) {
	for _, tc := range []struct {
		id     int64
		number string
		want   string
	}{
		{12, "2026-0001", "case12_2026-0001"},
		{12, "(2026)东城调字第0001号", "case12_2026-0001"},
		{7, "(2027)v1调字第0123号", "case7_2027-0123"},
		{3, "(2026)市调字第10000号", "case3_2026-10000"},
	} {
		got := CaseFolder(tc.id, tc.number)
		if got != tc.want {
			t.Errorf("CaseFolder(%d, %q) = %q, want %q", tc.id, tc.number, got, tc.want)
		}
		if err := CheckName(got); err != nil {
			t.Errorf("%q: %v", got, err)
		}
	}
}
