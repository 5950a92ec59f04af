# The two commands of the README: `make run` and `make test`. Both need only
# Go: the front-end files they embed are committed (`make assets` refreshes them).
GO        ?= go
BIN       := bin/chuangwen
# The PostgreSQL server the store and API tests also run on. Set PG= to
# run the SQLite half only (the PostgreSQL subtests then say they skipped).
PG        ?= postgres://postgres@127.0.0.1:5432/test
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

.PHONY: build run test test-all lint fuzz bench clean assets assets-check font

build:
	$(GO) build -o $(BIN) ./cmd/chuangwen

# Serve the demo city on the embedded SQLite database in ./data (loaded
# on first start), at http://127.0.0.1:8080/.
run: build
	./$(BIN) serve --demo

# Every test: unit, store and HTTP tests on SQLite and PostgreSQL, the
# headless-browser test, with the race detector. checkptr (which -race
# turns on) is off: our code has no unsafe.Pointer, and checking the pure-Go
# SQLite's pointer arithmetic on every access tripled the SQLite tests'
# time. (Leaving modernc's SQLite out of the race instrumentation would
# halve it again, but is unsound: orderings made inside uninstrumented
# code are invisible to the detector, and it then reported races in the
# standard library's reflect cache that the whole build does not.)
# go vet runs in `make lint`, so the tests skip go test's own vet pass.
# The timeout is a guard against a hung test, not a budget
# (docs/benchmarks.md, "Test suite").
RACEFLAGS := -vet=off -race -gcflags=all=-d=checkptr=0
# GOGC=400: collections under the race detector are a large share of
# the tests' time, and fewer of them cost only memory (about 2 GB for the
# largest package). The long scenarios and the PostgreSQL half of the HTTP
# tests run with CHUANGWEN_TEST_LONG=1, as CI does: `make test-all`.
test:
	GOGC=400 CHUANGWEN_TEST_POSTGRES=$(PG) $(GO) test $(RACEFLAGS) -count=1 -timeout 9m ./...

test-all:
	CHUANGWEN_TEST_LONG=1 $(MAKE) test

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

# Front-end libraries from npm (package.json, exact versions, locked in
# package-lock.json), copied into internal/web/static/ where the binary
# embeds them. The copies are committed; run this after changing
# package.json and commit the result. Leaflet's marker images are not
# copied: the map draws its pin and markers as SVG. Of ECharts only the
# "common" build (line, bar, pie, scatter; grid, tooltip, legend, zoom)
# is copied.
LEAFLET := node_modules/leaflet/dist
assets:
	npm ci --ignore-scripts --no-audit --no-fund
	cp $(LEAFLET)/leaflet.js $(LEAFLET)/leaflet.css internal/web/static/
	cp node_modules/echarts/dist/echarts.common.min.js internal/web/static/echarts.min.js

# The committed copies are exactly what the lock file gives (needs npm).
assets-check: assets
	git diff --exit-code -- internal/web/static/leaflet.js internal/web/static/leaflet.css internal/web/static/echarts.min.js

# The PDF documents' font: LXGW WenKai (SIL Open Font License 1.1, Debian
# package fonts-lxgw-wenkai), subset and renamed by
# internal/pdfdoc/font/subset.py with fonttools (Debian python3-fonttools),
# gzipped; the result is committed and embedded, so building needs neither.
# Run after adding words with characters outside GB 2312 to the catalogue.
FONT_SRC ?= /usr/share/fonts/truetype/lxgw-wenkai/LXGWWenKai-Regular.ttf
font:
	@mkdir -p bin
	python3 internal/pdfdoc/font/subset.py $(FONT_SRC) bin/font-subset.ttf \
	  'internal/i18n/*.json' 'internal/web/templates/*.html' 'internal/demo/**/*.go'
	gzip -9n -c bin/font-subset.ttf > internal/pdfdoc/font/chuangwen-kai.ttf.gz
