package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// The bash completion works in bash as a person has it: with the
// bash-completion package loaded, Tab after "enroll acc" offers accept and
// after "enroll status --ver" the two flags that begin so, asking the
// binary itself (TestMain puts it on PATH).
func TestBashCompletion(t *testing.T) {
	need(t, "bash")
	const lib = "/usr/share/bash-completion/bash_completion"
	if _, err := os.Stat(lib); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing in CI (.ci/run installs bash-completion)", lib)
		}
		t.Skip("bash-completion is not installed")
	}
	for line, want := range map[string]string{
		"enroll acc":          "accept",
		"enroll status --ver": "--verbose --verify",
		"enroll scheme i":     "install",
	} {
		words := strings.Fields(line)
		if strings.HasSuffix(line, " ") {
			words = append(words, "")
		}
		script := `source ` + lib + ` && source <(enroll completion bash) && ` +
			`COMP_WORDS=(` + strings.Join(words, " ") + `) COMP_CWORD=` + itoa(len(words)-1) +
			` COMP_LINE="` + line + `" COMP_POINT=` + itoa(len(line)) + ` && __start_enroll && echo "${COMPREPLY[@]}"`
		out, err := exec.Command("bash", "-c", script).Output() // compopt complains on stderr outside a real Tab
		if got := strings.TrimSpace(string(out)); err != nil || got != want {
			t.Errorf("%q: %q, %v; want %q", line, got, err, want)
		}
	}
}
