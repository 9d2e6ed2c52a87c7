package persist

import "testing"

func TestDefaultPath(t *testing.T) {
	tests := []struct {
		name string
		uid  int
		env  map[string]string
		want string
	}{
		{"root ignores env", 0, map[string]string{"XDG_CONFIG_HOME": "/x", "HOME": "/root"}, "/var/lib/enroll/credentials.json"},
		{"xdg wins", 1000, map[string]string{"XDG_CONFIG_HOME": "/cfg", "HOME": "/home/u"}, "/cfg/enroll/credentials.json"},
		{"xdg cleaned", 1000, map[string]string{"XDG_CONFIG_HOME": "/cfg/"}, "/cfg/enroll/credentials.json"},
		{"home fallback", 1000, map[string]string{"HOME": "/home/u"}, "/home/u/.config/enroll/credentials.json"},
		{"relative xdg ignored", 1000, map[string]string{"XDG_CONFIG_HOME": "cfg", "HOME": "/home/u"}, "/home/u/.config/enroll/credentials.json"},
		{"relative home ignored", 1000, map[string]string{"HOME": "home"}, ""},
		{"nothing set", 1000, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := DefaultPath(tt.uid, func(k string) string { return tt.env[k] })
			if got != tt.want {
				t.Errorf("DefaultPath(%d) = %q, want %q", tt.uid, got, tt.want)
			}
		})
	}
}
