# The two commands of the README: `make run` and `make test`.
GO        ?= go
BIN       := bin/chuangwen
# The PostgreSQL server the store and API tests also run on. Set PG= to
# run the SQLite half only (the PostgreSQL subtests then say they skipped).
PG        ?= postgres://postgres@127.0.0.1:5432/test
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: build run test lint fuzz bench clean

build:
	$(GO) build -o $(BIN) ./cmd/chuangwen

# Serve the demo city on the embedded SQLite database in ./data (loaded
# on first start), at http://127.0.0.1:8080/.
run: build
	./$(BIN) serve --demo

# Every test: unit, store and HTTP tests on SQLite and PostgreSQL, the
# headless-browser test, with the race detector.
test:
	CHUANGWEN_TEST_POSTGRES=$(PG) $(GO) test -race -count=1 ./...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed: $$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# Each fuzz target for a number of executions (the seeds under
# testdata/fuzz run in every `make test` anyway); CI runs this. Counts,
# not durations: a duration-based -fuzztime can end in a spurious
# "context deadline exceeded" on Go 1.26 (go.dev/issue/75804).
# FUZZTIME=30s overrides the counts with a duration for longer runs.
FUZZ_TARGETS := ./internal/geo:FuzzParseCells:100000x ./internal/imaging:FuzzReadMeta:100000x \
	./internal/imaging:FuzzDerive:3000x ./internal/open311:FuzzParseNewRequest:100000x \
	./internal/web:FuzzPublicReport:3000x
fuzz:
	@set -e; for t in $(FUZZ_TARGETS); do pkg=$${t%%:*}; rest=$${t#*:}; name=$${rest%%:*}; n=$${rest#*:}; \
	  budget=$${FUZZTIME:-$$n}; echo "fuzz $$pkg $$name ($$budget)"; \
	  $(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $$budget -fuzzminimizetime 2s $$pkg; done

bench: build
	./$(BIN) bench --data ./data/bench

clean:
	rm -rf bin
