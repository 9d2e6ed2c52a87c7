package main

import (
	"errors"
	"testing"

	"enroll/flow"
)

func TestEnvBool(t *testing.T) {
	for _, tc := range []struct {
		value string
		want  bool
		bad   bool
	}{
		{"", false, false}, {"  ", false, false},
		{"1", true, false}, {"true", true, false}, {"TRUE", true, false}, {"Yes", true, false}, {"on", true, false}, {" t ", true, false},
		{"0", false, false}, {"false", false, false}, {"No", false, false}, {"OFF", false, false}, {"f", false, false},
		{"ture", false, true}, {"2", false, true}, {"y", false, true}, {"\x1b[2J", false, true},
	} {
		errs := &envErrors{errs: map[string]error{}}
		e := env{getenv: func(k string) string {
			if k == "ENROLL_KIOSK" {
				return tc.value
			}
			return ""
		}}
		got := errs.bool(e, "kiosk", "ENROLL_KIOSK")
		err := errs.errs["kiosk"]
		if got != tc.want || (err != nil) != tc.bad {
			t.Errorf("ENROLL_KIOSK=%q: %v, error %v", tc.value, got, err)
		}
		if err != nil && (!errors.Is(err, flow.ErrUsage) || flow.Sanitize(err.Error()) != err.Error()) {
			t.Errorf("ENROLL_KIOSK=%q: error %q is not an inert usage error", tc.value, err)
		}
	}
}
