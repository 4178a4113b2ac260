package kafka

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/mailevents/mailevents/internal/kafkatest"
	"github.com/mailevents/mailevents/sinks"
)

// The benchmarks write batches of ~350-byte events to a local 3-broker
// cluster with required_acks = all, through the sink and, as baselines in
// the same run, given ready-made messages with the same headers:
//
//   - produce: kafka-go's Client.Produce, one request per partition, all
//     at once; what the sink does, so the ratio of their events/s is the
//     sink's own cost (encoding, copying, bookkeeping);
//   - kafka-go: kafka-go's Writer, with the sink's batch_size and
//     batch_bytes and a 5ms BatchTimeout, which every synchronous
//     WriteMessages call waits out for the last partial batch of each
//     partition (kafka-go's default is 1s).
//
//	go test -run '^$' -bench 'BenchmarkWrite' -benchtime 3s ./sinks/kafka/

func BenchmarkWriteZstd(b *testing.B) { benchmarkWrite(b, "zstd") }
func BenchmarkWriteNone(b *testing.B) { benchmarkWrite(b, "none") }

const benchBatch = 512 // the pipeline's default batch size

func benchmarkWrite(b *testing.B, codec string) {
	br := kafkatest.StartBroker(b, kafkatest.Options{})
	users := []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi"}
	batch := make([]sinks.Record, benchBatch)
	size := 0
	for i := range batch {
		batch[i] = testEvent(users[i%len(users)], "MessageNew", "INBOX", i)
		size += len(batch[i].Value)
	}
	newConfig := func(b *testing.B) Config {
		topic := kafkatest.TopicName(b)
		br.CreateTopic(b, topic, 3, nil)
		cfg := baseConfig(br, topic)
		cfg.Compression = codec
		return cfg
	}
	report := func(b *testing.B) {
		b.ReportMetric(float64(b.N*len(batch))/b.Elapsed().Seconds(), "events/s")
		b.ReportMetric(float64(size)/float64(len(batch)), "B/event")
	}

	b.Run("sink", func(b *testing.B) {
		w := mustOpen(b, newConfig(b), Options{})
		ctx := context.Background()
		for b.Loop() {
			if err := w.Write(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
		report(b)
	})

	b.Run("produce", func(b *testing.B) {
		cfg := newConfig(b).withDefaults()
		transport := &kafkago.Transport{ClientID: cfg.ClientID}
		defer transport.CloseIdleConnections()
		client := &kafkago.Client{Addr: kafkago.TCP(cfg.Brokers...), Timeout: time.Duration(cfg.WriteTimeout), Transport: transport}
		ctx := context.Background()
		md, err := client.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{cfg.Topic}})
		if err != nil || len(md.Topics) != 1 || md.Topics[0].Error != nil {
			b.Fatalf("metadata: %v %+v", err, md)
		}
		parts := make([]int, len(md.Topics[0].Partitions))
		for i := range parts {
			parts[i] = i
		}
		byPart := make([][]kafkago.Record, len(parts))
		for _, m := range benchMessages(batch) {
			p := kafkago.Murmur2Balancer{}.Balance(m, parts...)
			byPart[p] = append(byPart[p], kafkago.Record{
				Time: m.Time, Key: kafkago.NewBytes(m.Key), Value: kafkago.NewBytes(m.Value), Headers: m.Headers,
			})
		}
		errs := make([]error, len(parts))
		for b.Loop() {
			var wg sync.WaitGroup
			for p, recs := range byPart {
				if len(recs) == 0 {
					continue
				}
				wg.Go(func() {
					for _, r := range recs { // a Bytes is read once: rewind it
						r.Key.(io.Seeker).Seek(0, io.SeekStart)
						r.Value.(io.Seeker).Seek(0, io.SeekStart)
					}
					res, err := client.Produce(ctx, &kafkago.ProduceRequest{
						Topic: cfg.Topic, Partition: p, RequiredAcks: kafkago.RequireAll,
						Compression: codecValue(codec), Records: kafkago.NewRecordReader(recs...),
					})
					if err == nil {
						err = res.Error
					}
					errs[p] = err
				})
			}
			wg.Wait()
			if err := errors.Join(errs...); err != nil {
				b.Fatal(fmt.Errorf("produce: %w", err))
			}
		}
		report(b)
	})

	b.Run("kafka-go", func(b *testing.B) {
		cfg := newConfig(b).withDefaults()
		transport := &kafkago.Transport{ClientID: cfg.ClientID}
		kw := &kafkago.Writer{
			Addr:         kafkago.TCP(cfg.Brokers...),
			Topic:        cfg.Topic,
			Balancer:     kafkago.Murmur2Balancer{},
			BatchSize:    cfg.BatchSize,
			BatchBytes:   cfg.BatchBytes,
			BatchTimeout: 5 * time.Millisecond, // the sink's default when it wrote through a Writer
			WriteTimeout: time.Duration(cfg.WriteTimeout),
			RequiredAcks: kafkago.RequireAll,
			Compression:  codecValue(codec),
			Transport:    transport,
		}
		defer func() {
			kw.Close()
			transport.CloseIdleConnections()
		}()
		msgs := benchMessages(batch)
		ctx := context.Background()
		for b.Loop() {
			if err := kw.WriteMessages(ctx, msgs...); err != nil {
				b.Fatal(fmt.Errorf("kafka-go: %w", err))
			}
		}
		report(b)
	})
}

// benchMessages are batch as the sink would send them, made in advance.
func benchMessages(batch []sinks.Record) []kafkago.Message {
	msgs := make([]kafkago.Message, len(batch))
	for i, rec := range batch {
		msgs[i] = kafkago.Message{
			Key: rec.Key, Value: rec.Value, Time: rec.Time,
			Headers: []kafkago.Header{
				{Key: HeaderType, Value: []byte(rec.Type)},
				{Key: HeaderID, Value: []byte(rec.ID)},
				{Key: HeaderHost, Value: []byte("mail.example.org")},
			},
		}
	}
	return msgs
}
