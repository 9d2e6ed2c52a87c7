package flow

import (
	"fmt"
	"testing"
)

func TestClassifyTable(t *testing.T) {
	for _, r := range classes {
		c := Classify(fmt.Errorf("ctx: %w", r.kind))
		if c.Kind != r.kind || c.Exit != r.exit || c.Summary == "" || c.Hint == "" {
			t.Errorf("%v classified as %+v", r.kind, c)
		}
	}
	if c := Classify(errBoom); c.Exit != ExitUnexpected {
		t.Errorf("unknown error exit %d", c.Exit)
	}
	if c := Classify(nil); c.Exit != ExitOK {
		t.Errorf("nil exit %d", c.Exit)
	}
}

func TestMessageDropsTheKind(t *testing.T) {
	err := fmt.Errorf("%w: a token alone does not say which server to use", ErrUsage)
	if got := Message(err); got != "a token alone does not say which server to use" {
		t.Errorf("Message = %q", got)
	}
	if got := Message(errBoom); got != "boom" {
		t.Errorf("Message = %q", got)
	}
}
