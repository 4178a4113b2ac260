package kafka

import (
	"context"
	"fmt"
	"testing"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/mailevents/mailevents/internal/kafkatest"
	"github.com/mailevents/mailevents/sinks"
)

// The benchmarks write batches of ~300-byte events to a local 3-broker
// cluster with required_acks = all, through the sink and, as a baseline in
// the same run, through a kafka-go Writer with the same settings given
// ready-made messages; the ratio of their events/s is the sink's cost.
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

	b.Run("kafka-go", func(b *testing.B) {
		cfg := newConfig(b).withDefaults()
		transport := &kafkago.Transport{ClientID: cfg.ClientID}
		kw := &kafkago.Writer{
			Addr:         kafkago.TCP(cfg.Brokers...),
			Topic:        cfg.Topic,
			Balancer:     kafkago.Murmur2Balancer{},
			BatchSize:    cfg.BatchSize,
			BatchBytes:   cfg.BatchBytes,
			BatchTimeout: time.Duration(cfg.BatchTimeout),
			WriteTimeout: time.Duration(cfg.WriteTimeout),
			RequiredAcks: kafkago.RequireAll,
			Compression:  codecValue(codec),
			Transport:    transport,
		}
		defer func() {
			kw.Close()
			transport.CloseIdleConnections()
		}()
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
		ctx := context.Background()
		for b.Loop() {
			if err := kw.WriteMessages(ctx, msgs...); err != nil {
				b.Fatal(fmt.Errorf("kafka-go: %w", err))
			}
		}
		report(b)
	})
}
