package blob

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// Dir is a Store in a local folder: each object is a file whose path below
// the root is its key. It is the default for a single node; one process owns
// the folder, because the locking below lives in memory.
type Dir struct {
	root string

	// mu orders the making and pruning of sub-folders against the creation
	// of temporary files: Put creates its temporary file under the read
	// lock, and folders are made (and synced) or pruned under the write
	// lock. So a Put never sees a folder another Put has made but not yet
	// made durable, and Delete never prunes a folder a Put is about to
	// write into.
	mu sync.RWMutex
}

var _ Store = (*Dir)(nil)

// tempPrefix starts the name of every file Put writes before renaming it into
// place. Keys may not have a segment starting with a dot, so these names
// never collide with an object and List skips them.
const tempPrefix = ".tmp-"

// NewDir returns a Dir kept in the folder root, creating it (mode 0o750) if
// needed. A relative root is made absolute now, so that a later change of the
// working directory does not move the store.
func NewDir(root string) (*Dir, error) {
	if root == "" {
		return nil, errors.New("open blob dir: empty root")
	}

	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("open blob dir %s: %w", root, err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, fmt.Errorf("open blob dir: %w", err)
	}
	return &Dir{root: abs}, nil
}

// Put writes data to a temporary file next to the object, syncs it, renames
// it over the key and syncs the folder, so that the object is either the old
// one or the new one after a crash, never a mix, and is on disk once Put
// returns. A crash can leave a temporary file behind; it is never read.
func (d *Dir) Put(ctx context.Context, key string, data []byte) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}

	if err := d.put(d.path(key), data); err != nil {
		return fmt.Errorf("put %s: %w", key, err)
	}
	return nil
}

func (d *Dir) put(name string, data []byte) (err error) {
	dir := filepath.Dir(name)
	f, err := d.createTemp(dir)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()

	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), name); err != nil {
		return err
	}
	return syncDir(dir)
}

// createTemp creates a new temporary file in dir, making dir first if it is
// missing.
func (d *Dir) createTemp(dir string) (*os.File, error) {
	d.mu.RLock()
	f, err := openTemp(dir)
	d.mu.RUnlock()
	if !errors.Is(err, fs.ErrNotExist) {
		return f, err
	}

	d.mu.Lock()
	defer d.mu.Unlock()

	if err := d.mkdirs(dir); err != nil {
		return nil, err
	}
	return openTemp(dir)
}

func openTemp(dir string) (*os.File, error) {
	// 128 random bits: two Puts never pick the same name, and O_EXCL turns
	// the impossible case into an error rather than a shared file.
	name := filepath.Join(dir, tempPrefix+rand.Text())
	return os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
}

// mkdirs makes dir and its missing parents below the root, syncing the parent
// of each folder it makes: an object is only durable if every folder on its
// path is. The caller holds d.mu for writing.
func (d *Dir) mkdirs(dir string) error {
	rel, err := filepath.Rel(d.root, dir)
	if err != nil {
		return err
	}
	if rel == "." {
		return nil
	}

	parent := d.root
	for seg := range strings.SplitSeq(rel, string(filepath.Separator)) {
		cur := filepath.Join(parent, seg)
		err := os.Mkdir(cur, 0o750)
		switch {
		case errors.Is(err, fs.ErrExist):
			// Made earlier, under this lock, and synced then.
		case err != nil:
			return err
		default:
			if err := syncDir(parent); err != nil {
				return err
			}
		}
		parent = cur
	}
	return nil
}

// Get returns the object under key, or an error wrapping ErrNotFound.
func (d *Dir) Get(ctx context.Context, key string) ([]byte, error) {
	if err := checkKey(key); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}

	data, err := os.ReadFile(d.path(key))
	if isMissing(err) {
		return nil, fmt.Errorf("get %s: %w", key, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("get %s: %w", key, err)
	}
	return data, nil
}

// Delete removes the object under key and then every folder on its path that
// this left empty, so that retention does not leave one empty folder per
// session behind. A key naming a folder (a prefix of other keys) has no
// object, so Delete leaves it alone.
func (d *Dir) Delete(ctx context.Context, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}

	name := d.path(key)
	info, err := os.Lstat(name)
	if isMissing(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	if info.IsDir() {
		return nil
	}
	if err := os.Remove(name); err != nil && !isMissing(err) {
		return fmt.Errorf("delete %s: %w", key, err)
	}

	d.mu.Lock()
	kept := d.prune(filepath.Dir(name))
	d.mu.Unlock()

	// Without this a crash could bring a deleted object back, which matters
	// when the object is a visitor's data that was asked to be erased.
	if err := syncDir(kept); err != nil {
		return fmt.Errorf("delete %s: %w", key, err)
	}
	return nil
}

// prune removes dir and its parents below the root while they are empty, and
// returns the deepest folder it kept. The caller holds d.mu for writing.
func (d *Dir) prune(dir string) string {
	for dir != d.root && strings.HasPrefix(dir, d.root) {
		// Remove fails on a folder that still holds anything, which is
		// exactly when pruning must stop; the reason does not matter.
		if os.Remove(dir) != nil {
			return dir
		}
		dir = filepath.Dir(dir)
	}
	return d.root
}

// List returns the keys under prefix in lexical order. It walks only the
// folders that can hold matching keys; temporary files are never listed.
func (d *Dir) List(ctx context.Context, prefix string) ([]string, error) {
	if err := checkPrefix(prefix); err != nil {
		return nil, err
	}

	// Start at the deepest folder the prefix names in full.
	base := prefix[:strings.LastIndex(prefix, "/")+1]
	start := d.path(base)
	var keys []string
	walk := func(path string, entry fs.DirEntry, err error) error {
		if err != nil {
			// The prefix names no folder, or Delete pruned one mid-walk:
			// neither holds keys.
			if isMissing(err) {
				return nil
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if path == start {
			return nil
		}

		if strings.HasPrefix(entry.Name(), ".") {
			if entry.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		key := d.key(path)
		if entry.IsDir() {
			key += "/"
			if !strings.HasPrefix(key, prefix) && !strings.HasPrefix(prefix, key) {
				return filepath.SkipDir
			}
			return nil
		}
		if entry.Type().IsRegular() && strings.HasPrefix(key, prefix) {
			keys = append(keys, key)
		}
		return nil
	}
	if err := filepath.WalkDir(start, walk); err != nil {
		return nil, fmt.Errorf("list %q: %w", prefix, err)
	}

	// The walk visits each folder's entries in order, but "a/b" comes after
	// "a-c" as a key while folder "a" is visited before file "a-c".
	slices.Sort(keys)
	return keys, nil
}

// path returns the file for key, which has passed checkKey.
func (d *Dir) path(key string) string {
	return filepath.Join(d.root, filepath.FromSlash(key))
}

// key returns the key for path, a file below the root.
func (d *Dir) key(path string) string {
	return filepath.ToSlash(strings.TrimPrefix(path, d.root+string(filepath.Separator)))
}

// isMissing reports whether err means there is nothing at a path: it does
// not exist, a file stands where a folder is expected, or a folder stands
// where a file is expected.
func isMissing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) ||
		errors.Is(err, syscall.ENOTDIR) ||
		errors.Is(err, syscall.EISDIR)
}

// syncDir makes the entries of dir durable: a rename, a new file or a removal
// is only safe from a crash once its folder has been synced.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
