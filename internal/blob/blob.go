// Package blob keeps recording chunks and archived data as opaque objects
// under slash-separated keys, in a local folder by default and in S3 at
// scale, and holds the zstd helpers that recording chunks are stored with.
//
// It owns the bytes and their durability only: which keys exist, what a key
// means and when an object may be deleted are decided by the process and
// store packages, and nothing here touches the SQL store or the log.
package blob

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// ErrNotFound is returned when a key has no object.
var ErrNotFound = errors.New("blob: not found")

// ErrBadKey is wrapped by the error returned for a key or prefix that does
// not follow the key rules (see Store).
var ErrBadKey = errors.New("blob: bad key")

// MaxKeyLen is the longest key accepted, in bytes. It is the limit of an S3
// object key, so a key that works on disk keeps working after a move to S3.
const MaxKeyLen = 1024

// Store is where recording chunks live: a local folder by default, S3 at
// scale. Both keep the same promises, so the processor and the web handlers
// never know which one they hold.
//
// Keys are slash-separated, like "rec/12/00ab34cd56ef7890/00000001". A key is
// valid UTF-8 of at most MaxKeyLen bytes; it is not empty, does not start
// with a slash, has no empty segment, no segment starting with a dot, no
// "..", no backslash and no control character (NUL included). Every method
// refuses any other key with an error wrapping ErrBadKey.
type Store interface {
	// Put stores data under key, replacing any object already there. When it
	// returns nil the object is durable; a crash never leaves a partial
	// object under the key. Replacing is what lets the processor write the
	// same chunk again after a redelivery.
	Put(ctx context.Context, key string, data []byte) error
	// Get returns the object under key, or an error wrapping ErrNotFound.
	Get(ctx context.Context, key string) ([]byte, error)
	// Delete removes the object under key. A missing key is not an error.
	Delete(ctx context.Context, key string) error
	// List returns the keys under prefix in lexical (byte) order. The prefix
	// is a plain string prefix, as in S3: "rec/12/00a" matches
	// "rec/12/00ab34cd56ef7890/00000001". It follows the key rules, except
	// that it may be empty (every key) or end in a slash. A prefix nothing
	// matches gives an empty list and no error.
	List(ctx context.Context, prefix string) ([]string, error)
}

// checkKey reports whether key follows the key rules documented on Store.
func checkKey(key string) error {
	if key == "" {
		return fmt.Errorf("%w: empty", ErrBadKey)
	}

	if why := keyProblem(key); why != "" {
		return fmt.Errorf("%w %q: %s", ErrBadKey, key, why)
	}

	for seg := range strings.SplitSeq(key, "/") {
		switch {
		case seg == "":
			return fmt.Errorf("%w %q: empty segment", ErrBadKey, key)
		case seg[0] == '.':
			// Dot names are where a Dir keeps its temporary files; keeping
			// keys out of them means a half-written object is never listed.
			return fmt.Errorf("%w %q: segment starts with a dot", ErrBadKey, key)
		}
	}
	return nil
}

// checkPrefix is checkKey for List: the empty prefix (everything) and one
// trailing slash are allowed as well.
func checkPrefix(prefix string) error {
	if prefix == "" {
		return nil
	}

	trimmed := strings.TrimSuffix(prefix, "/")
	if trimmed == "" {
		return fmt.Errorf("%w %q: absolute", ErrBadKey, prefix)
	}
	if err := checkKey(trimmed); err != nil {
		return fmt.Errorf("check prefix %q: %w", prefix, err)
	}
	return nil
}

// keyProblem describes what is wrong with key as a whole, or returns "".
func keyProblem(key string) string {
	switch {
	case len(key) > MaxKeyLen:
		return fmt.Sprintf("longer than %d bytes", MaxKeyLen)
	case key[0] == '/':
		return "absolute"
	case strings.Contains(key, ".."):
		// Only ".." as a whole segment could climb out of the folder, but
		// Loupe's keys never need two dots in a row, and refusing them
		// everywhere keeps the rule easy to check by eye.
		return `contains ".."`
	case strings.ContainsRune(key, '\\'):
		return "contains a backslash"
	case !utf8.ValidString(key):
		return "not valid UTF-8"
	}

	for i := 0; i < len(key); i++ {
		if key[i] < 0x20 || key[i] == 0x7f {
			return "contains a control character"
		}
	}
	return ""
}
