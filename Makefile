# make test    installs what is missing, builds every language's plugins, then
#              runs every test (the CI entry point)
# make plugins builds every example, conformance and test plugin from source
# make bench   runs the engine benchmarks, then the side-by-side load runs
#              (bench-compare: results in BENCHMARKS.md)

GO        ?= go
WAT       := $(wildcard host/plugin/testdata/*.wat internal/soak/testdata/*.wat)

.PHONY: all test deps lint plugins lang-plugins bench run
all: test

deps:
	./scripts/deps.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd sdk/go && GOOS=wasip1 GOARCH=wasm $(GO) vet ./... && $(GO) vet ./...
	cd plugins/examples/chat && GOOS=wasip1 GOARCH=wasm $(GO) vet ./...
	cd host/plugin/testdata/probe && GOOS=wasip1 GOARCH=wasm $(GO) vet ./...

# Tests rebuild the committed .wasm files themselves and compare, so `make
# test` builds only the other languages' plugins (never committed).
test: deps lint lang-plugins
	cd sdk/rust && $(RUST) /usr/bin/cargo test --offline -q
	cd plugins/examples/chat-rust && $(RUST) /usr/bin/cargo test --offline -q
	$(GO) test -race -count=1 -timeout 12m ./...
	cd sdk/go && $(GO) test -race -count=1 ./...

# Debian's Rust toolchain: a rustup one on PATH cannot build wasm here.
RUST := CARGO=/usr/bin/cargo RUSTC=/usr/bin/rustc
# make's own CC is cc (gcc here), which cannot target wasm.
CLANG := CC=clang CXX=clang++
LANG_DIRS := chat-c chat-cpp chat-wat chat-as
CONF_DIRS := c cpp wat as

plugins: lang-plugins
	$(MAKE) -C plugins/examples/chat
	$(MAKE) -C host/plugin/testdata/probe
	for f in $(WAT); do wat2wasm $$f -o $${f%.wat}.wasm; done

lang-plugins:
	for d in $(LANG_DIRS); do $(MAKE) -C plugins/examples/$$d $(CLANG) || exit 1; done
	for d in $(CONF_DIRS); do $(MAKE) -C plugins/conformance/$$d $(CLANG) || exit 1; done
	$(MAKE) -C plugins/examples/chat-rust $(RUST)
	$(MAKE) -C plugins/conformance/rust $(RUST)

# make soak   the long soak test: thousands of connections with churn, drops,
#              broadcasts and plugin reloads for about two minutes (the short
#              one runs in make test)
.PHONY: soak
soak:
	$(GO) test -run '^TestSoak$$' -count=1 -timeout 15m -v ./internal/soak/ -soak.long

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./host/plugin/
	$(MAKE) bench-compare

# make bench-compare   side-by-side load runs (cmd/wsbench) of wshost against
#              gorilla's chat example, Centrifugo and Node ws, medians into
#              BENCHMARKS.md (scripts/bench/run.sh; knobs: REPS, DURATION, ...)
.PHONY: bench-compare
bench-compare:
	./scripts/bench/run.sh

# make bench-cluster   wshost nodes joined over NATS (scripts/bench/cluster.sh):
#              fanout over 1–3 nodes against one node without NATS, and
#              100,000 idle connections over six nodes; results in
#              BENCHMARKS.md ("Cluster (issue 7)"). Not part of make test.
.PHONY: bench-cluster
bench-cluster:
	./scripts/bench/cluster.sh

run:
	$(GO) run ./cmd/wshost
