package main

import (
	"fmt"

	"github.com/mailevents/mailevents/seal"
)

type keygenCmd struct {
	Out string `help:"Where to write the private key (mode 0600); the public key goes to FILE.pub. Neither may exist yet." required:"" placeholder:"FILE" type:"path"`
}

func (c *keygenCmd) Help() string {
	return `Writes a new Ed25519 key pair for sealed sinks: the private key (PKCS #8
PEM, mode 0600) for [sink.seal] key_file or --seal-key, on the host that
writes the events, and FILE.pub (PKIX PEM) for whoever audits the archive
with mailevents verify --key. openssl reads and writes the same format.

Example:
  mailevents keygen --out /etc/mailevents/seal.key
  chown mailevents /etc/mailevents/seal.key`
}

func (c *keygenCmd) Run(e env) error {
	pub, err := seal.GenerateKey(c.Out, nil)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(e.stdout, "private key: %s\npublic key:  %s.pub\nkey id:      %s\n", c.Out, c.Out, seal.KeyID(pub))
	return err
}
