package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"enroll/api/emulator"
	"enroll/invite"
)

const (
	cloudInitPath = "examples/cloud-init/enroll.yaml"
	perBootScript = "/var/lib/cloud/scripts/per-boot/enroll-first-boot.sh"
	ansibleTasks  = "examples/ansible/enroll-tasks.yml"
)

// literalBlock reads the "content: |" of the write_files entry for path the
// way YAML reads a literal block scalar: the lines indented more than the
// key, with that indentation removed, ending in one newline. It is the
// only YAML form the recipe uses; yamlJSON cross-checks it where PyYAML is
// installed.
func literalBlock(t *testing.T, data, path string) string {
	t.Helper()
	lines := strings.Split(data, "\n")
	i := slices.IndexFunc(lines, func(l string) bool { return strings.TrimSpace(l) == "- path: "+path })
	for i >= 0 && i < len(lines) && strings.TrimSpace(lines[i]) != "content: |" {
		i++
	}
	if i < 0 || i >= len(lines) {
		t.Fatalf("%s has no literal content for %s", cloudInitPath, path)
	}
	var block []string
	indent := ""
	for _, l := range lines[i+1:] {
		if indent == "" && strings.TrimSpace(l) != "" {
			indent = l[:len(l)-len(strings.TrimLeft(l, " "))]
		}
		if strings.TrimSpace(l) != "" && !strings.HasPrefix(l, indent) {
			break
		}
		block = append(block, strings.TrimPrefix(l, indent))
	}
	return strings.TrimRight(strings.Join(block, "\n"), "\n") + "\n"
}

// yamlJSON parses a YAML file with PyYAML, if this machine has it (the
// system's python3 first: Debian's ansible-core brings its python3-yaml).
func yamlJSON(t *testing.T, path string, v any) bool {
	t.Helper()
	out, err := exec.Command(python3(), "-c", "import json,sys,yaml; json.dump(yaml.safe_load(open(sys.argv[1])), sys.stdout)", path).Output()
	if err != nil {
		t.Logf("no python3 with PyYAML (%v): %s not cross-checked with a YAML parser", err, path)
		return false
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatal(err)
	}
	return true
}

