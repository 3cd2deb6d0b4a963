# helpdesk: `make run` starts the local sandbox, `make test` runs every check.
GO      ?= go
BIN     := bin/helpdeskd
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
REVISION ?= $(shell git rev-parse HEAD 2>/dev/null)

.PHONY: all build run test vet fmt-check testdb bench bench-compare clean

all: build

# Says what it does: a first build downloads modules and compiles ~300 packages
# (1-2 minutes); go's own lines (downloads, errors) pass, package names are counted.
build:
	@echo "building $(BIN) (a first build downloads modules and compiles ~300 packages: 1-2 minutes)"
	@{ $(GO) build -v -ldflags "-X main.version=$(VERSION) -X main.revision=$(REVISION)" -o $(BIN) ./cmd/helpdeskd 2>&1 || echo "helpdeskd: build failed"; } | \
		awk '/^helpdeskd: build failed$$/ { print; failed = 1; next } / / { print; next } \
			{ if (++n % 50 == 0) printf "  %d packages compiled...\n", n } \
			END { if (n > 1) printf "  %d packages compiled\n", n; exit failed }'

# The sandbox: its own PostgreSQL under .dev/ (or HELPDESK_DATABASE_URL), demo data.
run: build
	@echo "starting the sandbox: ./$(BIN) dev (Ctrl-C stops it)"
	@./$(BIN) dev

# Progress: internal/testreport runs go test -json and prints each package as
# it finishes, every failed test's output, and at the end a summary that names
# skipped suites loudly (no PostgreSQL, no Postfix/Dovecot). It exits non-zero
# on any failure or build error. Tests with a schema and mail system of their
# own run TESTPARALLEL at a time within a package (on 2 cores -race makes the
# CPU the limit: more only pays on a bigger machine). TESTREPORT_JSON=FILE
# keeps the raw events, with every test's time.
TESTPARALLEL ?= 4
test: fmt-check vet testdb
	@echo "go test -race ./... (one line per package as it finishes)"
	@$(GO) build -o bin/testreport ./internal/testreport
	@./bin/testreport $(GO) test -race -count=1 -parallel $(TESTPARALLEL) -json ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out="$$(gofmt -l . 2>&1)"; if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# Creates the test database when missing (HELPDESK_TEST_DATABASE_URL, default the local server).
testdb:
	@./.ci/provision-db

# The issue-15 figure table (rows: figures, columns: binaries): helpdeskd serve
# against a private Postfix, Dovecot and PostgreSQL (root needed), the
# dispatcher, a database of 200,000 cases. BENCHFLAGS=-quick takes a few
# minutes, the full run much longer; -gobench adds the Go benchmarks; -h lists
# the rest. bench-compare OLD=<commit> puts that commit's binary beside the
# working tree's (the old tree is exported with git archive to /tmp and
# removed afterwards).
BENCHFLAGS ?=
bench:
	$(GO) run ./cmd/helpdeskd/internal/bench $(BENCHFLAGS)

bench-compare:
	@test -n "$(OLD)" || { echo "usage: make bench-compare OLD=<commit> [BENCHFLAGS=-quick]"; exit 2; }
	@old=$$(mktemp -d /tmp/hd-old-XXXXXX) && trap 'rm -rf "$$old"' EXIT && \
		git archive "$(OLD)" | tar -x -C "$$old" && \
		$(GO) run ./cmd/helpdeskd/internal/bench -src old="$$old" -src new=. $(BENCHFLAGS)

clean:
	rm -rf bin
