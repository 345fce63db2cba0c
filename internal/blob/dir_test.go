package blob

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
)

// rrwebSnapshots is a real recording fixture: a JSON object mapping test names
// to rrweb event arrays, about 320 KB, much like a large recording chunk.
const rrwebSnapshots = "../../../shared/corpus/rrweb/packages/rrweb/test/__snapshots__/" +
	"integration.test.ts.snap.json"

// readCorpus returns a corpus file; without it the test fails under CI=true
// and is skipped elsewhere.
func readCorpus(tb testing.TB, path string) []byte {
	tb.Helper()

	data, err := os.ReadFile(path)
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("read corpus: %v", err)
		}
		tb.Skipf("corpus missing (set CI=true to fail instead): %v", err)
	}
	return data
}

// newTestDir returns a Dir in a fresh temporary folder.
func newTestDir(tb testing.TB) *Dir {
	tb.Helper()

	d, err := NewDir(filepath.Join(tb.TempDir(), "blobs"))
	if err != nil {
		tb.Fatalf("NewDir: %v", err)
	}
	return d
}

// mustPut stores data under key or fails the test.
func mustPut(tb testing.TB, d *Dir, key string, data []byte) {
	tb.Helper()

	if err := d.Put(context.Background(), key, data); err != nil {
		tb.Fatalf("Put(%q): %v", key, err)
	}
}

// filesUnder returns every file below root, as slash paths relative to it.
func filesUnder(tb testing.TB, root string) []string {
	tb.Helper()

	var files []string
	err := filepath.WalkDir(root, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		rel, err := filepath.Rel(root, path)
		files = append(files, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		tb.Fatalf("walk %s: %v", root, err)
	}
	return files
}

func TestNewDir(t *testing.T) {
	root := filepath.Join(t.TempDir(), "a", "b")
	if _, err := NewDir(root); err != nil {
		t.Fatalf("NewDir: %v", err)
	}

	info, err := os.Stat(root)
	if err != nil {
		t.Fatalf("stat root: %v", err)
	}
	if !info.IsDir() || info.Mode().Perm() != 0o750 {
		t.Errorf("root mode = %v, want a folder with 0750", info.Mode())
	}

	if _, err := NewDir(""); err == nil {
		t.Error("NewDir(\"\") succeeded, want an error")
	}
}

func TestDirRoundTrip(t *testing.T) {
	ctx := context.Background()
	d := newTestDir(t)
	chunk := readCorpus(t, rrwebSnapshots)

	tests := []struct {
		name string
		key  string
		data []byte
	}{
		{"recording chunk", "rec/12/00ab34cd56ef7890/00000001", chunk},
		{"one segment", "manifest", []byte(`{"v":1}`)},
		{"empty object", "rec/12/00ab34cd56ef7890/00000002", []byte{}},
		{"unicode key", "archive/café/été", []byte("x")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mustPut(t, d, tt.key, tt.data)

			got, err := d.Get(ctx, tt.key)
			if err != nil {
				t.Fatalf("Get: %v", err)
			}
			if !bytes.Equal(got, tt.data) {
				t.Errorf("Get returned %d bytes, want the %d put", len(got), len(tt.data))
			}
		})
	}

	if left := filesUnder(t, d.root); slices.ContainsFunc(left, isTemp) {
		t.Errorf("temporary files left behind: %q", left)
	}
}

func isTemp(path string) bool {
	return strings.HasPrefix(filepath.Base(path), tempPrefix)
}

func TestDirOverwrite(t *testing.T) {
	ctx := context.Background()
	d := newTestDir(t)
	key := "rec/1/00000000000000aa/00000003"

	mustPut(t, d, key, []byte("first, longer version of the chunk"))
	mustPut(t, d, key, []byte("second"))

	got, err := d.Get(ctx, key)
	if err != nil {
		t.Fatalf("Get: %v", err)
	}
	if string(got) != "second" {
		t.Errorf("Get = %q, want %q", got, "second")
	}
	if files := filesUnder(t, d.root); len(files) != 1 {
		t.Errorf("files on disk = %q, want only the object", files)
	}
}

