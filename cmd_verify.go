package main

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"time"

	kafkago "github.com/segmentio/kafka-go"

	"github.com/mailevents/mailevents/seal"
	"github.com/mailevents/mailevents/sinks/kafka"
	"github.com/mailevents/mailevents/source"
)

type verifyCmd struct {
	Key   []string `help:"Public key whose seals are trusted (keygen's FILE.pub, PEM); repeat it for the keys of earlier years." required:"" placeholder:"PUB" type:"path"`
	Input []string `sep:"none" help:"Also read a Kafka topic, kafka://HOST:PORT[,HOST:PORT]/TOPIC: every partition from its first offset to its high-water mark; repeatable." placeholder:"URL"`
	JSON  bool     `help:"Print the report as one JSON object, for scripts."`
	Live  bool     `help:"The streams are still being written: events after the last seal, and a last seal that is not final, are notes instead of problems."`
	Files []string `arg:"" optional:"" help:"Archive files, plain or gzip; '-' (or nothing, without --input) reads stdin." placeholder:"FILE"`
}

func (c *verifyCmd) Help() string {
	return `Reads sealed events (a sink with [sink.seal], or --seal-key) and checks, per
stream, every chain link and every seal. It reports events missing (gaps, or a
truncation that a seal reveals), events out of order within a file or
partition, events or chain values that were changed, seals that do not
verify, events no seal covers (the tail after the last seal), a last seal that
is not final, and a stream that started over without one. Copies of events
re-sent after a crash (same id, seq and chain) are notes, not problems.

Exit status: 0 when the archive is intact (notes allowed), 1 when something is
wrong or an input cannot be read, 2 for a command-line mistake.

Examples:
  mailevents verify --key seal.key.pub /var/log/mailevents/events.jsonl*
  mailevents verify --key seal.key.pub --json --input kafka://broker:9092/mail-events`
}

// errNotIntact is returned once the report is printed.
var errNotIntact = errors.New("the archive is not intact")

// maxRecordBytes bounds one line: events may carry a whole message.
const maxRecordBytes = 64 << 20

func (c *verifyCmd) Run(ctx context.Context, e env) error {
	var keys []ed25519.PublicKey
	for _, k := range c.Key {
		pub, err := seal.LoadPublicKey(k)
		if err != nil {
			return usageError{err}
		}
		keys = append(keys, pub)
	}
	var topics []kafka.Config
	for _, u := range c.Input {
		kc, err := kafka.ParseURL(u)
		if err != nil {
			return usageError{fmt.Errorf("--input: %w", err)}
		}
		topics = append(topics, kc)
	}
	files := c.Files
	if len(files) == 0 && len(topics) == 0 {
		files = []string{"-"}
	}
	v := seal.NewVerifier(seal.Options{Keys: keys, Live: c.Live})
	var readErrs []error
	if len(files) > 0 {
		readErrs = append(readErrs, readFiles(ctx, e, files, v)...)
	}
	for _, kc := range topics {
		if err := readTopic(ctx, kc, v); err != nil {
			readErrs = append(readErrs, err)
		}
	}
	rep := v.Finish()
	for _, err := range readErrs {
		fmt.Fprintf(e.stderr, "mailevents: error: %v\n", err)
		rep.Findings = append(rep.Findings, seal.Finding{Kind: seal.KindUnreadable, Severity: seal.Problem, Message: err.Error()})
		rep.Intact = false
	}
	if c.JSON {
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			return err
		}
	} else if err := rep.WriteText(e.stdout); err != nil {
		return err
	}
	if !rep.Intact {
		return silentError{errNotIntact}
	}
	return nil
}

