# The one test command, the README's and CI's: `make test` installs what the
# tests need on a fresh Debian machine (as root), then runs the linters and
# the whole test suite with the race detector.

GO ?= go
STATICCHECK_VERSION := v0.8.2
GOBIN := $(shell $(GO) env GOPATH)/bin

.PHONY: test deps lint unit bench fuzz

test: deps lint unit

deps:
	./scripts/install-test-deps
	$(GO) mod download
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GOBIN)/staticcheck ./...

unit:
	$(GO) test -race -count=1 ./...

# Benchmarks are not part of `make test`: figures come from a quiet machine.
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

# Each fuzz target for FUZZTIME (go test -fuzz takes one target at a time).
FUZZTIME ?= 30s
fuzz:
	./scripts/fuzz-all $(FUZZTIME)
