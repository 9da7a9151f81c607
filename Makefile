# make test    installs what is missing, then runs every test (the CI entry point)
# make plugins rebuilds every example and test plugin from source
# make bench   runs the engine benchmarks

GO        ?= go
WASM_GO   := GOOS=wasip1 GOARCH=wasm $(GO) build -buildmode=c-shared -trimpath -buildvcs=false -ldflags='-w'
WAT       := $(wildcard host/plugin/testdata/*.wat)

.PHONY: all test deps lint plugins bench run
all: test

deps:
	./scripts/deps.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	cd sdk/go && GOOS=wasip1 GOARCH=wasm $(GO) vet ./... && $(GO) vet ./...
	cd plugins/examples/chat && GOOS=wasip1 GOARCH=wasm $(GO) vet ./...
	cd host/plugin/testdata/probe && GOOS=wasip1 GOARCH=wasm $(GO) vet ./...

test: deps lint
	$(GO) test -race -count=1 -timeout 12m ./...
	cd sdk/go && $(GO) test -race -count=1 ./...

plugins:
	$(MAKE) -C plugins/examples/chat
	$(MAKE) -C host/plugin/testdata/probe
	for f in $(WAT); do wat2wasm $$f -o $${f%.wat}.wasm; done

bench:
	$(GO) test -run '^$$' -bench . -benchmem -count 5 ./host/plugin/

run:
	$(GO) run ./cmd/wshost
