// Command kfakebroker runs an in-memory Kafka cluster (franz-go's kfake) as a
// process of its own, so that tests can kill it with SIGKILL and start it
// again on the same ports and data directory, as they would a real broker.
//
// It prints "ready" followed by the listen addresses on one line of standard
// output once every broker listens, and exits on SIGTERM or SIGINT.
//
//	kfakebroker -listen 127.0.0.1:9092,127.0.0.1:9093,127.0.0.1:9094 \
//	    -data-dir /tmp/kfake -partitions 3 -topic events \
//	    -sasl PLAIN:alice:secret -tls-cert cert.pem -tls-key key.pem
package main

import (
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/twmb/franz-go/pkg/kfake"
)

// listFlag collects a repeatable or comma-separated flag.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			*l = append(*l, part)
		}
	}
	return nil
}

type options struct {
	listen     listFlag
	dataDir    string
	syncWrites bool
	partitions int
	topics     listFlag
	sasl       listFlag // METHOD:USER:PASSWORD
	tlsCert    string
	tlsKey     string
	configs    listFlag // key=value broker configs
	logLevel   string
}

func main() {
	var o options
	fs := flag.NewFlagSet("kfakebroker", flag.ExitOnError)
	fs.Var(&o.listen, "listen", "`host:port` to listen on, one broker each (repeatable or comma-separated); default one broker on a random port")
	fs.StringVar(&o.dataDir, "data-dir", "", "persist the cluster's state in `dir`, so it survives a kill and restart")
	fs.BoolVar(&o.syncWrites, "sync", false, "fsync every write (survives a machine crash, not only a process kill)")
	fs.IntVar(&o.partitions, "partitions", 3, "partitions of seeded and auto-created topics")
	fs.Var(&o.topics, "topic", "`topic` to create at start (repeatable or comma-separated)")
	fs.Var(&o.sasl, "sasl", "require SASL and add the superuser `METHOD:USER:PASSWORD` (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512; repeatable)")
	fs.StringVar(&o.tlsCert, "tls-cert", "", "serve TLS with this PEM certificate `file` (needs -tls-key)")
	fs.StringVar(&o.tlsKey, "tls-key", "", "PEM private key `file` for -tls-cert")
	fs.Var(&o.configs, "config", "broker config `key=value` (repeatable), e.g. message.max.bytes=2000")
	fs.StringVar(&o.logLevel, "log-level", "none", "kfake log level on stderr: none, error, warn, info, debug")
	_ = fs.Parse(os.Args[1:]) // ExitOnError

	c, err := start(o)
	if err != nil {
		fmt.Fprintln(os.Stderr, "kfakebroker:", err)
		os.Exit(1)
	}
	// Register before printing ready, so a SIGTERM sent the moment a test
	// sees the line is not lost to the default handler.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, os.Interrupt)
	fmt.Println("ready", strings.Join(c.ListenAddrs(), ","))
	<-sigs
	// Close persists what is buffered, the orderly counterpart of SIGKILL.
	c.Close()
}

func start(o options) (*kfake.Cluster, error) {
	opts := []kfake.Opt{
		kfake.DefaultNumPartitions(o.partitions),
		kfake.AllowAutoTopicCreation(),
		kfake.WithLogger(kfake.BasicLogger(os.Stderr, logLevel(o.logLevel))),
	}
	if len(o.listen) > 0 {
		ports := make([]int, len(o.listen))
		for i, addr := range o.listen {
			host, port, err := net.SplitHostPort(addr)
			if err != nil {
				return nil, fmt.Errorf("-listen %q: %w", addr, err)
			}
			if ports[i], err = strconv.Atoi(port); err != nil {
				return nil, fmt.Errorf("-listen %q: port: %w", addr, err)
			}
			if host != "127.0.0.1" {
				// kfake binds every broker on 127.0.0.1; accepting another host
				// would advertise an address nobody listens on.
				return nil, fmt.Errorf("-listen %q: only 127.0.0.1 is supported", addr)
			}
		}
		opts = append(opts, kfake.NumBrokers(len(ports)), kfake.Ports(ports...))
	}
	if o.dataDir != "" {
		opts = append(opts, kfake.DataDir(o.dataDir))
	}
	if o.syncWrites {
		opts = append(opts, kfake.SyncWrites())
	}
	if len(o.topics) > 0 {
		opts = append(opts, kfake.SeedTopics(int32(o.partitions), o.topics...))
	}
	if len(o.sasl) > 0 {
		opts = append(opts, kfake.EnableSASL())
		for _, s := range o.sasl {
			method, rest, ok1 := strings.Cut(s, ":")
			user, pass, ok2 := strings.Cut(rest, ":")
			if !ok1 || !ok2 || user == "" {
				return nil, fmt.Errorf("-sasl %q: want METHOD:USER:PASSWORD", s)
			}
			opts = append(opts, kfake.Superuser(strings.ToUpper(method), user, pass))
		}
	}
	if (o.tlsCert == "") != (o.tlsKey == "") {
		return nil, errors.New("-tls-cert and -tls-key go together")
	}
	if o.tlsCert != "" {
		cert, err := tls.LoadX509KeyPair(o.tlsCert, o.tlsKey)
		if err != nil {
			return nil, fmt.Errorf("load TLS key pair: %w", err)
		}
		opts = append(opts, kfake.TLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}))
	}
	if len(o.configs) > 0 {
		m := make(map[string]string, len(o.configs))
		for _, kv := range o.configs {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				return nil, fmt.Errorf("-config %q: want key=value", kv)
			}
			m[k] = v
		}
		opts = append(opts, kfake.BrokerConfigs(m))
	}
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		return nil, fmt.Errorf("start cluster: %w", err)
	}
	return c, nil
}

func logLevel(s string) kfake.LogLevel {
	switch strings.ToLower(s) {
	case "debug":
		return kfake.LogLevelDebug
	case "info":
		return kfake.LogLevelInfo
	case "warn":
		return kfake.LogLevelWarn
	case "error":
		return kfake.LogLevelError
	}
	return kfake.LogLevelNone
}
