package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"loupe.dev/loupe/internal/config"
	"loupe.dev/loupe/internal/server"
)

// corpus returns the path of a file in the shared test corpus.
func corpus(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "corpus", rel)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus file missing: %v", err)
		}
		t.Skipf("corpus file missing: %v", err)
	}
	return p
}

// loupe runs a subcommand and returns its output.
func loupe(t testing.TB, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := run(context.Background(), args, &out, &errOut, func(string) string { return "" })
	if err != nil {
		return out.String() + errOut.String(), err
	}
	return out.String(), nil
}

// startLoupe runs a server on a fresh data folder and returns its URL.
func startLoupe(t testing.TB) (url, data string) {
	t.Helper()
	cfg := config.Default()
	cfg.Data = t.TempDir()
	cfg.Addr = "127.0.0.1:0"
	cfg.SiteRefresh = 100 * time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan string, 1), make(chan error, 1)
	go func() {
		done <- server.Run(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), "test", ready)
	}()
	select {
	case addr := <-ready:
		url = "http://" + addr
	case err := <-done:
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); <-done })
	return url, cfg.Data
}

// addSite runs `loupe sites add` and `loupe tokens add` and waits until the
// server knows the site.
func addSite(t testing.TB, url, data string) (key, token string) {
	t.Helper()
	out, err := loupe(t, "sites", "add", "--data", data, "--domain", "localhost",
		"--public-url", url)
	if err != nil {
		t.Fatalf("sites add: %v: %s", err, out)
	}
	m := regexp.MustCompile(`site key: (\w+)`).FindStringSubmatch(out)
	if m == nil || !strings.Contains(out, `<script async src="`+url+"/s/"+m[1]+`.js"></script>`) {
		t.Fatalf("sites add printed no key and snippet:\n%s", out)
	}
	key = m[1]
	if token, err = loupe(t, "tokens", "add", "--data", data, "--site", key); err != nil {
		t.Fatalf("tokens add: %v: %s", err, token)
	}
	token = strings.TrimSpace(token)
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get(url + "/s/" + key + ".js")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return key, token
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("server never saw the site added by the CLI")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// recording polls the API until the session's recording has want events.
func recording(t testing.TB, url, token, sid string, want int) []any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		req, _ := http.NewRequest("GET", url+"/api/v1/sessions/"+sid+"/recording", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var events []any
		if resp.StatusCode == 200 {
			if err := json.NewDecoder(resp.Body).Decode(&events); err != nil {
				t.Fatal(err)
			}
		}
		resp.Body.Close()
		if len(events) >= want {
			return events
		}
		if time.Now().After(deadline) {
			t.Fatalf("recording of %s has %d events, want %d", sid, len(events), want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

var sessionLine = regexp.MustCompile(`session ([0-9a-f]{16}): (\d+) events`)

func TestImportRRWebCorpus(t *testing.T) {
	url, data := startLoupe(t)
	key, token := addSite(t, url, data)

	root := corpus(t, "rrweb/packages")
	var files []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && strings.HasSuffix(p, ".json") {
			files = append(files, p)
		}
		return nil
	})
	if len(files) < 30 {
		t.Fatalf("found %d rrweb files, want the whole corpus", len(files))
	}
	imported, refused := 0, 0
	for _, file := range files {
		raw, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var want []any
		isArray := json.Unmarshal(raw, &want) == nil
		timed := isArray
		for _, ev := range want {
			if _, ok := ev.(map[string]any)["timestamp"]; !ok {
				timed = false
			}
		}

		out, err := loupe(t, "import", "rrweb", file, "--site", key, "--server", url)
		name, _ := filepath.Rel(root, file)
		if !timed {
			if err == nil || !strings.Contains(err.Error(), "has no timestamp") {
				t.Errorf("%s: stream without timestamps was not refused clearly: %v %s", name, err, out)
			}
			refused++
			continue
		}
		if err != nil {
			t.Fatalf("%s: import failed: %v %s", name, err, out)
		}
		m := sessionLine.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("%s: import printed no session: %s", name, out)
		}
		got := recording(t, url, token, m[1], len(want))
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: recording differs from the imported stream", name)
		}
		imported++
	}
	t.Logf("imported %d streams event for event, refused %d without timestamps", imported, refused)
	if imported < 25 || refused < 5 {
		t.Fatalf("imported %d, refused %d: the corpus has more of each", imported, refused)
	}
}

func TestImportPostHog(t *testing.T) {
	url, data := startLoupe(t)
	key, token := addSite(t, url, data)
	file := corpus(t, "posthog/frontend/src/scenes/session-recordings/__mocks__/recording_snapshots.jsonl")

	out, err := loupe(t, "import", "posthog", file, "--site", key, "--server", url)
	if err != nil {
		t.Fatalf("import posthog: %v: %s", err, out)
	}
	sessions := sessionLine.FindAllStringSubmatch(out, -1)
	if len(sessions) != 2 {
		t.Fatalf("want the two windows as two sessions, got:\n%s", out)
	}
	raw, _ := os.ReadFile(file)
	lines := bytes.Split(bytes.TrimSpace(raw), []byte("\n"))
	for i, m := range sessions {
		var window struct {
			Data []any `json:"data"`
		}
		if err := json.Unmarshal(lines[i], &window); err != nil {
			t.Fatal(err)
		}
		got := recording(t, url, token, m[1], len(window.Data))
		if !reflect.DeepEqual(got, window.Data) {
			t.Errorf("window %d: recording differs from the export", i)
		}
	}
}

func TestCommandErrors(t *testing.T) {
	data := t.TempDir()
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"sites", "add", "--data", data}, "--domain"},
		{[]string{"sites", "add", "--data", data, "--domain", "a.example", "--sample-rate", "2"}, "sample-rate"},
		{[]string{"tokens", "add", "--data", data, "--site", "missing"}, "no Loupe data"},
		{[]string{"import"}, "rrweb or posthog"},
		{[]string{"import", "rrweb"}, "usage"},
		{[]string{"serve", "--log-format", "xml", "--data", data}, "log-format"},
		{[]string{"nope"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			out, err := loupe(t, tt.args...)
			if err == nil || !strings.Contains(err.Error()+out, tt.want) {
				t.Fatalf("got %v %q, want an error mentioning %q", err, out, tt.want)
			}
		})
	}
	if out, err := loupe(t, "version"); err != nil || !strings.HasPrefix(out, "loupe ") {
		t.Fatalf("version: %q %v", out, err)
	}
}

// TestServeRefusesCorruptGeoIP checks that a broken database stops the start
// with an error naming it, instead of serving without countries in silence.
func TestServeRefusesCorruptGeoIP(t *testing.T) {
	bad, err := filepath.Glob(filepath.Join(corpus(t, "maxmind-db/bad-data"), "*", "*.mmdb"))
	if err != nil || len(bad) == 0 {
		t.Fatalf("no bad databases found: %v", err)
	}
	for _, file := range bad {
		t.Run(filepath.Base(file), func(t *testing.T) {
			out, err := loupe(t, "serve", "--data", t.TempDir(), "--addr", "127.0.0.1:0",
				"--geoip-db", file)
			if err == nil || !strings.Contains(err.Error(), "--geoip-db") {
				t.Fatalf("serve with %s: %v %s; want a --geoip-db error", file, err, out)
			}
		})
	}
}
