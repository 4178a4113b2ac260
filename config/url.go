package config

import (
	"fmt"
	"path/filepath"
	"strings"

	"github.com/mailevents/mailevents/seal"
	"github.com/mailevents/mailevents/sinks/kafka"
)

// SinkFromURL turns a command line's --output into a sink:
//
//   - stdout
//     file:PATH                             a file sink, fsync per batch
//     kafka://HOST:PORT[,HOST:PORT]/TOPIC   a Kafka sink (see kafka.ParseURL)
//
// TLS, SASL and the other settings of a sink need the config file, so that
// no secret is ever on a command line.
func SinkFromURL(raw string) (Sink, error) {
	switch {
	case raw == "-":
		return Sink{Name: "stdout", Type: SinkStdout}, nil
	case strings.HasPrefix(raw, "file:"):
		path := strings.TrimPrefix(raw, "file:")
		if path == "" {
			return Sink{}, fmt.Errorf("output %q: file: needs a path", raw)
		}
		abs, err := filepath.Abs(path)
		if err != nil {
			return Sink{}, fmt.Errorf("output %q: %w", raw, err)
		}
		return Sink{Name: "file:" + abs, Type: SinkFile, Path: abs, Sync: "batch"}, nil
	case strings.HasPrefix(raw, "kafka://"):
		kc, err := kafka.ParseURL(raw)
		if err != nil {
			return Sink{}, fmt.Errorf("output %q: %w", raw, err)
		}
		return Sink{Name: "kafka", Type: SinkKafka, Kafka: &kc}, nil
	default:
		return Sink{}, fmt.Errorf("output %q: want -, file:PATH or kafka://HOST:PORT/TOPIC", raw)
	}
}

// OutputSinks turns a command line's --output URLs into validated sinks:
// stdout when there are none, each sealed with sealKey when it is set.
func OutputSinks(urls []string, sealKey string) ([]Sink, error) {
	if len(urls) == 0 {
		urls = []string{"-"}
	}
	var out []Sink
	for _, u := range urls {
		s, err := SinkFromURL(u)
		if err != nil {
			return nil, err
		}
		if sealKey != "" {
			s.Seal = &Seal{KeyFile: sealKey, Interval: Duration(seal.DefaultInterval)}
		}
		out = append(out, s)
	}
	if err := ValidateSinks(out); err != nil {
		return nil, err
	}
	return out, nil
}

// ValidateSinks checks sinks built from the command line as a file's would
// be, naming each by its URL.
func ValidateSinks(sinks []Sink) error {
	var ps []Problem
	for i := range sinks {
		ps = append(ps, sinks[i].validate(fmt.Sprintf("output[%d]", i+1))...)
	}
	if len(ps) > 0 {
		return &Error{File: "command line", Problems: ps}
	}
	return nil
}
