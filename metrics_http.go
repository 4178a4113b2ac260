package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/mailevents/mailevents/pipeline"
)

// observability is what the daemon exposes over HTTP, kept across reloads
// (metrics are registered once per process).
type observability struct {
	reg       *prometheus.Registry
	metrics   *pipeline.Metrics
	heartbeat atomic.Int64
	// stale is how old the heartbeat may be before /healthz fails.
	stale atomic.Int64
}

func newObservability() *observability {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	o := &observability{reg: reg, metrics: pipeline.NewMetrics(reg)}
	o.heartbeat.Store(time.Now().UnixNano())
	o.stale.Store(int64(time.Minute))
	return o
}

// serve listens on addr until ctx ends. /healthz answers 200 while the
// pipeline shows progress (it beats at every checkpoint interval and every
// retry), 503 otherwise.
func (o *observability) serve(ctx context.Context, addr string, log *slog.Logger) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics_listen: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(o.reg, promhttp.HandlerOpts{}))
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		age := time.Since(time.Unix(0, o.heartbeat.Load()))
		if age > time.Duration(o.stale.Load()) {
			http.Error(w, fmt.Sprintf("pipeline stalled: no progress for %s\n", age.Round(time.Second)), http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics listener failed; events still flow", "err", err)
		}
	}()
	return func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}, nil
}
