package kafkatest

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// consumeKgo reads topic to its current end with franz-go's client, for
// brokers kcat cannot read: librdkafka (2.0, Debian's) authenticates with
// SASL only if the broker advertises SaslHandshake v0, and kfake
// advertises it from v1. franz-go shares no code with the kafka-go
// producer under test either.
func (b *Broker) consumeKgo(ctx context.Context, topic string) ([]Message, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(b.addrs...),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	}
	if len(b.opts.SASL) > 0 {
		m, err := kgoMechanism(b.opts.SASL[0])
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.SASL(m))
	}
	if b.opts.TLS != nil {
		pem, err := os.ReadFile(b.opts.TLS.CAFile)
		if err != nil {
			return nil, fmt.Errorf("read CA: %w", err)
		}
		pool := x509.NewCertPool()
		pool.AppendCertsFromPEM(pem)
		opts = append(opts, kgo.DialTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kgo client: %w", err)
	}
	defer cl.Close()

	ends, err := endOffsets(ctx, cl, topic)
	if err != nil {
		return nil, err
	}
	byPart := map[int32][]Message{}
	done := func() bool {
		for p, end := range ends {
			if n := len(byPart[p]); end > 0 && (n == 0 || byPart[p][n-1].Offset+1 < end) {
				return false
			}
		}
		return true
	}
	for !done() {
		fetches := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("read %s: %w", topic, err)
		}
		if errs := fetches.Errors(); len(errs) > 0 {
			return nil, fmt.Errorf("fetch %s: %w", topic, errs[0].Err)
		}
		fetches.EachRecord(func(r *kgo.Record) {
			m := Message{Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, Time: r.Timestamp, Key: r.Key, Value: r.Value}
			for _, h := range r.Headers {
				m.Headers = append(m.Headers, Header{Key: h.Key, Value: string(h.Value)})
			}
			byPart[r.Partition] = append(byPart[r.Partition], m)
		})
	}
	parts := make([]int32, 0, len(byPart))
	for p := range byPart {
		parts = append(parts, p)
	}
	slices.Sort(parts)
	var msgs []Message
	for _, p := range parts {
		msgs = append(msgs, byPart[p]...)
	}
	return msgs, nil
}

// endOffsets returns each partition's high watermark.
func endOffsets(ctx context.Context, cl *kgo.Client, topic string) (map[int32]int64, error) {
	meta := kmsg.NewPtrMetadataRequest()
	mt := kmsg.NewMetadataRequestTopic()
	mt.Topic = kmsg.StringPtr(topic)
	meta.Topics = append(meta.Topics, mt)
	resp, err := meta.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("metadata %s: %w", topic, err)
	}
	if len(resp.Topics) != 1 {
		return nil, fmt.Errorf("metadata %s: %d topics in the answer", topic, len(resp.Topics))
	}
	if err := kerr.ErrorForCode(resp.Topics[0].ErrorCode); err != nil {
		return nil, fmt.Errorf("metadata %s: %w", topic, err)
	}
	lo := kmsg.NewPtrListOffsetsRequest()
	lt := kmsg.NewListOffsetsRequestTopic()
	lt.Topic = topic
	for _, p := range resp.Topics[0].Partitions {
		lp := kmsg.NewListOffsetsRequestTopicPartition()
		lp.Partition = p.Partition
		lp.Timestamp = -1 // the end
		lt.Partitions = append(lt.Partitions, lp)
	}
	lo.Topics = append(lo.Topics, lt)
	lresp, err := lo.RequestWith(ctx, cl)
	if err != nil {
		return nil, fmt.Errorf("list offsets %s: %w", topic, err)
	}
	ends := map[int32]int64{}
	for _, t := range lresp.Topics {
		for _, p := range t.Partitions {
			if err := kerr.ErrorForCode(p.ErrorCode); err != nil {
				return nil, fmt.Errorf("list offsets %s/%d: %w", topic, p.Partition, err)
			}
			ends[p.Partition] = p.Offset
		}
	}
	return ends, nil
}

func kgoMechanism(u SASLUser) (sasl.Mechanism, error) {
	switch strings.ToUpper(u.Mechanism) {
	case "PLAIN":
		return plain.Auth{User: u.User, Pass: u.Password}.AsMechanism(), nil
	case "SCRAM-SHA-256":
		return scram.Auth{User: u.User, Pass: u.Password}.AsSha256Mechanism(), nil
	case "SCRAM-SHA-512":
		return scram.Auth{User: u.User, Pass: u.Password}.AsSha512Mechanism(), nil
	}
	return nil, errors.New("unknown SASL mechanism " + u.Mechanism)
}
