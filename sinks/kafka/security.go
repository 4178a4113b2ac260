package kafka

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"
)

// load builds the TLS configuration, or nil when TLS is off.
func (t TLSConfig) load() (*tls.Config, error) {
	if !t.Enable {
		return nil, nil
	}
	tc := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         t.ServerName,
		InsecureSkipVerify: t.InsecureSkipVerify, // opt-in and documented as for tests
	}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("tls.ca_file %s: no PEM certificate in it", t.CAFile)
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("tls.cert_file/key_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// load reads the password and builds the mechanism, or nil when SASL is off.
func (s SASLConfig) load() (sasl.Mechanism, error) {
	if s.Mechanism == "" {
		return nil, nil
	}
	pass, err := s.password()
	if err != nil {
		return nil, err
	}
	switch strings.ToLower(s.Mechanism) {
	case "plain":
		return plain.Mechanism{Username: s.Username, Password: pass}, nil
	case "scram-sha-256":
		m, err := scram.Mechanism(scram.SHA256, s.Username, pass)
		if err != nil {
			return nil, fmt.Errorf("sasl: %w", err)
		}
		return m, nil
	case "scram-sha-512":
		m, err := scram.Mechanism(scram.SHA512, s.Username, pass)
		if err != nil {
			return nil, fmt.Errorf("sasl: %w", err)
		}
		return m, nil
	}
	return nil, fmt.Errorf("sasl.mechanism: unknown mechanism %q", s.Mechanism)
}

func (s SASLConfig) password() (string, error) {
	if s.PasswordEnv != "" {
		v, ok := os.LookupEnv(s.PasswordEnv)
		if !ok {
			return "", fmt.Errorf("sasl.password_env: environment variable %s is not set", s.PasswordEnv)
		}
		if v == "" {
			return "", fmt.Errorf("sasl.password_env: environment variable %s is empty", s.PasswordEnv)
		}
		return v, nil
	}
	b, err := os.ReadFile(s.PasswordFile)
	if err != nil {
		return "", fmt.Errorf("sasl.password_file: %w", err)
	}
	// Editors and `echo secret > file` add a newline that is not part of
	// the password.
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) == 0 {
		return "", errors.New("sasl.password_file " + s.PasswordFile + ": empty")
	}
	return string(b), nil
}