func TestDirMissing(t *testing.T) {
	ctx := context.Background()
	d := newTestDir(t)
	mustPut(t, d, "rec/1/a/1", []byte("x"))

	tests := []struct {
		name string
		key  string
	}{
		{"never written", "rec/1/a/2"},
		{"missing folder", "rec/2/b/1"},
		{"key is a prefix of others", "rec/1/a"},
		{"key below an object", "rec/1/a/1/more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data, err := d.Get(ctx, tt.key)
			if !errors.Is(err, ErrNotFound) {
				t.Errorf("Get = %q, %v; want ErrNotFound", data, err)
			}
			if err := d.Delete(ctx, tt.key); err != nil {
				t.Errorf("Delete: %v, want nil", err)
			}
		})
	}

	if _, err := d.Get(ctx, "rec/1/a/1"); err != nil {
		t.Errorf("Get of the one object after the deletes: %v", err)
	}
}

func TestDirDelete(t *testing.T) {
	ctx := context.Background()
	d := newTestDir(t)
	mustPut(t, d, "rec/1/a/1", []byte("x"))
	mustPut(t, d, "rec/1/a/2", []byte("y"))
	mustPut(t, d, "rec/1/b/1", []byte("z"))

	if err := d.Delete(ctx, "rec/1/a/1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := d.Get(ctx, "rec/1/a/1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete: %v, want ErrNotFound", err)
	}
	if _, err := os.Stat(filepath.Join(d.root, "rec", "1", "a")); err != nil {
		t.Errorf("folder still holding rec/1/a/2 is gone: %v", err)
	}

	// Deleting the last object of a session removes its folder, but not the
	// site folder that still holds another session.
	if err := d.Delete(ctx, "rec/1/a/2"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := os.Stat(filepath.Join(d.root, "rec", "1", "a")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("empty session folder kept: stat err = %v", err)
	}
	if got, _ := d.List(ctx, ""); !slices.Equal(got, []string{"rec/1/b/1"}) {
		t.Errorf("List after deletes = %q, want [rec/1/b/1]", got)
	}

	if err := d.Delete(ctx, "rec/1/b/1"); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if _, err := os.Stat(d.root); err != nil {
		t.Errorf("root removed by pruning: %v", err)
	}
	if files := filesUnder(t, d.root); len(files) != 0 {
		t.Errorf("files left = %q", files)
	}
	if entries, _ := os.ReadDir(d.root); len(entries) != 0 {
		t.Errorf("root still holds %d entries after the last delete", len(entries))
	}
}

func TestDirBadKeys(t *testing.T) {
	ctx := context.Background()
	d := newTestDir(t)

	tests := []struct {
		name string
		key  string
	}{
		{"empty", ""},
		{"absolute", "/rec/1"},
		{"parent segment", "rec/../../etc/passwd"},
		{"parent at the end", "rec/1/.."},
		{"dots inside a segment", "rec/a..b"},
		{"current segment", "rec/./1"},
		{"hidden segment", "rec/.tmp-x"},
		{"backslash", `rec\1`},
		{"NUL", "rec/1\x00"},
		{"newline", "rec/1\n2"},
		{"double slash", "rec//1"},
		{"trailing slash", "rec/1/"},
		{"only a slash", "/"},
		{"invalid UTF-8", "rec/\xff"},
		{"too long", strings.Repeat("a", MaxKeyLen+1)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := d.Put(ctx, tt.key, []byte("x")); !errors.Is(err, ErrBadKey) {
				t.Errorf("Put: %v, want ErrBadKey", err)
			}
			if _, err := d.Get(ctx, tt.key); !errors.Is(err, ErrBadKey) {
				t.Errorf("Get: %v, want ErrBadKey", err)
			}
			if err := d.Delete(ctx, tt.key); !errors.Is(err, ErrBadKey) {
				t.Errorf("Delete: %v, want ErrBadKey", err)
			}
		})
	}

	if files := filesUnder(t, filepath.Dir(d.root)); len(files) != 0 {
		t.Errorf("bad keys wrote files: %q", files)
	}
	// Five 200-byte segments: within MaxKeyLen and each within the 255
	// bytes most file systems allow for a name.
	long := strings.Repeat(strings.Repeat("a", 200)+"/", 5) + "b"
	if err := d.Put(ctx, long, []byte("x")); err != nil {
		t.Errorf("Put of a long but valid key: %v", err)
	}
}

