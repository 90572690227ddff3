# manga-assist-data: tests, offline preview, benchmarks.
# `make test` needs only Go and Python 3: it gets moto_server itself if missing.

GO    ?= go
STACK ?= dev
# Packages whose code runs concurrently run under the race detector: the
# emulator harness, the fault proxy, the stream router, the recovery tools'
# worker pools (internal/recovery, cmd/recover), and the Pulumi
# mocks, which the SDK calls from many goroutines (the preview, and the
# components tested under them). Race-building the Pulumi SDK costs about 3
# minutes cold, once.
RACE_PKGS := ./internal/emulator/... ./internal/faultproxy/... ./internal/streamrouter/... ./handlers/... \
             ./internal/preview/... ./cmd/preview/... ./components/... \
             ./internal/recovery/... ./cmd/recover/...
OTHER_PKGS = $(filter-out $(shell $(GO) list $(RACE_PKGS)),$(shell $(GO) list ./...))

.PHONY: test fmt-check vet emulator preview bench recover

## test: gofmt check, go vet, every test (emulator tests included), -race where it matters
test: fmt-check vet emulator
	$(GO) test -race -count=1 $(RACE_PKGS)
	$(GO) test -count=1 $(OTHER_PKGS)

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.git/*')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...

# The integration tests start moto_server themselves; this only makes sure it
# is installed. If it cannot be, the tests skip locally and fail under CI=true.
emulator:
	@command -v moto_server >/dev/null 2>&1 || python3 -m pip install --quiet 'moto[server]' \
		|| echo "warning: moto_server is missing and pip could not install it: pip install 'moto[server]'"

## preview: run the program for STACK under mocks, no cloud account (STACK=dev|prod)
preview:
	$(GO) run ./cmd/preview -stack $(STACK) $(ARGS)

## recover: the recovery CLI (docs/runbooks/), e.g. make recover ARGS="drill --from s3://BUCKET/exports"
recover:
	$(GO) run ./cmd/recover $(ARGS)

## bench: every benchmark, with allocations (numbers go to docs/BENCHMARKS.md)
bench:
	$(GO) test -run '^$$' -bench . -benchmem $(BENCH_ARGS) ./...
