# yizhan — the two commands a newcomer needs:
#   make dev    run the server in dev mode with demo data and print a link to open
#   make test   run every test (Go, browser, web type check)

GO ?= go
BIN ?= bin/yizhan

.PHONY: dev test test-weaklinks build web web-deps vet bench bench-rt clean

dev:
	$(GO) run ./cmd/yizhan serve --dev --data ./data

build:
	$(GO) build -o $(BIN) ./cmd/yizhan

# The built web app (web/dist) is committed so that `go build` needs no Node.js;
# `make web` rebuilds it from web/src.
web: web-deps
	cd web && npm run check

web-deps:
	@if [ ! -d web/node_modules ]; then cd web && npm ci --no-audit --no-fund; fi

vet:
	$(GO) vet ./...

test: web vet
	$(GO) test -count=1 -timeout 40m ./...

# Every impaired-link case (issue 13): 300 kbit/s + 40 ms, 5 % and 10 % loss, 80 ms
# jitter, a drop to 200 kbit/s. Root (network namespaces, tc); about five minutes.
# `make test` runs the quick case only.
test-weaklinks:
	YIZHAN_WEAKLINKS=all $(GO) test -count=1 -v -timeout 15m ./internal/weaklinks

bench:
	$(GO) run ./cmd/sfubench --json-out bench.jsonl

# The same under SCHED_FIFO (root): latency without the neighbours' noise.
bench-rt:
	$(GO) run ./cmd/sfubench --rt --json-out bench.jsonl

clean:
	rm -rf bin
