package handoff

// Running the node driver (seal_node_driver_test.go): the input Go prepares
// for it, the output it prints, and runSealNode, which runs it and parses
// that output.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
)

type sealNodeAEADCase struct {
	Key   string `json:"key"`
	Nonce string `json:"nonce"`
	AAD   string `json:"aad"`
	PT    string `json:"pt"`
	CT    string `json:"ct"`
}

type sealNodeInvite struct {
	Key  string `json:"key"` // base64url, as in the URL fragment
	ID   string `json:"id"`
	Text string `json:"text"`

	want    string // the plaintext the device must get
	wantErr string // or the reason the page must refuse
}

type sealNodeB64Case struct {
	Hex string `json:"hex"`
	B64 string `json:"b64"`
}

type sealNodeKeyCase struct {
	Hash string `json:"hash"`
	OK   bool   `json:"ok"`
}

type sealNodePathCase struct {
	Path string `json:"path"`
	ID   string `json:"id,omitempty"`
	OK   bool   `json:"ok"`
}

type sealNodeInput struct {
	AEAD    []sealNodeAEADCase `json:"aead"`
	Invites []sealNodeInvite   `json:"invites"`
	Keys    []sealNodeKeyCase  `json:"keys"`
	Paths   []sealNodePathCase `json:"paths"`
	Tags    []string           `json:"tags"`
	B64     []sealNodeB64Case  `json:"b64"`
	B64Bad  []string           `json:"b64bad"`
}

// sealNodeOutput is what the driver printed, by kind.
type sealNodeOutput struct {
	raw     string
	pass    []string
	fail    []string
	seals   []sealNodeAEADCase
	invites map[int]map[string]any
	codes   map[string]string // tag hex -> code
	b64     []sealNodeB64Case
}

