// Command acceptbench times `enroll accept` from process start to exit
// against `enroll emulator` on loopback, next to bench/floor (the same HTTP
// calls and one fsync, nothing else), in the same run and interleaved, so
// that both see the same machine. It prints one JSON line per timed
// process.
//
// Two cases: a new device (enroll makes one call, the accept) and a device
// that is enrolled already and accepts another invitation (discovery, the
// client-credentials grant, then the accept with the access token). The
// emulator counts the calls it answers; every run checks that enroll and the
// floor made the same ones, so the floor never does less network work than
// enroll.
//
// Only loopback is used: the emulator listens on 127.0.0.1 and the links it
// hands out point there.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"time"
)

// Sample is one timed process.
type Sample struct {
	Kind     string         `json:"kind"`     // "accept"
	Scenario string         `json:"scenario"` // "new" or "existing"
	Prog     string         `json:"prog"`     // "enroll" or "floor"
	Run      int            `json:"run"`
	MS       float64        `json:"ms"`
	Calls    map[string]int `json:"calls"` // HTTP calls the emulator answered for it
}

func main() {
	enroll := flag.String("enroll", "", "the enroll binary")
	floor := flag.String("floor", "", "the floor binary")
	runs := flag.Int("runs", 7, "timed runs of each program and case")
	flag.Parse()
	if *enroll == "" || *floor == "" {
		fmt.Fprintln(os.Stderr, "usage: acceptbench -enroll BIN -floor BIN [-runs N]")
		os.Exit(2)
	}
	if err := run(*enroll, *floor, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "acceptbench:", err)
		os.Exit(1)
	}
}

type emulator struct {
	URL        string `json:"url"`
	AdminToken string `json:"adminToken"`
}

func run(enrollBin, floorBin string, runs int) error {
	work, err := os.MkdirTemp("", "enroll-acceptbench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)

	emu := exec.Command(enrollBin, "emulator", "--json", "--listen", "127.0.0.1:0")
	emu.Env = baseEnv(work)
	out, err := emu.StdoutPipe()
	if err != nil {
		return err
	}
	emu.Stderr = os.Stderr
	if err := emu.Start(); err != nil {
		return err
	}
	defer func() { _ = emu.Process.Kill(); _ = emu.Wait() }()
	var em emulator
	if err := json.NewDecoder(out).Decode(&em); err != nil {
		return fmt.Errorf("reading the emulator's address: %w", err)
	}
	go func() { _, _ = io.Copy(io.Discard, out) }()

	enc := json.NewEncoder(os.Stdout)
	// Run 0 is a warm-up, not reported: the first start of each binary
	// pays for reading it from disk.
	for i := 0; i <= runs; i++ {
		// Alternate who goes first, so neither always runs on a warmer cache.
		progs := []string{"enroll", "floor"}
		if i%2 == 1 {
			progs = []string{"floor", "enroll"}
		}
		dirs := map[string]string{}
		for _, scenario := range []string{"new", "existing"} {
			var calls [2]map[string]int
			for k, prog := range progs {
				if scenario == "new" {
					if dirs[prog], err = os.MkdirTemp(work, prog+"-"); err != nil {
						return err
					}
				}
				s, err := timeOne(em, prog, scenario, enrollBin, floorBin, dirs[prog])
				if err != nil {
					return fmt.Errorf("run %d, %s device, %s: %w", i, scenario, prog, err)
				}
				s.Run = i
				calls[k] = s.Calls
				if i == 0 {
					continue
				}
				if err := enc.Encode(s); err != nil {
					return err
				}
			}
			if !reflect.DeepEqual(calls[0], calls[1]) {
				return fmt.Errorf("run %d, %s device: %s made calls %v, %s made %v; the floor must make the same calls",
					i, scenario, progs[0], calls[0], progs[1], calls[1])
			}
		}
	}
	return nil
}

func baseEnv(home string) []string {
	return []string{"HOME=" + home, "TMPDIR=" + home, "PATH=/usr/bin:/bin", "NO_PROXY=127.0.0.1,localhost"}
}

// timeOne makes an invitation and times one accept of it.
func timeOne(em emulator, prog, scenario, enrollBin, floorBin, dir string) (Sample, error) {
	var inv struct {
		Link string `json:"link"`
	}
	if err := admin(em, "POST", "/_emulator/invitations", `{"groupIds":["grp-kiosks"]}`, &inv); err != nil {
		return Sample{}, err
	}
	before := map[string]int{}
	if err := admin(em, "GET", "/_emulator/calls", "", &before); err != nil {
		return Sample{}, err
	}
	creds := filepath.Join(dir, "credentials.json")
	var cmd *exec.Cmd
	if prog == "enroll" {
		cmd = exec.Command(enrollBin, "accept", "--name", "bench")
	} else {
		cmd = exec.Command(floorBin)
		if scenario == "existing" {
			cmd.Args = append(cmd.Args, "-existing")
		}
	}
	cmd.Env = append(baseEnv(dir), "ENROLL_TOKEN="+inv.Link, "ENROLL_CREDENTIALS="+creds)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = io.Discard, &stderr
	start := time.Now()
	err := cmd.Run()
	elapsed := time.Since(start)
	if err != nil {
		return Sample{}, fmt.Errorf("%w: %s", err, stderr.String())
	}
	if _, err := os.Stat(creds); err != nil {
		return Sample{}, fmt.Errorf("no credentials stored: %w", err)
	}
	after := map[string]int{}
	if err := admin(em, "GET", "/_emulator/calls", "", &after); err != nil {
		return Sample{}, err
	}
	calls := map[string]int{}
	for op, n := range after {
		if d := n - before[op]; d != 0 {
			calls[op] = d
		}
	}
	return Sample{Kind: "accept", Scenario: scenario, Prog: prog, MS: float64(elapsed.Microseconds()) / 1000, Calls: calls}, nil
}

// admin calls the emulator's control surface.
func admin(em emulator, method, path, body string, into any) error {
	req, err := http.NewRequest(method, em.URL+path, bytes.NewBufferString(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+em.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, raw)
	}
	return json.Unmarshal(raw, into)
}
