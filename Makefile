# Latchkey developer targets. "make test" is the whole suite: vet, a gofmt
# check, and every Go test (unit, SQLite and PostgreSQL store suites, browser
# tests). Under CI=true a suite that cannot run (no PostgreSQL, no Chromium)
# fails instead of skipping.

GO ?= go
# Go lives in /usr/local/go on our machines; find it there when PATH lacks it.
export PATH := $(PATH):/usr/local/go/bin

GOTESTFLAGS ?= -count=1 -p 2 -timeout 15m

.PHONY: all build run test vet fmt fmt-check bench

all: build

## build: compile every package and write the binary to bin/latchkey
build:
	$(GO) build ./...
	$(GO) build -o bin/latchkey ./cmd/latchkey

## run: serve on 127.0.0.1:8080 with sqlite:latchkey.db (creates the default organization on first run)
run:
	$(GO) run ./cmd/latchkey serve

## test: vet, gofmt check, then all tests with PostgreSQL started and Chromium checked
test: vet fmt-check
	bash scripts/ensure-postgres.sh
	bash scripts/check-chromium.sh
	$(GO) test $(GOTESTFLAGS) ./...

## vet: go vet ./...
vet:
	$(GO) vet ./...

## fmt: rewrite every Go file with gofmt
fmt:
	$(GO_FILES_CMD) | xargs -r gofmt -w

## fmt-check: fail, listing the files, when any Go file is not gofmt-formatted
fmt-check:
	@files=$$($(GO_FILES_CMD) | xargs -r gofmt -l); \
	if [ -n "$$files" ]; then \
		echo "gofmt: these files are not formatted (run make fmt):"; \
		echo "$$files"; \
		exit 1; \
	fi; \
	echo "gofmt: all files formatted"

## bench: Go benchmarks, then the login load test against SQLite and PostgreSQL
bench:
	$(GO) test -run '^$$' -bench . -benchtime 2s ./...
	bash scripts/bench.sh

# Every Go source file outside .git, vendor and testdata directories.
GO_FILES_CMD = find . \( -path ./.git -o -path ./vendor -o -name testdata \) -prune -o -name '*.go' -type f -print

## common-passwords: regenerate internal/password/common-passwords.txt from the npm package @zxcvbn-ts/language-common
common-passwords:
	bash scripts/gen-common-passwords.sh