func TestDirList(t *testing.T) {
	ctx := context.Background()
	d := newTestDir(t)
	keys := []string{
		"rec/12/00ab34cd56ef7890/00000002",
		"rec/12/00ab34cd56ef7890/00000001",
		"rec/12/00ab34cd56ef7890/00000010",
		"rec/12/00ac000000000000/00000001",
		"rec/12/ff00000000000000/00000001",
		"rec/3/0000000000000001/00000001",
		"a/b",
		"a-c",
		"archive/2026-01.ndjson",
	}
	for _, key := range keys {
		mustPut(t, d, key, []byte(key))
	}
	// A temporary file left by a crash mid-Put is never a key.
	leftover := filepath.Join(d.root, "rec", "12", "00ab34cd56ef7890", tempPrefix+"crashed")
	if err := os.WriteFile(leftover, []byte("half"), 0o640); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		prefix string
		want   []string
	}{
		{"everything", "", []string{
			"a-c", "a/b", "archive/2026-01.ndjson",
			"rec/12/00ab34cd56ef7890/00000001",
			"rec/12/00ab34cd56ef7890/00000002",
			"rec/12/00ab34cd56ef7890/00000010",
			"rec/12/00ac000000000000/00000001",
			"rec/12/ff00000000000000/00000001",
			"rec/3/0000000000000001/00000001",
		}},
		{"one session", "rec/12/00ab34cd56ef7890/", []string{
			"rec/12/00ab34cd56ef7890/00000001",
			"rec/12/00ab34cd56ef7890/00000002",
			"rec/12/00ab34cd56ef7890/00000010",
		}},
		{"partial segment", "rec/12/00a", []string{
			"rec/12/00ab34cd56ef7890/00000001",
			"rec/12/00ab34cd56ef7890/00000002",
			"rec/12/00ab34cd56ef7890/00000010",
			"rec/12/00ac000000000000/00000001",
		}},
		{"partial chunk number", "rec/12/00ab34cd56ef7890/0000001", []string{
			"rec/12/00ab34cd56ef7890/00000010",
		}},
		{"segment prefix is not a folder", "rec/1", []string{
			"rec/12/00ab34cd56ef7890/00000001",
			"rec/12/00ab34cd56ef7890/00000002",
			"rec/12/00ab34cd56ef7890/00000010",
			"rec/12/00ac000000000000/00000001",
			"rec/12/ff00000000000000/00000001",
		}},
		{"folder and file with one prefix", "a", []string{
			"a-c", "a/b", "archive/2026-01.ndjson",
		}},
		{"exact key", "a/b", []string{"a/b"}},
		{"missing prefix", "rec/99/", nil},
		{"missing top folder", "zzz/", nil},
		{"prefix below an object", "a/b/", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := d.List(ctx, tt.prefix)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("List(%q) =\n%q\nwant\n%q", tt.prefix, got, tt.want)
			}
		})
	}

	for _, prefix := range []string{"/", "/rec", "rec//", "../", "rec/.tmp", "rec\\1"} {
		if _, err := d.List(ctx, prefix); !errors.Is(err, ErrBadKey) {
			t.Errorf("List(%q): %v, want ErrBadKey", prefix, err)
		}
	}
}

func TestDirListEmptyStore(t *testing.T) {
	d := newTestDir(t)

	got, err := d.List(context.Background(), "")
	if err != nil || len(got) != 0 {
		t.Errorf("List of an empty store = %q, %v; want nothing", got, err)
	}
}

