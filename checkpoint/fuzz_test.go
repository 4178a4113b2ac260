package checkpoint

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzOpen feeds Open arbitrary file contents. Open must never panic and
// must either load or return a *CorruptError; a loaded store must save and
// load again to the same content (nothing the strict reader accepts is
// lost or changed by the writer).
func FuzzOpen(f *testing.F) {
	f.Add([]byte(doc(``, ``)))
	f.Add([]byte(doc(entry(`,"offset":10,"line":3,"cursor":"s=1"`), `"mapping":"AQI="`)))
	f.Add([]byte(doc(entry(`,"offset":1`)+`,`+entry(`,"offset":2`), ``)))
	f.Add([]byte(`{"version":1,"files":[{"path":"/a\u00e9","dev":18446744073709551615,"inode":0,"head_bytes":0,` + sha + `,"offset":0}],"state":{"a":"/w=="}}`))
	f.Add([]byte(`{"version":1,"version":2}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "in.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(path)
		if err != nil {
			var ce *CorruptError
			if !errors.As(err, &ce) {
				t.Fatalf("Open error is not a *CorruptError: %v", err)
			}
			return
		}
		files, state := contentsOf(s).Files, contentsOf(s).State
		b, err := encode(files, state)
		if err != nil {
			t.Fatalf("encode a loaded store: %v", err)
		}
		out := filepath.Join(dir, "out.json")
		if err := os.WriteFile(out, b, 0o600); err != nil { // Save's fsyncs would only slow the fuzzer
			t.Fatal(err)
		}
		again, err := Open(out)
		if err != nil {
			t.Fatalf("reload of a saved store: %v\n%s", err, b)
		}
		if diff := cmp.Diff(contentsOf(s), contentsOf(again), cmpEmpty); diff != "" {
			t.Fatalf("content changed by save and reload (-loaded +reloaded):\n%s", diff)
		}
	})
}
