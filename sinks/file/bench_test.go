package file

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkWrite measures a pipeline-sized batch (512 records of about 400
// bytes) through the sink, next to plain os.File.Write of the same bytes in
// the same run, so the sink's own overhead (encoding into one buffer, fstat)
// and the cost of fsync can be read off directly.
func BenchmarkWrite(b *testing.B) {
	recs := batch("bench", 512, 400)
	var encoded []byte
	for _, r := range recs {
		encoded = append(append(encoded, r.Value...), '\n')
	}
	// Truncating every so often keeps a long run from filling the disk; it
	// happens with the timer stopped.
	const truncateEvery = 256

	baseline := func(sync bool) func(b *testing.B) {
		return func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "events.jsonl")
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			b.SetBytes(int64(len(encoded)))
			for i := 0; b.Loop(); i++ {
				if i%truncateEvery == truncateEvery-1 {
					b.StopTimer()
					f.Truncate(0)
					b.StartTimer()
				}
				if _, err := f.Write(encoded); err != nil {
					b.Fatal(err)
				}
				if sync {
					if err := f.Sync(); err != nil {
						b.Fatal(err)
					}
				}
			}
		}
	}
	sink := func(mode SyncMode) func(b *testing.B) {
		return func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "events.jsonl")
			w, err := Open(path, Options{Sync: mode})
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close(context.Background())
			ctx := context.Background()
			b.SetBytes(int64(len(encoded)))
			for i := 0; b.Loop(); i++ {
				if i%truncateEvery == truncateEvery-1 {
					b.StopTimer()
					os.Truncate(path, 0)
					b.StartTimer()
				}
				if err := w.Write(ctx, recs); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("os.File.Write", baseline(false))
	b.Run("SyncNever", sink(SyncNever))
	b.Run("os.File.Write+Sync", baseline(true))
	b.Run("SyncEveryBatch", sink(SyncEveryBatch))
}

// The benchmark's batch must look like the brief's: ~400-byte records.
func TestBenchmarkBatchShape(t *testing.T) {
	recs := batch("bench", 512, 400)
	var total int
	for _, r := range recs {
		total += len(r.Value)
	}
	if avg := total / len(recs); avg < 380 || avg > 420 {
		t.Fatalf("average record %d bytes, want about 400", avg)
	}
}
