package seal

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
)

// Signer signs the seals of a stream with an Ed25519 private key.
type Signer struct {
	key ed25519.PrivateKey
	id  string
}

// NewSigner returns a signer for key.
func NewSigner(key ed25519.PrivateKey) *Signer {
	return &Signer{key: key, id: KeyID(key.Public().(ed25519.PublicKey))}
}

// KeyID names the key of a seal: its public key's SHA-256, first 16 bytes
// in hex, so that an auditor holding several keys sees which one applies.
func (s *Signer) KeyID() string { return s.id }

// Public returns the public key an auditor verifies with.
func (s *Signer) Public() ed25519.PublicKey { return s.key.Public().(ed25519.PublicKey) }

// KeyID returns the id that seals signed by pub's private key carry.
func KeyID(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return hex.EncodeToString(sum[:16])
}

// GenerateKey writes a new key pair: the private key to path (PKCS #8 PEM,
// mode 0600, never over an existing file) and the public key to path+".pub"
// (PKIX PEM), the format openssl reads and writes.
func GenerateKey(path string, random io.Reader) (ed25519.PublicKey, error) {
	if random == nil {
		random = rand.Reader
	}
	pub, priv, err := ed25519.GenerateKey(random)
	if err != nil {
		return nil, fmt.Errorf("generating an Ed25519 key: %w", err)
	}
	privDER, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encoding the private key: %w", err)
	}
	pubDER, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return nil, fmt.Errorf("encoding the public key: %w", err)
	}
	// The public key first: if it cannot be written, no private key is
	// left behind without its public half.
	if err := writeNew(path+".pub", pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}), 0o644); err != nil {
		return nil, err
	}
	if err := writeNew(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: privDER}), 0o600); err != nil {
		_ = os.Remove(path + ".pub")
		return nil, err
	}
	return pub, nil
}

// writeNew creates path with data, failing if it exists: overwriting a
// sealing key would orphan every seal made with it.
func writeNew(path string, data []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return fmt.Errorf("writing key: %w", err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("writing key %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("writing key %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return fmt.Errorf("writing key %s: %w", path, err)
	}
	return nil
}

// ErrKeyMode is wrapped by LoadSigner's error for a private key file that
// others than its owner may read.
var ErrKeyMode = errors.New("a private key file must be readable by its owner only (chmod 600)")

// LoadSigner reads a private key file: PKCS #8 PEM ("PRIVATE KEY", what
// keygen and `openssl genpkey -algorithm ed25519` write) holding an Ed25519
// key. The file must have no permission for group or others.
func LoadSigner(path string) (*Signer, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("seal key: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("seal key: %w", err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("seal key %s has mode %04o: %w", path, perm, ErrKeyMode)
	}
	data, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("seal key %s: %w", path, err)
	}
	key, err := parsePrivate(data)
	if err != nil {
		return nil, fmt.Errorf("seal key %s: %w", path, err)
	}
	return NewSigner(key), nil
}

func parsePrivate(data []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("not a PEM \"PRIVATE KEY\" (PKCS #8) file")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("parsing the private key: %w", err)
	}
	key, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("a %T key, not Ed25519", k)
	}
	return key, nil
}

// LoadPublicKey reads what an auditor verifies with: a PKIX PEM "PUBLIC
// KEY" file (keygen's FILE.pub), or a private key file, whose public half
// is used.
func LoadPublicKey(path string) (ed25519.PublicKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("public key: %w", err)
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("public key %s: not a PEM file", path)
	}
	switch block.Type {
	case "PUBLIC KEY":
		k, err := x509.ParsePKIXPublicKey(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("public key %s: %w", path, err)
		}
		pub, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("public key %s: a %T key, not Ed25519", path, k)
		}
		return pub, nil
	case "PRIVATE KEY":
		key, err := parsePrivate(data)
		if err != nil {
			return nil, fmt.Errorf("public key %s: %w", path, err)
		}
		return key.Public().(ed25519.PublicKey), nil
	}
	return nil, fmt.Errorf("public key %s: a PEM %q block, want \"PUBLIC KEY\"", path, block.Type)
}

// sign signs msg itself: Ed25519 needs no prehash.
func (s *Signer) sign(msg []byte) []byte { return ed25519.Sign(s.key, msg) }
