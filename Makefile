# flowproc — run `make help` for the targets.
GO      ?= go
PKGS    ?= ./...
FUZZTIME ?= 60s
PROTO_OUT ?= proto
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X main.version=$(VERSION)
# vtprotobuf: marshal ext_proc replies with go-control-plane's generated
# vtprotobuf code (extproc/codec.go, docs/bench.md). A plain `go build`
# works without it.
TAGS    ?= vtprotobuf

.DEFAULT_GOAL := help

.PHONY: help
help: ## Show this help.
	@awk 'BEGIN {FS = ":.*##"} /^[a-zA-Z_\/-]+:.*##/ {printf "  \033[36m%-14s\033[0m %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: build
build: ## Build bin/flowproc.
	CGO_ENABLED=0 $(GO) build -tags "$(TAGS)" -ldflags "$(LDFLAGS)" -o bin/flowproc ./cmd/flowproc

.PHONY: test
test: ## Run all tests (the README's test command).
	$(GO) test -count=1 -tags "$(TAGS)" $(PKGS)

.PHONY: race
race: ## Run all tests with the race detector.
	$(GO) test -race -count=1 -tags "$(TAGS)" $(PKGS)

.PHONY: lint
lint: ## gofmt (must be clean) and go vet.
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

.PHONY: bench
bench: ## Run the Go benchmarks (engine, server) with allocation counts.
	$(GO) test -tags "$(TAGS)" -run='^$$' -bench=. -benchmem $(PKGS)

.PHONY: fuzz
fuzz: ## Run every fuzz target for FUZZTIME each (default 60s).
	@for pkg in $$($(GO) list $(PKGS)); do \
	  for t in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
	    echo "== $$pkg $$t"; $(GO) test -run='^$$' -fuzz="^$$t$$" -fuzztime=$(FUZZTIME) -fuzzminimizetime=5s $$pkg || exit 1; \
	  done; \
	done

.PHONY: validate
validate: ## Validate the example projects.
	$(GO) run ./cmd/flowproc validate examples/*/

.PHONY: dev
dev: ## Run flowproc dev on the embedded example (HTTP on :10000).
	$(GO) run -tags "$(TAGS)" ./cmd/flowproc dev

.PHONY: proto
proto: ## Regenerate proto/ Go code (protoc from Debian; protoc-gen-go v1.36.12, protoc-gen-go-grpc v1.6.2 via go install).
	PATH="$$($(GO) env GOPATH)/bin:$$PATH" protoc -I proto -I /usr/include \
	  --go_out=$(PROTO_OUT) --go_opt=paths=source_relative \
	  --go-grpc_out=$(PROTO_OUT) --go-grpc_opt=paths=source_relative \
	  proto/flowproc/v1/*.proto
