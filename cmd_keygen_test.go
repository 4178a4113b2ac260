package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mailevents/mailevents/seal"
)

func TestKeygen(t *testing.T) {
	key := filepath.Join(t.TempDir(), "seal.key")
	code, out, errOut := runCLI(t, "", "keygen", "--out", key)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	pub, err := seal.LoadPublicKey(key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := seal.LoadSigner(key); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "key id:      "+seal.KeyID(pub)) {
		t.Errorf("output %q lacks the key id", out)
	}
	if fi, _ := os.Stat(key); fi.Mode().Perm() != 0o600 {
		t.Errorf("private key mode %v", fi.Mode().Perm())
	}
	// A second run must not replace the key that earlier seals need.
	if code, _, errOut := runCLI(t, "", "keygen", "--out", key); code != exitRuntime || !strings.Contains(errOut, "exists") {
		t.Errorf("keygen over an existing key: exit %d, %q", code, errOut)
	}
	if code, _, _ := runCLI(t, "", "keygen"); code != exitUsage {
		t.Errorf("keygen without --out: exit %d", code)
	}
}