func TestCloudInitEnrolls(t *testing.T) {
	b, err := os.ReadFile(cloudInitPath)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(b), "#cloud-config\n") {
		t.Fatal("cloud-init reads user-data as cloud-config only after a #cloud-config first line")
	}
	script := literalBlock(t, string(b), perBootScript)
	var doc struct {
		WriteFiles []struct{ Path, Content, Permissions string } `json:"write_files"`
	}
	if yamlJSON(t, cloudInitPath, &doc) {
		i := slices.IndexFunc(doc.WriteFiles, func(f struct{ Path, Content, Permissions string }) bool { return f.Path == perBootScript })
		if i < 0 || doc.WriteFiles[i].Content != script || doc.WriteFiles[i].Permissions != "0755" {
			t.Fatalf("YAML reads the script differently, or not as executable:\n%+v", doc.WriteFiles)
		}
	}
	// Every machine path of the script must be a default the test overrides.
	overrides := map[string]string{"ENROLL_BIN": "/usr/local/bin/enroll", "ENROLL_INVITATION_FILE": "/boot/enroll-invitation.txt",
		"ENROLL_DEFAULTS": "/etc/default/enroll", "ENROLL_CREDENTIALS": "/var/lib/enroll/credentials.json"}
	for _, m := range regexp.MustCompile(`\$\{(\w+):-(/[^}]*)\}`).FindAllStringSubmatch(script, -1) {
		if overrides[m[1]] != m[2] {
			t.Errorf("${%s:-%s} is not mapped by this test", m[1], m[2])
		}
	}
	for _, line := range strings.Split(script, "\n") {
		if l := strings.TrimSpace(line); !strings.HasPrefix(l, "#") && regexp.MustCompile(`(^|[\s"'=])/\w`).MatchString(l) {
			t.Errorf("a fixed path outside the overridable defaults: %q", l)
		}
	}

	for _, tc := range []struct {
		name    string
		expired bool
		fault   int  // the first accept answers this status
		down    bool // every accept of the first boot answers 503
		exit    int
		accepts int
	}{
		{name: "unavailable once, then enrolled", fault: 503, accepts: 2},
		{name: "down all boot: next boot enrolls", down: true, exit: 5, accepts: 3},
		{name: "refused invitation is not retried", expired: true, exit: 3, accepts: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newFleetRoot(t)
			path := filepath.Join(r.dir, perBootScript)
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			env := append(r.baseEnv(), "ENROLL_RETRY_DELAY=0", "ENROLL_ATTEMPTS=3")
			for k, p := range overrides {
				env = append(env, k+"="+r.path(p))
			}
			r.invitation(tc.expired, false)
			if tc.fault != 0 {
				r.run.Emulator.FailNext(emulator.OpAccept, emulator.Fault{Status: tc.fault})
			}
			r.run.Emulator.SetDown(tc.down)
			if code := r.exec([]string{path}, env); code != tc.exit || r.run.Emulator.Calls(emulator.OpAccept) != tc.accepts {
				t.Fatalf("exit %d (want %d), %d accepts (want %d)", code, tc.exit, r.run.Emulator.Calls(emulator.OpAccept), tc.accepts)
			}
			if tc.expired {
				return
			}
			r.run.Emulator.SetDown(false)
			for boot := 2; boot <= 3; boot++ { // later boots: enroll if not yet, then nothing
				if code := r.exec([]string{path}, env); code != 0 {
					t.Fatalf("boot %d: exit %d", boot, code)
				}
			}
			if !r.exists("/var/lib/enroll/credentials.json") || r.exists("/boot/enroll-invitation.txt") || len(r.run.Emulator.Clients()) != 1 {
				t.Fatal("not enrolled exactly once, or the invitation was left on the boot partition")
			}
			if n := r.run.Emulator.Calls(emulator.OpAccept); n > tc.accepts+1 {
				t.Errorf("%d accepts: a later boot ran it again once enrolled", n)
			}
		})
	}
}

