package desktop

import "testing"

func TestExecLineQuoting(t *testing.T) {
	got, err := ExecLine([]string{"/opt/my tools/enroll", "open", "--credentials", `/a"b\c$d%e` + "`f", "--"}, "%u")
	if err != nil {
		t.Fatal(err)
	}
	// Quoted as the Desktop Entry Specification says, then string-escaped.
	want := `"/opt/my tools/enroll" open --credentials "/a\\"b\\\\c\\$d%%e\\` + "`" + `f" -- %u`
	if got != want {
		t.Errorf("Exec\n got %s\nwant %s", got, want)
	}
	if _, err := ExecLine([]string{"/bin/enroll", "a\nb"}, "%u"); err == nil {
		t.Error("a newline in an argument was accepted")
	}
}