// readFiles hands every line of files to v, numbered per file. A file that
// cannot be read is an error, and the lines read before it still count.
func readFiles(ctx context.Context, e env, files []string, v *seal.Verifier) []error {
	in := source.OpenAll(files, source.Options{Stdin: e.stdin, MaxLineBytes: maxRecordBytes})
	defer in.Close()
	var errs []error
	name, n := "", int64(0)
	for {
		l, err := in.Next(ctx)
		if errors.Is(err, io.EOF) {
			return errs
		}
		if err != nil {
			if ctx.Err() != nil {
				return append(errs, ctx.Err())
			}
			errs = append(errs, err)
			continue
		}
		if l.Source != name {
			name, n = l.Source, 0
		}
		n++
		v.Add(seal.Pos{Input: name, Line: n}, l.Text)
	}
}

// readTopic hands every message of a topic to v, partition by partition,
// from the first offset kept to the high-water mark at the start; the
// verifier puts each stream in seq order.
func readTopic(ctx context.Context, kc kafka.Config, v *seal.Verifier) error {
	client := &kafkago.Client{Addr: kafkago.TCP(kc.Brokers...), Timeout: 30 * time.Second}
	md, err := client.Metadata(ctx, &kafkago.MetadataRequest{Topics: []string{kc.Topic}})
	if err != nil {
		return fmt.Errorf("kafka topic %s: %w", kc.Topic, err)
	}
	var parts []int
	for _, t := range md.Topics {
		if t.Name != kc.Topic {
			continue
		}
		if t.Error != nil {
			return fmt.Errorf("kafka topic %s: %w", kc.Topic, t.Error)
		}
		for _, p := range t.Partitions {
			parts = append(parts, p.ID)
		}
	}
	if len(parts) == 0 {
		return fmt.Errorf("kafka topic %s: no such topic, or no partitions", kc.Topic)
	}
	slices.Sort(parts)
	var reqs []kafkago.OffsetRequest
	for _, p := range parts {
		reqs = append(reqs, kafkago.FirstOffsetOf(p), kafkago.LastOffsetOf(p))
	}
	offs, err := client.ListOffsets(ctx, &kafkago.ListOffsetsRequest{Topics: map[string][]kafkago.OffsetRequest{kc.Topic: reqs}})
	if err != nil {
		return fmt.Errorf("kafka topic %s: offsets: %w", kc.Topic, err)
	}
	for _, po := range offs.Topics[kc.Topic] {
		if po.Error != nil {
			return fmt.Errorf("kafka topic %s partition %d: offsets: %w", kc.Topic, po.Partition, po.Error)
		}
		if err := readPartition(ctx, client, kc.Topic, po.Partition, po.FirstOffset, po.LastOffset, v); err != nil {
			return err
		}
	}
	return nil
}

func readPartition(ctx context.Context, client *kafkago.Client, topic string, part int, first, end int64, v *seal.Verifier) error {
	input := "kafka:" + topic + "/" + strconv.Itoa(part)
	offset := first
	for empty := 0; offset < end; {
		res, err := client.Fetch(ctx, &kafkago.FetchRequest{Topic: topic, Partition: part, Offset: offset,
			MinBytes: 1, MaxBytes: 32 << 20, MaxWait: 500 * time.Millisecond})
		if err == nil {
			err = res.Error
		}
		if err != nil {
			return fmt.Errorf("kafka %s offset %d: %w", input, offset, err)
		}
		before := offset
		for {
			rec, err := res.Records.ReadRecord()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return fmt.Errorf("kafka %s offset %d: %w", input, offset, err)
			}
			if rec.Offset < offset || rec.Offset >= end {
				continue // a batch may start before the offset asked for
			}
			var value []byte
			if rec.Value != nil {
				if value, err = io.ReadAll(rec.Value); err != nil {
					return fmt.Errorf("kafka %s offset %d: %w", input, rec.Offset, err)
				}
			}
			v.Add(seal.Pos{Input: input, Offset: rec.Offset}, value)
			offset = rec.Offset + 1
		}
		if offset == before {
			// Offsets may be taken by transaction markers, which hold no
			// record; a few empty answers in a row mean the end.
			if empty++; empty == 3 {
				return nil
			}
		} else {
			empty = 0
		}
	}
	return nil
}
