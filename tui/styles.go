package tui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/lipgloss"
)

// styles uses the 16 ANSI colours only: they render on the Linux console
// and on serial terminals, follow the user's theme, and disappear cleanly
// under NO_COLOR (the Ascii profile).
type styles struct {
	title, step, label, value, muted, good, bad, warn, box, key lipgloss.Style
	help                                                        help.Styles
	glyph                                                       glyphs
}

// glyphs are the few symbols the wizard draws. The Linux console's default
// font and terminals without a UTF-8 locale cannot show ✓ or …, so those
// get ASCII.
type glyphs struct {
	ok, bad, prompt, more, sep, dot, times string
}

func glyphSet(ascii bool) glyphs {
	if ascii {
		return glyphs{ok: "+", bad: "x", prompt: "> ", more: "...", sep: " - ", dot: " - ", times: "x"}
	}
	return glyphs{ok: "✓", bad: "✗", prompt: "› ", more: "…", sep: " • ", dot: " · ", times: "×"}
}

func newStyles(r *lipgloss.Renderer, ascii bool) styles {
	s := styles{
		glyph: glyphSet(ascii),
		title: r.NewStyle().Bold(true),
		step:  r.NewStyle().Foreground(lipgloss.Color("6")),
		label: r.NewStyle().Width(12).Foreground(lipgloss.Color("8")),
		value: r.NewStyle(),
		muted: r.NewStyle().Foreground(lipgloss.Color("8")),
		good:  r.NewStyle().Foreground(lipgloss.Color("2")).Bold(true),
		bad:   r.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
		warn:  r.NewStyle().Foreground(lipgloss.Color("3")),
		box:   r.NewStyle().Border(lipgloss.NormalBorder()).Padding(0, 1),
		key:   r.NewStyle().Bold(true),
	}
	s.help = help.Styles{
		ShortKey:       r.NewStyle().Bold(true),
		ShortDesc:      r.NewStyle().Foreground(lipgloss.Color("8")),
		ShortSeparator: r.NewStyle().Foreground(lipgloss.Color("8")),
		Ellipsis:       r.NewStyle().Foreground(lipgloss.Color("8")),
		FullKey:        r.NewStyle().Bold(true),
		FullDesc:       r.NewStyle().Foreground(lipgloss.Color("8")),
		FullSeparator:  r.NewStyle().Foreground(lipgloss.Color("8")),
	}
	return s
}