// TestAnsiblePlaybook runs the tasks with Ansible itself; what is checked
// here without it is that the accept task's command, as written, gives the
// JSON the later tasks read (status; error.message and error.hint), the
// retry rule, and that the task is skipped on an enrolled host.
func TestAnsibleTasks(t *testing.T) {
	var tasks []map[string]any
	if !yamlJSON(t, ansibleTasks, &tasks) {
		t.Skip("python3 with PyYAML is needed to read the task list")
	}
	i := slices.IndexFunc(tasks, func(m map[string]any) bool { return strings.HasPrefix(m["name"].(string), "Accept") })
	if i < 0 {
		t.Fatal("no Accept task")
	}
	task := tasks[i]
	cmd := task["ansible.builtin.command"].(map[string]any)
	if task["register"] != "enroll_accept" || !strings.Contains(task["until"].(string), "!= 5") || task["when"] != "not enroll_stat.stat.exists" {
		t.Fatalf("the accept task lost its register, retry-on-5 or its skip once enrolled: %+v", task)
	}
	for _, tc := range []struct {
		name    string
		expired bool
		exit    int
		status  string
	}{{"enrolled", false, 0, "enrolled"}, {"refused", true, 3, "failed"}} {
		t.Run(tc.name, func(t *testing.T) {
			r := newFleetRoot(t)
			run := filepath.Join(r.dir, "run", "enroll-invitation.txt") // where the copy task put it
			vars := map[string]string{"{{ enroll_bin }}": r.bin, "{{ enroll_invitation_file }}": run}
			render := func(v any) string {
				s := v.(string)
				if mapped, ok := vars[s]; ok {
					return mapped
				}
				if strings.Contains(s, "{{") {
					t.Fatalf("template %q not emulated", s)
				}
				return s
			}
			var argv []string
			for _, a := range cmd["argv"].([]any) {
				argv = append(argv, render(a))
			}
			if task["environment"] != "{{ enroll_env }}" {
				t.Fatalf("environment %v not emulated", task["environment"])
			}
			env := append(r.baseEnv(), "ENROLL_CREDENTIALS="+r.path("/var/lib/enroll/credentials.json")) // enroll_env's default
			r.invitation(tc.expired, false)
			inv, _ := os.ReadFile(r.path("/boot/enroll-invitation.txt"))
			if err := os.MkdirAll(filepath.Dir(run), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(run, inv, 0o600); err != nil {
				t.Fatal(err)
			}
			c := exec.Command(argv[0], argv[1:]...)
			c.Env = env
			out, _ := c.Output()
			var res struct {
				Status string
				Error  *struct{ Message, Hint string }
			}
			if err := json.Unmarshal(out, &res); err != nil || c.ProcessState.ExitCode() != tc.exit || res.Status != tc.status {
				t.Fatalf("exit %d, output %s (%v)", c.ProcessState.ExitCode(), out, err)
			}
			if tc.exit != 0 && (res.Error == nil || res.Error.Message == "" || res.Error.Hint == "") {
				t.Errorf("the fail task shows error.message and error.hint, which are missing: %s", out)
			}
		})
	}
}

// The example CSV sends as documented, and its results file holds what
// the playbook's lookup reads: a "sent" record with a link for each ref.
func TestInviteExampleCSV(t *testing.T) {
	r := newInviteRig(t)
	results := filepath.Join(r.dir, "kiosks.results.jsonl")
	code, _, errOut := r.invite(context.Background(), r.hooks(), "--from", "examples/invite/kiosks.csv", "--results", results, "--show-links", "--rate", "0")
	if code != 0 || len(r.run.Emulator.Outbox()) != 3 {
		t.Fatalf("exit %d, outbox %d:\n%s", code, len(r.run.Emulator.Outbox()), errOut)
	}
	b, err := os.ReadFile(results)
	if err != nil {
		t.Fatal(err)
	}
	links := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var rec invite.Record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatal(err)
		}
		if rec.State == invite.Sent {
			links[rec.Ref] = rec.Link
		}
	}
	for _, ref := range []string{"kiosk-01", "kiosk-02", "kiosk-03"} {
		if !strings.Contains(links[ref], "token=") {
			t.Errorf("no link for %s in %v", ref, links)
		}
	}
}

