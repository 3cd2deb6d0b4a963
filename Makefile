# helpdesk: `make run` starts the local sandbox, `make test` runs every check.
GO      ?= go
BIN     := bin/helpdeskd
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

.PHONY: all build run test vet fmt-check testdb bench clean

all: build

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o $(BIN) ./cmd/helpdeskd

# The sandbox: its own PostgreSQL under .dev/ (or HELPDESK_DATABASE_URL), demo data.
run: build
	./$(BIN) dev

test: fmt-check vet testdb
	$(GO) test -race -count=1 ./...

vet:
	$(GO) vet ./...

fmt-check:
	@out="$$(gofmt -l . 2>&1)"; if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

# Creates the test database when missing (HELPDESK_TEST_DATABASE_URL, default the local server).
testdb:
	@./.ci/provision-db

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

clean:
	rm -rf bin
