package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"enroll/flow"
)

// The generated help, shell completions and man pages come from the same
// definitions the commands run with: each command is run in describe mode
// (env.describe), which hands over its flag set at the moment it would
// parse, and cobra's generators turn that tree into scripts and pages.
// enroll keeps its own parsing (the testscripts pin its behaviour); cobra
// only describes it.

// described is one command's flags and texts.
type described struct {
	fs  *flag.FlagSet
	doc *envErrors
}

// describe runs command run with args in describe mode.
func describe(e env, run func(context.Context, env, []string) error, args ...string) described {
	var d described
	e.stdout, e.stderr = io.Discard, io.Discard
	e.describe = func(fs *flag.FlagSet, doc *envErrors) { d = described{fs, doc} }
	_ = run(context.Background(), e, args)
	return d
}

// commandTree is every command as cobra sees it.
func commandTree(e env) *cobra.Command {
	wizard := describe(e, cmdWizard)
	root := &cobra.Command{
		Use:   "enroll",
		Short: "Make this device a device client of a 10Duke Enterprise service",
		Long: "Make this device a device client of a 10Duke Enterprise service by accepting a device-client-group invitation.\n" +
			"Without a command, the wizard runs on the terminal.\n\n" + exitCodesHelp,
		Example:               wizard.doc.example,
		DisableFlagsInUseLine: true,
		Run:                   func(*cobra.Command, []string) {},
	}
	root.CompletionOptions.DisableDefaultCmd = true // enroll completion is ours
	root.SuggestionsMinimumDistance = 2
	root.Flags().AddGoFlagSet(wizard.fs)
	for _, c := range commands() {
		cmd := &cobra.Command{Use: c.name, Short: c.summary, Hidden: c.hidden, Run: func(*cobra.Command, []string) {}}
		switch c.name {
		case "scheme":
			for _, sub := range []string{"install", "remove"} {
				s := &cobra.Command{Use: sub, Short: sub + ": " + c.summary, Run: func(*cobra.Command, []string) {}}
				fill(s, describe(e, c.run, sub), sub)
				cmd.AddCommand(s)
			}
		case "completion":
			fill(cmd, describe(e, c.run), c.name)
			cmd.ValidArgs = []string{"bash", "zsh", "fish"}
		default:
			fill(cmd, describe(e, c.run), c.name)
		}
		root.AddCommand(cmd)
	}
	return root
}

// fill gives a cobra command the flags and texts of a described one.
func fill(cmd *cobra.Command, d described, name string) {
	if d.fs == nil {
		return
	}
	cmd.Use = strings.TrimSpace(name + " " + d.doc.synopsis)
	cmd.Example = d.doc.example
	cmd.Long = strings.TrimSpace(cmd.Short + "\n\n" + d.doc.long)
	cmd.DisableFlagsInUseLine = true
	cmd.Flags().AddGoFlagSet(d.fs)
}

// complete answers a shell's completion request (cobra's __complete
// protocol, which the generated scripts speak).
func complete(e env, args []string) int {
	root := commandTree(e)
	root.SetArgs(args)
	root.SetOut(e.stdout)
	root.SetErr(io.Discard)
	if err := root.Execute(); err != nil {
		return flow.ExitUsage
	}
	return flow.ExitOK
}

const completionHelp = `Print the completion script of a shell: bash, zsh or fish. Packages
install them in the shells' directories; by hand:
  enroll completion bash > /etc/bash_completion.d/enroll
  enroll completion zsh > "${fpath[1]}/_enroll"
  enroll completion fish > ~/.config/fish/completions/enroll.fish`

func cmdCompletion(_ context.Context, e env, args []string) error {
	fs, c, envErr := newFlags(e, "completion", "bash|zsh|fish", "  enroll completion bash > /etc/bash_completion.d/enroll", 0)
	envErr.long = completionHelp
	pos, err := parseArgs(e, fs, envErr, args)
	if err != nil {
		return fail(e, c, err)
	}
	root := commandTree(e)
	switch strings.Join(pos, " ") {
	case "bash":
		err = root.GenBashCompletionV2(e.stdout, true)
	case "zsh":
		err = root.GenZshCompletion(e.stdout)
	case "fish":
		err = root.GenFishCompletion(e.stdout, true)
	default:
		err = fmt.Errorf("%w: enroll completion takes one shell: bash, zsh or fish", flow.ErrUsage)
	}
	return fail(e, c, err)
}

// cmdMan writes the man pages, enroll(1) and enroll-COMMAND(1), for
// packagers: enroll man --dir debian/enroll/usr/share/man/man1.
func cmdMan(_ context.Context, e env, args []string) error {
	fs, c, envErr := newFlags(e, "man", "--dir DIR", "  enroll man --dir /usr/share/man/man1", 0)
	dir := fs.String("dir", "", "write the pages into `DIR`")
	pos, err := parseArgs(e, fs, envErr, args)
	if err == nil && (*dir == "" || len(pos) > 0) {
		err = fmt.Errorf("%w: enroll man takes --dir DIR only", flow.ErrUsage)
	}
	if err != nil {
		return fail(e, c, err)
	}
	if err := os.MkdirAll(*dir, 0o755); err != nil {
		return fail(e, c, err)
	}
	// The pages show the defaults of a device enrolled by root, not of
	// whoever builds the package (their ENROLL_SERVER, their home).
	neutral := e
	neutral.uid, neutral.getenv = 0, func(string) string { return "" }
	root := commandTree(neutral)
	root.DisableAutoGenTag = true // pages that do not change from build to build
	hdr := &doc.GenManHeader{Title: "ENROLL", Section: "1", Source: "enroll " + currentBuild().Version, Manual: "enroll manual"}
	if err := doc.GenManTree(root, hdr, *dir); err != nil {
		return fail(e, c, err)
	}
	pages, _ := filepath.Glob(filepath.Join(*dir, "enroll*.1"))
	fmt.Fprintf(e.stderr, "enroll: wrote %d man pages to %s\n", len(pages), flow.Sanitize(*dir))
	return nil
}