// TestAnsiblePlaybook runs examples/ansible as written with Ansible itself
// (ansible-playbook -c local), on this machine as kiosk-01 of the kiosks
// group, twice. Before it, `enroll invite --from kiosks.csv --show-links`
// writes the results file that playbook.yml reads the links from. Only
// variables point the play elsewhere than a device's real paths: the
// credentials and the invitation into a temporary root, enroll_environment
// at the emulator, and no become (the test runs as the user it is).
//
// The first run meets one 503 (exit 5, retried), enrolls and reports the
// device; the second, without the results file, changes nothing
// (changed=0 in the recap), calls no accept, and reports the same device,
// now from `enroll status --json`.
func TestAnsiblePlaybook(t *testing.T) {
	need(t, "ansible-playbook")
	r := newFleetRoot(t)
	play := filepath.Join(r.dir, "play")
	for _, f := range []string{"examples/ansible/playbook.yml", ansibleTasks, "examples/invite/kiosks.csv"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		r.writeAt(filepath.Join(play, filepath.Base(f)), b)
	}
	admin := filepath.Join(r.dir, "admin.token")
	r.writeAt(admin, []byte(r.run.Emulator.AdminToken()+"\n"))
	if code := r.exec([]string{r.bin, "invite", "--server", r.run.URL, "--admin-token-file", admin, "--org", emulator.DefaultOrg,
		"--from", filepath.Join(play, "kiosks.csv"), "--show-links", "--rate", "0"}, r.baseEnv()); code != 0 {
		t.Fatalf("enroll invite --from kiosks.csv: exit %d", code)
	}
	inventory := filepath.Join(r.dir, "inventory")
	r.writeAt(inventory, []byte("[kiosks]\nkiosk-01 ansible_python_interpreter="+python3()+" ansible_become=false\n"))
	creds, invitation, report := r.path("/var/lib/enroll/credentials.json"), filepath.Join(r.dir, "run", "enroll-invitation.txt"), filepath.Join(r.dir, "enroll-report.json")
	vars, _ := json.Marshal(map[string]any{
		"enroll_bin": r.bin, "enroll_credentials": creds, "enroll_invitation_file": invitation, "enroll_report": report,
		"enroll_environment": map[string]string{"ENROLL_SERVER": r.run.URL, "ENROLL_DEFAULTS": r.path("/etc/default/enroll")},
		"enroll_retry_delay": 0,
	})
	r.writeAt(filepath.Join(r.dir, "vars.json"), vars)
	r.writeAt(filepath.Join(r.dir, "run", ".keep"), nil)
	playbook := func() (changed int, result map[string]any, raw []byte) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "ansible-playbook", "-c", "local", "-i", inventory, "-e", "@"+filepath.Join(r.dir, "vars.json"),
			filepath.Join(play, "playbook.yml"))
		cmd.Env, cmd.Dir = append(r.baseEnv(), "ANSIBLE_NOCOLOR=1", "ANSIBLE_HOST_KEY_CHECKING=0"), r.dir
		out, err := cmd.CombinedOutput()
		t.Logf("$ ansible-playbook -c local -i inventory -e @vars.json playbook.yml\n%s", out)
		m := regexp.MustCompile(`(?m)^kiosk-01\s*:\s*ok=\d+\s+changed=(\d+)\s+unreachable=0\s+failed=0\s`).FindSubmatch(out)
		if err != nil || m == nil {
			t.Fatalf("ansible-playbook: %v; no recap with kiosk-01 reachable and not failed", err)
		}
		changed, _ = strconv.Atoi(string(m[1]))
		raw, err = os.ReadFile(report)
		var all map[string]map[string]any
		if err != nil || json.Unmarshal(raw, &all) != nil || all["kiosk-01"] == nil {
			t.Fatalf("the report: %v\n%s", err, raw)
		}
		return changed, all["kiosk-01"], raw
	}

	r.run.Emulator.FailNext(emulator.OpAccept, emulator.Fault{Status: 503})
	changed, first, report1 := playbook()
	clients := r.run.Emulator.Clients()
	if len(clients) != 1 || first["status"] != "enrolled" || first["id"] != clients[0].ID || first["clientId"] != clients[0].ClientID {
		t.Fatalf("first run: the report shows %v; the service has %+v", first, clients)
	}
	// The invitation on the host, the accept call, its removal, the report.
	if changed != 4 || r.run.Emulator.Calls(emulator.OpAccept) != 2 || !r.exists("/var/lib/enroll/credentials.json") {
		t.Fatalf("first run: changed=%d, %d accept calls (want 4 and 2: one 503, retried), credentials stored %v",
			changed, r.run.Emulator.Calls(emulator.OpAccept), r.exists("/var/lib/enroll/credentials.json"))
	}
	if _, err := os.Stat(invitation); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the invitation was left on the host: %v", err)
	}

	// An enrolled host needs no link: the second run works without the
	// results file the links came from.
	if err := os.Remove(filepath.Join(play, "kiosks.csv.results.jsonl")); err != nil {
		t.Fatal(err)
	}
	changed, second, report2 := playbook()
	if changed != 0 || r.run.Emulator.Calls(emulator.OpAccept) != 2 || len(r.run.Emulator.Clients()) != 1 {
		t.Fatalf("second run: changed=%d, %d accept calls, %d clients: not idempotent", changed, r.run.Emulator.Calls(emulator.OpAccept), len(r.run.Emulator.Clients()))
	}
	if second["status"] != "enrolled" || second["id"] != clients[0].ID || !bytes.Equal(report1, report2) {
		t.Fatalf("second run reports %s, the first %s", report2, report1)
	}
}

// writeAt writes a file anywhere under the test's root (0600, as secrets).
func (r *fleetRoot) writeAt(path string, b []byte) {
	r.t.Helper()
	if !strings.HasPrefix(path, r.dir+string(filepath.Separator)) {
		r.t.Fatalf("%s is outside the test's root", path)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		r.t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		r.t.Fatal(err)
	}
}
