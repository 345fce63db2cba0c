package enrich

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"gopkg.in/yaml.v3"
)

// corpusDir is the shared test corpus, relative to this package.
const corpusDir = "../../../shared/corpus"

// corpusPath returns the path of a corpus file. A missing file skips the
// test, except in CI, where it fails it.
func corpusPath(t testing.TB, rel string) string {
	t.Helper()

	path := filepath.Join(corpusDir, filepath.FromSlash(rel))
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("corpus file missing: %v", err)
		}
		t.Skipf("corpus file missing: %v", err)
	}
	return path
}

// readCorpus returns the bytes of a corpus file.
func readCorpus(t testing.TB, rel string) []byte {
	t.Helper()

	data, err := os.ReadFile(corpusPath(t, rel))
	if err != nil {
		t.Fatalf("read corpus: %v", err)
	}
	return data
}

// readCorpusYAML decodes a YAML corpus file into v.
func readCorpusYAML(t testing.TB, rel string, v any) {
	t.Helper()

	if err := yaml.Unmarshal(readCorpus(t, rel), v); err != nil {
		t.Fatalf("decode %s: %v", rel, err)
	}
}

// readCorpusJSON decodes a JSON corpus file into v.
func readCorpusJSON(t testing.TB, rel string, v any) {
	t.Helper()

	if err := json.Unmarshal(readCorpus(t, rel), v); err != nil {
		t.Fatalf("decode %s: %v", rel, err)
	}
}

// percent returns part as a percentage of whole.
func percent(part, whole int) float64 {
	if whole == 0 {
		return 0
	}
	return 100 * float64(part) / float64(whole)
}
