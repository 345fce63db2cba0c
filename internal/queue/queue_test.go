package queue

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

func openTestLog(t testing.TB, dir string) *Log {
	t.Helper()
	l, err := OpenEmbedded(context.Background(), dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(l.Close)
	return l
}

// readAll consumes until want distinct 8-byte values were seen or a quiet
// second passes, and returns how often each was seen.
func readAll(t testing.TB, l *Log, want int) map[uint64]int {
	t.Helper()
	seen := map[uint64]int{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := l.Consume(ctx, 256, func(_ context.Context, msgs []Message) error {
		for _, m := range msgs {
			for b := m.Data; len(b) >= 8; b = b[8:] {
				seen[binary.BigEndian.Uint64(b)]++
			}
		}
		if len(seen) >= want {
			cancel()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return seen
}

func TestAppendGathersAndConsumes(t *testing.T) {
	l := openTestLog(t, t.TempDir())
	var mu sync.Mutex
	var publishes, records int
	a := NewAppender(l, 1, func(n, _ int, _ time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err == nil {
			publishes++
			records += n
		}
	})
	defer a.Close()

	const writers, each = 32, 50
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if err := a.Append(context.Background(),
					binary.BigEndian.AppendUint64(nil, uint64(w*each+i))); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()

	seen := readAll(t, l, writers*each)
	if len(seen) != writers*each {
		t.Fatalf("consumed %d distinct records, want %d", len(seen), writers*each)
	}
	mu.Lock()
	defer mu.Unlock()
	if records != writers*each {
		t.Fatalf("observed %d records, want %d", records, writers*each)
	}
	if publishes >= records {
		t.Errorf("%d publishes for %d records: nothing was gathered", publishes, records)
	}
	t.Logf("%d records in %d publishes", records, publishes)
}

// TestAckedAppendsSurviveKill runs a child process that appends and reports
// each acknowledged append, kills it with SIGKILL mid-stream, and checks that
// every acknowledged record is in the log when it is opened again.
func TestAckedAppendsSurviveKill(t *testing.T) {
	if dir := os.Getenv("LOUPE_QUEUE_CHILD_DIR"); dir != "" {
		appendForever(dir)
		return
	}
	dir := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestAckedAppendsSurviveKill$")
	cmd.Env = append(os.Environ(), "LOUPE_QUEUE_CHILD_DIR="+dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	acked := map[uint64]bool{}
	scan := bufio.NewScanner(out)
	for scan.Scan() && len(acked) < 2000 {
		if n, err := strconv.ParseUint(scan.Text(), 10, 64); err == nil {
			acked[n] = true
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if len(acked) < 2000 {
		t.Fatalf("child acknowledged only %d appends", len(acked))
	}

	l := openTestLog(t, dir)
	seen := readAll(t, l, len(acked))
	for n := range acked {
		if seen[n] == 0 {
			t.Fatalf("acknowledged record %d lost after kill -9 (%d of %d found)",
				n, len(seen), len(acked))
		}
	}
	t.Logf("all %d acknowledged appends survived; %d records in the log", len(acked), len(seen))
}

func appendForever(dir string) {
	l, err := OpenEmbedded(context.Background(), dir, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	a := NewAppender(l, 1, nil)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := uint64(0); ; i++ {
				n := uint64(w)<<32 | i
				if err := a.Append(context.Background(), binary.BigEndian.AppendUint64(nil, n)); err != nil {
					return
				}
				mu.Lock()
				fmt.Println(n)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
}

func BenchmarkAppend(b *testing.B) {
	l := openTestLog(b, b.TempDir())
	a := NewAppender(l, 1, nil)
	defer a.Close()
	record := make([]byte, 1800)
	b.SetBytes(int64(len(record)))
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := a.Append(context.Background(), record); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