func TestDirCanceled(t *testing.T) {
	d := newTestDir(t)
	mustPut(t, d, "rec/1/a/1", []byte("x"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()

	if err := d.Put(ctx, "rec/1/a/2", []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("Put: %v, want context.Canceled", err)
	}
	if _, err := d.Get(ctx, "rec/1/a/1"); !errors.Is(err, context.Canceled) {
		t.Errorf("Get: %v, want context.Canceled", err)
	}
	if err := d.Delete(ctx, "rec/1/a/1"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete: %v, want context.Canceled", err)
	}
	if _, err := d.List(ctx, ""); !errors.Is(err, context.Canceled) {
		t.Errorf("List: %v, want context.Canceled", err)
	}
}

// TestDirConcurrent runs Puts of different keys from many goroutines, some
// into folders that do not exist yet, while other goroutines empty a sibling
// folder with Delete, so that the pruning of folders races with their making.
func TestDirConcurrent(t *testing.T) {
	ctx := context.Background()
	d := newTestDir(t)
	const writers, perWriter = 8, 40

	for i := range perWriter {
		mustPut(t, d, fmt.Sprintf("rec/1/shared/del-%03d", i), []byte("old"))
	}

	var wg sync.WaitGroup
	errs := make(chan error, writers*perWriter*2)
	for w := range writers {
		wg.Go(func() {
			for i := range perWriter {
				key := fmt.Sprintf("rec/1/s%d/%08d", w%3, w*perWriter+i)
				if err := d.Put(ctx, key, []byte(key)); err != nil {
					errs <- err
				}
				shared := fmt.Sprintf("rec/1/shared/put-%d-%03d", w, i)
				if err := d.Put(ctx, shared, []byte(shared)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Go(func() {
		for i := range perWriter {
			err := d.Delete(ctx, fmt.Sprintf("rec/1/shared/del-%03d", i))
			if err != nil {
				errs <- err
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	keys, err := d.List(ctx, "rec/1/")
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	if len(keys) != 2*writers*perWriter {
		t.Errorf("List found %d keys, want %d", len(keys), 2*writers*perWriter)
	}
	for _, key := range keys {
		got, err := d.Get(ctx, key)
		if err != nil || string(got) != key {
			t.Errorf("Get(%q) = %q, %v", key, got, err)
		}
	}
	if left := filesUnder(t, d.root); slices.ContainsFunc(left, isTemp) {
		t.Errorf("temporary files left behind")
	}
}

// FuzzCheckKey checks that every key the rules accept maps to a file strictly
// inside the root, and back to the same key.
func FuzzCheckKey(f *testing.F) {
	for _, seed := range []string{
		"rec/12/00ab34cd56ef7890/00000001", "a", "../x", "a/../../b", "/a", "a//b",
		".", "a/.", "a\\..\\b", "a/\x00", "é/ü",
	} {
		f.Add(seed)
	}
	d := &Dir{root: filepath.FromSlash("/srv/loupe/blobs")}

	f.Fuzz(func(t *testing.T, key string) {
		if checkKey(key) != nil {
			return
		}

		path := d.path(key)
		if !strings.HasPrefix(path, d.root+string(filepath.Separator)) {
			t.Fatalf("key %q maps to %q, outside %q", key, path, d.root)
		}
		if back := d.key(path); back != key {
			t.Fatalf("key %q maps to %q and back to %q", key, path, back)
		}
		if isTemp(path) {
			t.Fatalf("key %q can collide with a temporary file", key)
		}
	})
}

func BenchmarkDirPut(b *testing.B) {
	ctx := context.Background()
	d := newTestDir(b)
	chunk := readCorpus(b, rrwebSnapshots)
	b.SetBytes(int64(len(chunk)))

	var i int
	for b.Loop() {
		// Eight keys over and over: replacing is the redelivery path, and it
		// keeps the benchmark from filling the disk.
		key := fmt.Sprintf("rec/1/0000000000000001/%08d", i%8)
		if err := d.Put(ctx, key, chunk); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
