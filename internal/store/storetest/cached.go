package storetest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"loupe.dev/loupe/internal/store"
)

// SeededFile returns the path of a SQLite file seeded with opts, and what
// it holds. The file is kept in the temporary folder under a name made of
// the seed's version, the options and the schema, so only the first run of
// a benchmark pays for the seeding (minutes for a million clicks). logf, if
// not nil, is told when seeding starts.
func SeededFile(ctx context.Context, opts SeedOptions, logf func(string, ...any)) (string,
	SeedSummary, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%d %+v %s", SeedVersion, opts, store.SchemaDigest())
	path := filepath.Join(os.TempDir(), "loupe-bench-"+hex.EncodeToString(h.Sum(nil))[:16]+".db")
	var sum SeedSummary
	if data, err := os.ReadFile(path + ".json"); err == nil {
		if err := json.Unmarshal(data, &sum); err == nil {
			return path, sum, nil
		}
	}
	if logf != nil {
		logf("seeding %s once", path)
	}
	tmp := fmt.Sprintf("%s.%d.tmp", path, os.Getpid())
	st, err := store.OpenSQLite(ctx, tmp)
	if err != nil {
		return "", sum, err
	}
	sum, err = Seed(ctx, st, opts)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return "", sum, err
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", sum, err
	}
	data, err := json.Marshal(sum)
	if err != nil {
		return "", sum, err
	}
	return path, sum, os.WriteFile(path+".json", data, 0o644)
}
