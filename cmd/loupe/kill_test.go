package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestMain lets a test run this binary as `loupe serve` in a child process,
// so that the child can be killed with SIGKILL.
func TestMain(m *testing.M) {
	if args := os.Getenv("LOUPE_TEST_CHILD_ARGS"); args != "" {
		main2(strings.Fields(args))
		return
	}
	os.Exit(m.Run())
}

func main2(args []string) {
	os.Args = append([]string{"loupe"}, args...)
	main()
}

// startChild runs `loupe serve` in a child process and returns it once it
// answers, with the address it listens on.
func startChild(t *testing.T, data, addr string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), "LOUPE_TEST_CHILD_ARGS=serve --data "+data+" --addr "+addr+
		" --site-refresh 100ms --log-format json")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		scan := bufio.NewScanner(stderr)
		for scan.Scan() {
			if testing.Verbose() {
				t.Log(scan.Text())
			}
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return cmd
			}
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("child server never became ready")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestAcceptedBatchesSurviveKill sends batches from many clients, kills the
// server with SIGKILL while they are in flight, starts it again on the same
// data folder, and checks that every batch answered 202 became a session.
func TestAcceptedBatchesSurviveKill(t *testing.T) {
	data := t.TempDir()
	addr := freeAddr(t)
	child := startChild(t, data, addr)
	url := "http://" + addr
	key, token := addSite(t, url, data)

	var accepted sync.Map
	var count atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Timeout: 5 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				sid := fmt.Sprintf("%08x%08x", w+1, i+1)
				now := time.Now().UnixMilli()
				body, _ := json.Marshal(map[string]any{"sent": now, "ev": []map[string]any{{
					"type": "pageview", "t": now, "pid": 1, "url": "http://localhost/k"}}})
				req, _ := http.NewRequest(http.MethodPost,
					fmt.Sprintf("%s/i?k=%s&s=%s&n=1", url, key, sid), bytes.NewReader(body))
				// A browser's agent: the server drops HTTP libraries as bots.
				req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) "+
					"AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36")
				resp, err := client.Do(req)
				if err != nil {
					return // the server is gone
				}
				resp.Body.Close()
				if resp.StatusCode == http.StatusAccepted {
					accepted.Store(sid, true)
					count.Add(1)
				}
			}
		}()
	}
	for count.Load() < 300 {
		time.Sleep(10 * time.Millisecond)
	}
	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	close(stop)
	wg.Wait()
	t.Logf("%d batches accepted before SIGKILL", count.Load())

	child = startChild(t, data, addr)
	defer func() {
		child.Process.Signal(syscall.SIGTERM)
		child.Wait()
	}()
	want := int(count.Load())
	deadline := time.Now().Add(90 * time.Second)
	for {
		got := sessionIDs(t, url, key, token)
		missing := 0
		accepted.Range(func(k, _ any) bool {
			if !got[k.(string)] {
				missing++
			}
			return true
		})
		if missing == 0 {
			t.Logf("all %d accepted batches are sessions after restart (%d sessions)", want, len(got))
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d accepted batches lost after kill -9", missing, want)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// sessionIDs lists every session of the site through the API.
func sessionIDs(t *testing.T, url, key, token string) map[string]bool {
	t.Helper()
	ids := map[string]bool{}
	cursor := ""
	for {
		req, _ := http.NewRequest("GET", url+"/api/v1/sites/"+key+"/sessions?limit=500&cursor="+cursor, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var page struct {
			Sessions []struct {
				ID string `json:"id"`
			} `json:"sessions"`
			NextCursor string `json:"next_cursor"`
		}
		err = json.NewDecoder(resp.Body).Decode(&page)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page.Sessions {
			ids[s.ID] = true
		}
		if page.NextCursor == "" {
			return ids
		}
		cursor = page.NextCursor
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}
