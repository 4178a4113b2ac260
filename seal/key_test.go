package seal

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestGenerateKey(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "seal.key")
	pub, err := GenerateKey(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for file, mode := range map[string]os.FileMode{path: 0o600, path + ".pub": 0o644} {
		fi, err := os.Stat(file)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != mode {
			t.Errorf("%s has mode %v, want %v", file, fi.Mode().Perm(), mode)
		}
	}
	s, err := LoadSigner(path)
	if err != nil {
		t.Fatal(err)
	}
	fromPub, err := LoadPublicKey(path + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	fromPriv, err := LoadPublicKey(path)
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(s.Public()) || !pub.Equal(fromPub) || !pub.Equal(fromPriv) || s.KeyID() != KeyID(pub) || len(s.KeyID()) != 32 {
		t.Fatal("the key files do not hold one key pair")
	}
	before, _ := os.ReadFile(path)
	if _, err := GenerateKey(path, nil); err == nil {
		t.Fatal("GenerateKey overwrote a key")
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Fatal("a refused GenerateKey changed the key")
	}
	if _, err := GenerateKey(filepath.Join(dir, "missing", "k"), nil); err == nil {
		t.Fatal("GenerateKey into a missing directory succeeded")
	}
}

// A private key others may read is refused: whoever reads it can forge
// seals.
func TestLoadSignerMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k")
	if _, err := GenerateKey(path, nil); err != nil {
		t.Fatal(err)
	}
	for _, mode := range []os.FileMode{0o640, 0o604, 0o660} {
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		if _, err := LoadSigner(path); !errors.Is(err, ErrKeyMode) {
			t.Errorf("mode %v: %v, want ErrKeyMode", mode, err)
		}
	}
	if err := os.Chmod(path, 0o400); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSigner(path); err != nil {
		t.Errorf("mode 0400: %v", err)
	}
}

// The example key of RFC 8410 §10.3, which openssl writes in the same form.
const rfc8410Key = `-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC
-----END PRIVATE KEY-----
`

func TestForeignKeys(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	s, err := LoadSigner(write("rfc8410", rfc8410Key))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Public()) != 32 {
		t.Fatalf("public key of %d bytes", len(s.Public()))
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(&ec.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string]string{
		"ecdsa":     string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"ecdsa.pub": string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})),
		"not pem":   "hello",
		"cert":      "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
	} {
		p := write(name, data)
		if _, err := LoadSigner(p); err == nil {
			t.Errorf("LoadSigner accepted %s", name)
		}
		if _, err := LoadPublicKey(p); err == nil {
			t.Errorf("LoadPublicKey accepted %s", name)
		}
	}
}
