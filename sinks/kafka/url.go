package kafka

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ParseURL parses the command-line form of a Kafka sink,
//
//	kafka://HOST:PORT[,HOST:PORT...]/TOPIC[?compression=zstd&key=mailbox&acks=all&client_id=NAME]
//
// into a Config whose other fields keep their defaults. A missing port is
// 9092. TLS and SASL need the config file: a URL ends up in shell history
// and ps(1), where no secret belongs. The result is validated.
func ParseURL(raw string) (Config, error) {
	c, err := parseURL(raw)
	if err != nil {
		return Config{}, fmt.Errorf("kafka URL %q: %w", raw, err)
	}
	if err := c.Validate(); err != nil {
		return Config{}, fmt.Errorf("kafka URL %q: %w", raw, err)
	}
	return c, nil
}

func parseURL(raw string) (Config, error) {
	const scheme = "kafka://"
	if len(raw) < len(scheme) || !strings.EqualFold(raw[:len(scheme)], scheme) {
		return Config{}, errors.New(`scheme is not "kafka://"`)
	}
	rest := raw[len(scheme):]
	if strings.Contains(rest, "#") {
		return Config{}, errors.New("a fragment (#) has no meaning here")
	}
	rest, query, hasQuery := strings.Cut(rest, "?")
	hosts, topic, ok := strings.Cut(rest, "/")
	if !ok || topic == "" {
		return Config{}, errors.New("no topic; want kafka://HOST:PORT/TOPIC")
	}
	if strings.Contains(topic, "/") {
		return Config{}, fmt.Errorf("topic %q has a '/'; want kafka://HOST:PORT/TOPIC", topic)
	}
	if hosts == "" {
		return Config{}, errors.New("no broker; want kafka://HOST:PORT/TOPIC")
	}

	var c Config
	for h := range strings.SplitSeq(hosts, ",") {
		if h == "" {
			return Config{}, fmt.Errorf("empty broker in %q", hosts)
		}
		if strings.Contains(h, "@") {
			return Config{}, errors.New("credentials do not belong in the URL; use sasl in the config file")
		}
		if _, _, err := net.SplitHostPort(h); err != nil {
			// No port: Kafka's well-known one. An IPv6 literal needs
			// brackets either way, as in any URL.
			h = net.JoinHostPort(strings.Trim(h, "[]"), "9092")
		}
		c.Brokers = append(c.Brokers, h)
	}
	c.Topic = topic

	if !hasQuery {
		return c, nil
	}
	params, err := url.ParseQuery(query)
	if err != nil {
		return Config{}, fmt.Errorf("query: %w", err)
	}
	for _, name := range sortedKeys(flatten(params)) {
		vs := params[name]
		if len(vs) != 1 {
			return Config{}, fmt.Errorf("parameter %q is given %d times", name, len(vs))
		}
		v := vs[0]
		switch name {
		case "compression":
			c.Compression = v
		case "key":
			c.Key = v
		case "acks":
			c.RequiredAcks = v
		case "client_id":
			c.ClientID = v
		default:
			return Config{}, fmt.Errorf("unknown parameter %q; known: compression, key, acks, client_id", name)
		}
		if v == "" {
			return Config{}, fmt.Errorf("parameter %q is empty", name)
		}
	}
	return c, nil
}

// flatten exists so parameters are checked in a stable order, and so the
// first error for a given URL is always the same one.
func flatten(v url.Values) map[string]string {
	m := make(map[string]string, len(v))
	for k := range v {
		m[k] = ""
	}
	return m
}