func sealNodeRandom(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func sealNodeInputs(t *testing.T) sealNodeInput {
	var in sealNodeInput
	enc := base64.RawURLEncoding

	for i, n := range []int{0, 1, 16, 64, 100, 4096} {
		key := sealNodeRandom(t, chacha20poly1305.KeySize)
		nonce := sealNodeRandom(t, chacha20poly1305.NonceSize)
		aad := sealNodeRandom(t, []int{0, 7, 16, 33}[i%4])
		pt := sealNodeRandom(t, n)
		aead, err := chacha20poly1305.New(key)
		if err != nil {
			t.Fatal(err)
		}
		in.AEAD = append(in.AEAD, sealNodeAEADCase{
			Key: hex.EncodeToString(key), Nonce: hex.EncodeToString(nonce), AAD: hex.EncodeToString(aad),
			PT: hex.EncodeToString(pt), CT: hex.EncodeToString(aead.Seal(nil, nonce, pt, aad)),
		})
	}

	key := enc.EncodeToString(sealNodeRandom(t, 32))
	id := enc.EncodeToString(sealNodeRandom(t, 16))
	invite := func(text, want, wantErr string) {
		in.Invites = append(in.Invites, sealNodeInvite{Key: key, ID: id, Text: text, want: want, wantErr: wantErr})
	}
	link := "https://enroll.example.com/accept?token=eyJhbGciOiJFZERTQSJ9.eyJpbnYiOiIxMjMifQ.c2ln"
	invite(link, link, "")
	invite("  \t"+link+" \r\n", link, "")
	invite("\u00a0"+link+"\n\n", link, "")
	invite("https://exämple.test/accept?token=äöü€😀&name=Zoë", "https://exämple.test/accept?token=äöü€😀&name=Zoë", "")
	invite("日本語のテキスト ☃", "日本語のテキスト ☃", "")
	invite(strings.Repeat("é", 2048), strings.Repeat("é", 2048), "") // exactly 4096 bytes
	invite("  "+strings.Repeat("a", 4096)+"\n", strings.Repeat("a", 4096), "")
	invite(strings.Repeat("é", 2048)+"a", "", "too-long") // 4097 bytes
	invite(strings.Repeat("a", 5000), "", "too-long")
	invite("", "", "empty")
	invite(" \n\t ", "", "empty")
	// Keys and ids other than this session's, one of each.
	other := len(in.Invites)
	invite("https://enroll.example.com/accept?token=other-session", "https://enroll.example.com/accept?token=other-session", "")
	in.Invites[other].Key = enc.EncodeToString(sealNodeRandom(t, 32))
	in.Invites[other].ID = enc.EncodeToString(sealNodeRandom(t, 16))

	goodKey := enc.EncodeToString(sealNodeRandom(t, 32))
	in.Keys = []sealNodeKeyCase{
		{"#" + goodKey, true},
		{goodKey, true},
		{"", false},
		{"#", false},
		{"#" + enc.EncodeToString(sealNodeRandom(t, 31)), false},
		{"#" + enc.EncodeToString(sealNodeRandom(t, 33)), false},
		{"#" + goodKey + "=", false},
		{"#" + base64.URLEncoding.EncodeToString(sealNodeRandom(t, 32)), false}, // padded
		{"#" + strings.Repeat("+", 43), false},
		{"#" + goodKey[:42], false},
		{"#" + goodKey + "&x=1", false},
	}
	goodID := enc.EncodeToString(sealNodeRandom(t, 16))
	in.Paths = []sealNodePathCase{
		{Path: "/h/" + goodID, ID: goodID, OK: true},
		{Path: "/h/" + goodID + "/", ID: goodID, OK: true},
		{Path: "/", OK: false},
		{Path: "/h/", OK: false},
		{Path: "/x/" + goodID, OK: false},
		{Path: "/h/" + goodID + "/app.js", OK: false},
		{Path: "/h/" + enc.EncodeToString(sealNodeRandom(t, 15)), OK: false},
		{Path: "/h/" + enc.EncodeToString(sealNodeRandom(t, 17)), OK: false},
		{Path: "/h/" + goodID[:21] + "+", OK: false},
	}

	in.Tags = []string{
		strings.Repeat("00", 16),
		strings.Repeat("ff", 16),
		"000f423f" + strings.Repeat("00", 12), // 999999
		"000f4240" + strings.Repeat("ab", 12), // 1000000
		"80000000" + strings.Repeat("00", 12), // high bit set
		"7fffffff" + strings.Repeat("11", 12),
		"00000001" + strings.Repeat("ff", 12),
	}
	for range 25 {
		in.Tags = append(in.Tags, hex.EncodeToString(sealNodeRandom(t, 16)))
	}

	for n := range 40 {
		b := sealNodeRandom(t, n)
		in.B64 = append(in.B64, sealNodeB64Case{Hex: hex.EncodeToString(b), B64: enc.EncodeToString(b)})
	}
	in.B64Bad = []string{"A", "AAAAA", "AB", "AAB", "AA=", "AA==", "ab+c", "ab/c", "ab c", "é", "ABC."}
	for _, s := range in.B64Bad {
		if _, err := enc.Strict().DecodeString(s); err == nil {
			t.Fatalf("the list of bad base64url strings holds %q, which Go accepts", s)
		}
	}
	return in
}

// runSealNode runs the driver on page/seal.mjs and the vendored
// @noble/ciphers, and collects its output. Like the browser test, it skips
// without node except in CI (CI set), where a missing node must not pass.
func runSealNode(t *testing.T, in sealNodeInput) sealNodeOutput {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("node is missing in CI: %v", err)
		}
		t.Skip("node is not on PATH")
	}
	pageDir, err := filepath.Abs("page")
	if err != nil {
		t.Fatal(err)
	}
	seal := filepath.Join(pageDir, "seal.mjs")
	vendored := filepath.Join(pageDir, filepath.FromSlash(vendorDir))
	dir := t.TempDir()
	driver := filepath.Join(dir, "driver.mjs")
	if err := os.WriteFile(driver, []byte(sealNodeDriver), 0o600); err != nil {
		t.Fatal(err)
	}
	inputJSON, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	inputPath := filepath.Join(dir, "input.json")
	if err := os.WriteFile(inputPath, inputJSON, 0o600); err != nil {
		t.Fatal(err)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, driver, seal, vendored, inputPath)
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s: %v\nstdout:\n%s\nstderr:\n%s", driver, err, stdout.String(), stderr.String())
	}
	if stderr.Len() > 0 {
		t.Errorf("node wrote to stderr:\n%s", stderr.String())
	}

	out := sealNodeOutput{raw: stdout.String(), invites: map[int]map[string]any{}, codes: map[string]string{}}
	done := false
	sc := bufio.NewScanner(&stdout)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		kind, rest, _ := strings.Cut(line, " ")
		var err error
		switch kind {
		case "PASS":
			out.pass = append(out.pass, rest)
		case "FAIL":
			out.fail = append(out.fail, rest)
		case "SEAL":
			var c sealNodeAEADCase
			err = json.Unmarshal([]byte(rest), &c)
			out.seals = append(out.seals, c)
		case "INVITE":
			var m map[string]any
			err = json.Unmarshal([]byte(rest), &m)
			if i, ok := m["i"].(float64); ok {
				out.invites[int(i)] = m
			} else if err == nil {
				err = fmt.Errorf("no index")
			}
		case "CODE":
			var c struct{ Tag, Code string }
			err = json.Unmarshal([]byte(rest), &c)
			out.codes[c.Tag] = c.Code
		case "B64":
			var c sealNodeB64Case
			err = json.Unmarshal([]byte(rest), &c)
			out.b64 = append(out.b64, c)
		case "DONE":
			done = true
		default:
			err = fmt.Errorf("unknown kind %q", kind)
		}
		if err != nil {
			t.Fatalf("cannot read the driver's line %q: %v", line, err)
		}
	}
	if !done {
		t.Fatalf("the driver did not run to its end; its output:\n%s", out.raw)
	}
	return out
}
