# Tapline: the two commands a newcomer needs are `make run` and `make test`.
# Every target installs the Debian packages it needs when they are missing
# (as root; otherwise it prints the apt-get command and stops).

SHELL := /bin/bash
GO ?= go
DEPS := tools/ensure-deps.sh
STATICCHECK_VERSION := v0.8.2
BIN := bin
# -race covers every package; the race runtime needs cgo, which the GUI
# build has anyway.
RACE ?= -race
FUZZTIME ?= 30s
SHORT_FUZZTIME ?= 3s

.PHONY: all run test vet fmt-check unit fuzz fuzz-short bench bench-analyze lint build build-gui build-cli build-sensorcore deps-gui deps-test deps-bench clean

all: build

deps-gui:
	@$(DEPS) gui
deps-test:
	@$(DEPS) gui test
deps-bench:
	@$(DEPS) gui test bench

## run: the main job for a newcomer.
run: deps-gui
	@$(GO) run -tags nogui . certs check --cert examples/certs/sensor-01.crt --key examples/certs/sensor-01.key \
		--chain examples/certs/chain.pem --hostname sensor-01.plant.example --at 2026-12-01T00:00:00Z; \
	 rc=$$?; [[ $$rc -le 1 ]] || exit $$rc

## test: gofmt, go vet, every package's tests with the race detector, short fuzz runs.
test: deps-test fmt-check vet unit fuzz-short

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	 if [[ -n "$$out" ]]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	$(GO) vet -tags nogui ./...

# Only packages with tests are listed, so the cgo desktop launcher (no tests;
# vet and build cover it) is not compiled a second time for the race runtime.
TEST_PKGS = $$($(GO) list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./...)
unit:
	$(GO) test $(RACE) -count=1 -timeout 20m $(TEST_PKGS)

# fuzz-short runs every Fuzz target briefly; fuzz runs them for FUZZTIME each.
fuzz-short:
	@FUZZTIME=$(SHORT_FUZZTIME) tools/fuzz-all.sh
fuzz:
	@FUZZTIME=$(FUZZTIME) tools/fuzz-all.sh

bench: deps-bench
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./...

## bench-push: the push engine's side-by-side benchmarks (50-sensor batch vs an OpenSSH loop; 64 MB SFTP vs scp).
bench-push: deps-bench
	$(GO) test -run '^$$' -bench 'BenchmarkBatch50|BenchmarkUpload64MB' -benchtime 1x -count 1 ./provision/

## bench-analyze: sensorcore analyze vs tshark -z io,phs on the shared captures merged 10 times.
bench-analyze: deps-bench
	@tools/bench-analyze.sh

lint:
	$(GO) run honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION) ./...

build: build-gui build-cli build-sensorcore
build-gui: deps-gui
	$(GO) build -o $(BIN)/tapline .
build-cli:
	CGO_ENABLED=0 $(GO) build -tags nogui -o $(BIN)/tapline-cli .
build-sensorcore:
	CGO_ENABLED=0 $(GO) build -o $(BIN)/sensorcore ./sensorcore/cmd/sensorcore

clean:
	rm -rf $(BIN)
