package handoff

import (
	"context"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

const chromiumPath = "/usr/bin/chromium"

// TestBrowserHandOff plays the phone in real headless Chromium: it opens the
// URL with the key, types an invitation link, sends it, and checks that the
// device receives exactly that text with the code the page shows. The page
// loads seal.mjs and the vendored @noble/ciphers as ES modules, as a phone
// does. It skips without Chromium, except in CI (CI set), which installs it:
// there a missing browser must not pass silently.
func TestBrowserHandOff(t *testing.T) {
	bctx, logs := openBrowser(t)
	h := start(t, nil)
	const link = "https://enroll.example.com/accept?token=eyJhbGciOiJFZERTQSJ9.eyJpbnYiOiJ4In0.c2ln&org=Acme_42"

	err := chromedp.Do(bctx,
		chromedp.Navigate(h.s.URL()),
		chromedp.WaitEnabled(chromedp.ID("link")),
		chromedp.SendKeys(chromedp.ID("link"), link),
		chromedp.Click(chromedp.ID("send")),
		chromedp.WaitVisible(chromedp.ID("code")),
	)
	var shown, status string
	if err == nil {
		shown, err = chromedp.Run(bctx, chromedp.Text(chromedp.ID("code")))
	}
	if err == nil {
		status, err = chromedp.Run(bctx, chromedp.Text(chromedp.ID("status")))
	}
	// Everything the page logs is kept. An error, such as a CSP violation or
	// an exception, means the page and the server disagree: the run fails
	// even if the hand-off got through.
	for _, l := range logs() {
		t.Log("page:", l)
		if strings.HasPrefix(l, "error:") || strings.HasPrefix(l, "console.error") || strings.HasPrefix(l, "exception:") {
			t.Errorf("page problem: %s", l)
		}
	}
	if err != nil {
		t.Fatal("browser:", err)
	}
	t.Logf("page shows code %q, status %q", shown, status)

	r := h.result()
	if r.Err != nil {
		t.Fatalf("Result error: %v", r.Err)
	}
	if r.Received.Text != link {
		t.Errorf("device received %q, want %q", r.Received.Text, link)
	}
	if r.Received.Code != shown {
		t.Errorf("device code %q, page shows %q", r.Received.Code, shown)
	}
	if r.Received.From != "127.0.0.1" {
		t.Errorf("From = %q", r.Received.From)
	}
	h.stopped()
}

// TestBrowserCipherMissing blocks the vendored library's entry module in
// Chromium: the module graph of seal.mjs fails, and app.js, a classic script
// that runs after it, must still tell the person instead of staying at
// "Loading…"; nothing reaches the device.
func TestBrowserCipherMissing(t *testing.T) {
	bctx, logs := openBrowser(t)
	h := start(t, nil)
	blocked := "http://" + h.s.host + h.path + "/" + vendorDir + "/chacha.js"
	err := chromedp.Do(bctx, chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Call(ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{
			URLPatterns: []*network.BlockPattern{{URLPattern: blocked, Block: true}},
		})
		return err
	}))
	var status string
	var disabled, loaded bool
	if err == nil {
		err = chromedp.Do(bctx,
			chromedp.Navigate(h.s.URL()),
			chromedp.WaitVisible(chromedp.CSS("#status.error")),
		)
	}
	if err == nil {
		status, err = chromedp.Run(bctx, chromedp.Text(chromedp.ID("status")))
	}
	if err == nil {
		disabled, err = chromedp.Run(bctx, chromedp.Evaluate[bool](`document.getElementById('link').disabled && document.getElementById('send').disabled`))
	}
	if err == nil {
		loaded, err = chromedp.Run(bctx, chromedp.Evaluate[bool](`typeof window.EnrollSeal !== 'undefined'`))
	}
	for _, l := range logs() {
		t.Log("page:", l)
		if strings.HasPrefix(l, "exception:") || strings.HasPrefix(l, "console.error") {
			t.Errorf("page problem: %s", l)
		}
	}
	if err != nil {
		t.Fatal("browser:", err)
	}
	if loaded {
		t.Errorf("seal.mjs ran with %s blocked", blocked)
	}
	if !strings.Contains(status, "could not load its encryption code") {
		t.Errorf("status %q, want the page to say it could not load its encryption code", status)
	}
	if !disabled {
		t.Error("the form is enabled without the cipher")
	}
	h.noResult()
}

// openBrowser starts headless Chromium for one test and returns its context
// and what the page has logged so far. It skips without Chromium, except in
// CI.
func openBrowser(t *testing.T) (context.Context, func() []string) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing in CI (the CI script installs the chromium package): %v", chromiumPath, err)
		}
		t.Skipf("%s is missing: %v", chromiumPath, err)
	}
	// A hang guard only: a good run takes a few seconds.
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(chromiumPath),
		chromedp.Headless,
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox refuses to start
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true), // small /dev/shm in containers
		chromedp.Flag("no-proxy-server", true),       // loopback traffic only, whatever the environment says
		chromedp.UserDataDir(t.TempDir()),
	)
	t.Cleanup(acancel) // runs before TempDir's cleanup: waits for the browser to exit

	var mu sync.Mutex
	var logged []string
	listen := func(ev any) {
		var line string
		switch ev := ev.(type) {
		case *cdplog.EventEntryAdded:
			line = string(ev.Entry.Level) + ": " + ev.Entry.Text + " " + ev.Entry.URL
		case *runtime.EventExceptionThrown:
			line = "exception: " + ev.ExceptionDetails.Text
			if ex := ev.ExceptionDetails.Exception; ex != nil {
				line += " " + ex.Description
			}
		case *runtime.EventConsoleAPICalled:
			line = "console." + string(ev.Type)
			for _, a := range ev.Args {
				line += " " + string(a.Value)
			}
		default:
			return
		}
		mu.Lock()
		logged = append(logged, line)
		mu.Unlock()
	}
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithListener(listen))
	t.Cleanup(bcancel)
	return bctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(logged)
	}
}
