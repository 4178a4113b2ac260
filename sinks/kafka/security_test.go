package kafka

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/mailevents/mailevents/internal/kafkatest"
	"github.com/mailevents/mailevents/sinks"
)

func TestSASL(t *testing.T) {
	users := []kafkatest.SASLUser{
		{Mechanism: "PLAIN", User: "alice", Password: "alice-secret"},
		{Mechanism: "SCRAM-SHA-256", User: "bob", Password: "bob-secret"},
		{Mechanism: "SCRAM-SHA-512", User: "carol", Password: "carol-secret"},
	}
	topic := kafkatest.TopicName(t)
	b := kafkatest.StartBroker(t, kafkatest.Options{SASL: users, Topics: []string{topic}})
	dir := t.TempDir()

	var want int
	for i, u := range users {
		for _, wrong := range []bool{false, true} {
			name := u.Mechanism
			if wrong {
				name += "/wrong password"
			}
			t.Run(name, func(t *testing.T) {
				pass := u.Password
				if wrong {
					pass = "not-" + pass
				}
				cfg := baseConfig(b, topic)
				cfg.SASL = SASLConfig{Mechanism: u.Mechanism, Username: u.User}
				// Both secret sources: a file for even users, the environment for odd.
				if i%2 == 0 {
					cfg.SASL.PasswordFile = filepath.Join(dir, fmt.Sprintf("%d-%v.pw", i, wrong))
					if err := os.WriteFile(cfg.SASL.PasswordFile, []byte(pass+"\n"), 0o600); err != nil {
						t.Fatal(err)
					}
				} else {
					cfg.SASL.PasswordEnv = "MAILEVENTS_TEST_KAFKA_PASSWORD"
					t.Setenv(cfg.SASL.PasswordEnv, pass)
				}
				w := mustOpen(t, cfg, Options{Logger: testLogger(t)})
				batch := []sinks.Record{testEvent(u.User, "Login", "", i), testEvent(u.User, "Logout", "", i)}
				// kfake drops the connection on a bad password where Kafka
				// answers SASL_AUTHENTICATION_FAILED, which ends Write at once;
				// a dropped connection is retried until the context ends.
				timeout := 20 * time.Second
				if wrong {
					timeout = 2 * time.Second
				}
				ctx, cancel := context.WithTimeout(context.Background(), timeout)
				defer cancel()
				err := w.Write(ctx, batch)
				if wrong {
					if err == nil {
						t.Fatal("Write with a wrong password succeeded")
					}
					t.Logf("wrong password: %v", err)
					return
				}
				if err != nil {
					t.Fatalf("Write: %v", err)
				}
				want += len(batch)
				seen := ids(t, b.Consume(t, topic))
				for _, rec := range batch {
					if seen[rec.ID] != 1 {
						t.Errorf("record %s read %d times, want once", rec.ID, seen[rec.ID])
					}
				}
			})
		}
	}
	if got := len(b.Consume(t, topic)); got != want {
		t.Errorf("topic holds %d records, want %d: a refused Write left records behind", got, want)
	}
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	ca := writeCA(t, dir, "ca")
	other := writeCA(t, dir, "other-ca")
	certFile, keyFile := ca.issue(t, dir, "broker")
	topic := kafkatest.TopicName(t)

	for _, withSASL := range []bool{false, true} {
		opts := kafkatest.Options{Topics: []string{topic}, TLS: &kafkatest.TLSFiles{CertFile: certFile, KeyFile: keyFile, CAFile: ca.file}}
		name := "tls"
		if withSASL {
			name = "tls+sasl"
			opts.SASL = []kafkatest.SASLUser{{Mechanism: "SCRAM-SHA-256", User: "dave", Password: "dave-secret"}}
		}
		t.Run(name, func(t *testing.T) {
			b := kafkatest.StartBroker(t, opts)
			cfg := baseConfig(b, topic)
			cfg.TLS = TLSConfig{Enable: true, CAFile: ca.file}
			if withSASL {
				cfg.SASL = SASLConfig{Mechanism: "scram-sha-256", Username: "dave", PasswordEnv: "MAILEVENTS_TEST_KAFKA_PASSWORD"}
				t.Setenv(cfg.SASL.PasswordEnv, "dave-secret")
			}
			w := mustOpen(t, cfg, Options{Logger: testLogger(t)})
			batch := []sinks.Record{testEvent("alice", "MessageNew", "INBOX", 1), deadLetter(2)}
			mustWrite(t, w, batch)
			var got []string
			for _, m := range b.Consume(t, topic) {
				got = append(got, string(m.Value))
			}
			want := []string{string(batch[0].Value), string(batch[1].Value)}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("read back %q, want %q", got, want)
			}

			// A broker whose certificate the configured CA did not sign.
			cfg.TLS.CAFile = other.file
			untrusting := mustOpen(t, cfg, Options{Logger: testLogger(t)})
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			if err := untrusting.Write(ctx, batch); err == nil {
				t.Fatal("Write succeeded with a CA that did not sign the broker's certificate")
			} else {
				t.Logf("untrusted broker: %v", err)
			}
		})
	}
}

// testCA is a certificate authority made for one test.
type testCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	file string // PEM certificate
}

func writeCA(t *testing.T, dir, name string) testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, name+".pem")
	writePEM(t, file, "CERTIFICATE", der)
	return testCA{cert: cert, key: key, file: file}
}

// issue makes a server certificate for 127.0.0.1 signed by ca.
func (ca testCA) issue(t *testing.T, dir, name string) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
	writePEM(t, certFile, "CERTIFICATE", der)
	writePEM(t, keyFile, "PRIVATE KEY", keyDER)
	return certFile, keyFile
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}
