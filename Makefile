# Tapline: the two commands a newcomer needs are `make run` and `make test`.
# Every target installs the Debian packages it needs when they are missing
# (as root; otherwise it prints the apt-get command and stops).

SHELL := /bin/bash
GO ?= go
DEPS := tools/ensure-deps.sh
BIN := bin
# -race covers every package; the race runtime needs cgo, which the GUI
# build has anyway.
RACE ?= -race
FUZZTIME ?= 30s
SHORT_FUZZTIME ?= 50000x

.PHONY: all run test vet fmt-check unit fuzz fuzz-short bench bench-analyze bench-certs lint build build-gui build-cli build-sensorcore build-nats sign-sensorcore deps-gui deps-test deps-bench clean
.PHONY: package screenshots bench-gui console-screenshots dist cross cross-gui test-stages wine-test bench-site

all: build

deps-gui:
	@$(DEPS) gui
deps-test:
	@$(DEPS) gui test
deps-bench:
	@$(DEPS) gui test bench

## run: the main job for a newcomer: a demo fleet of 3 sensors on this machine
## (sensorcore serve on 127.0.0.1, demo activation authority and local CA) and
## the app on it; with no $$DISPLAY the same provisioning runs headless through
## 'tapline batch run' and prints the report. Beside them a one-node JetStream
## site (bin/nats-server) the sensors stream to once provisioned, each sensor's
## monitor replaying shared captures (../shared/pcaps) when they are there: the
## Site screen and 'tapline site' show three sensors' devices, alerts and
## operations. Ctrl-C (or closing the app) stops every process it started.
DEMO_CAPTURES = $$([[ -d ../shared/pcaps ]] && echo --captures ../shared/pcaps)
run: deps-gui build-sensorcore build-nats
	@if [[ -n "$$DISPLAY" ]]; then \
	   $(GO) build -o $(BIN)/tapline . && exec $(BIN)/tapline demo --sensorcore $(BIN)/sensorcore --nats-server $(BIN)/nats-server $(DEMO_CAPTURES) --open-app; \
	 else \
	   CGO_ENABLED=0 $(GO) build -tags nogui -o $(BIN)/tapline-cli . && \
	   exec $(BIN)/tapline-cli demo --sensorcore $(BIN)/sensorcore --nats-server $(BIN)/nats-server $(DEMO_CAPTURES) --dir .run/demo-$$(date +%Y%m%dT%H%M%S) --headless; \
	 fi

## test: gofmt, go vet, the cross-builds, every package's tests with the race detector, short fuzz runs,
## and the Windows tests of the laptop's pure-Go packages under Wine. The Windows desktop app's cgo
## cross-build (tools/cross-gui.sh, minutes on a cold cache) runs in the background beside them, niced,
## and its result is awaited at the end; a failing stage stops it.
test: deps-test
	@log=$$(mktemp); setsid nice -n 10 tools/cross-gui.sh >$$log 2>&1 & gui=$$!; \
	 $(MAKE) --no-print-directory test-stages; rc=$$?; \
	 if [[ $$rc -ne 0 ]]; then kill -- -$$gui 2>/dev/null; wait $$gui 2>/dev/null; \
	 elif wait $$gui; then cat $$log; \
	 else cat $$log; echo "cross-gui: the Windows desktop app does not cross-build" >&2; rc=1; fi; \
	 rm -f $$log; exit $$rc
test-stages: fmt-check vet cross unit fuzz-short wine-test

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	 if [[ -n "$$out" ]]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi

vet:
	$(GO) vet ./...
	$(GO) vet -tags nogui ./...

## cross: go vet and build of the CLI for Windows and macOS (amd64, arm64),
## and go vet of the GUI screens for Windows (tools/cross.sh).
cross:
	@tools/cross.sh

## cross-gui: go build and vet of the Windows desktop app (cgo through mingw-w64), as make test runs it.
cross-gui:
	@$(DEPS) test
	@tools/cross-gui.sh

## wine-test: the Windows test binaries of the laptop's pure-Go packages
## (certs, provision, the CLI, the CSV and path readers...) under Wine (tools/wine-test.sh).
wine-test:
	@tools/wine-test.sh

# Only packages with tests are listed, so the cgo desktop launcher (no tests;
# vet and build cover it) is not compiled a second time for the race runtime.
TEST_PKGS = $$($(GO) list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./...)
unit:
	$(GO) test $(RACE) -count=1 -timeout 20m $(TEST_PKGS)

# fuzz-short runs every Fuzz target for SHORT_FUZZTIME executions (a count: no
# wall-clock deadline to race on a loaded machine); fuzz runs each for FUZZTIME.
fuzz-short:
	@FUZZTIME=$(SHORT_FUZZTIME) tools/fuzz-all.sh
fuzz:
	@FUZZTIME=$(FUZZTIME) tools/fuzz-all.sh

bench: deps-bench
	$(GO) test -run '^$$' -bench . -benchmem -count 1 ./...

## bench-site: 100 simulated sensors (the real uplink each) logging 1,000 operations/s into a
## three-node cluster of the real nats-server on loopback, the Site screen's model consuming
## them: operations and messages/s end to end, p50/p99 latency, sensors' CPU per 1,000 operations.
bench-site: deps-bench
	$(GO) test -run '^$$' -bench SiteScale -benchtime 1x -count 1 -timeout 20m ./siteview

## bench-push: the push engine's side-by-side benchmarks (50-sensor batch vs OpenSSH scp+ssh loops, sequential and xargs -P 8; 64 MB SFTP vs scp).
bench-push: deps-bench
	@tools/bench-push.sh

## bench-certs: 'tapline certs verify' vs 'openssl verify -crl_check' on a 100,000-entry OpenSSL-made CRL.
bench-certs: deps-bench
	@tools/bench-certs.sh

## bench-analyze: sensorcore analyze vs tshark -z io,phs on the shared captures merged 10 times.
bench-analyze: deps-bench
	@tools/bench-analyze.sh

## package: the Linux package (dist/Tapline.tar.xz: binary, .desktop file, icon)
## built with the fyne CLI pinned in tools/go.mod (FyneApp.toml is kept as is).
package: deps-gui
	$(GO) build -ldflags "-X github.com/tapline/tapline/app/cli.Version=$$(sed -n 's/^Version = "\(.*\)"/\1/p' FyneApp.toml)" -o $(BIN)/tapline .
	cd tools && $(GO) build -o ../$(BIN)/fyne fyne.io/tools/cmd/fyne
	@cp FyneApp.toml $(BIN)/FyneApp.toml.keep; \
	 $(BIN)/fyne package --target linux --executable $(BIN)/tapline --release; rc=$$?; \
	 cp $(BIN)/FyneApp.toml.keep FyneApp.toml; [[ $$rc -eq 0 ]] || exit $$rc; \
	 mkdir -p dist && mv -f Tapline.tar.xz dist/ && ls -l dist/Tapline.tar.xz

## dist: every laptop build in dist/: Linux desktop app, CLI and package;
## Windows amd64 desktop app (cgo through mingw-w64, packaged by the fyne CLI
## with icon and manifest, and zipped with the CLI); Windows and macOS CLIs
## for amd64 and arm64; SHA256SUMS (tools/dist.sh).
dist: deps-gui
	@$(DEPS) dist
	@tools/dist.sh

# A display number of its own so it never meets another Xvfb.
GUI_DISPLAY ?= :93

## screenshots: Xvfb, a demo fleet and the real app walking every screen; one
## PNG per view in docs/screenshots/ (128 colours, to keep them small). The app
## runs with a home folder of its own holding a new ~/.ssh/id_ed25519 (the
## Connect page's default key). As root,
## with the shared captures beside the repository, the sensors' monitors replay
## them, so the done state shows the devices they discovered and the Site screen
## (the demo's one-node site, bin/nats-server) three sensors' devices and alerts.
screenshots: deps-gui build-sensorcore build-nats
	@$(DEPS) screen
	$(GO) build -o $(BIN)/tapline .
	@set -euo pipefail; tmp=$$(mktemp -d); \
	 Xvfb $(GUI_DISPLAY) -screen 0 1100x720x24 -nolisten tcp >/dev/null 2>&1 & xvfb=$$!; \
	 replay=; caps=$(CURDIR)/../shared/pcaps; \
	 if [[ $$(id -u) == 0 && -d $$caps ]]; then replay="--captures $$caps --replay-speed 4"; fi; \
	 $(BIN)/tapline demo --sensorcore $(BIN)/sensorcore --nats-server $(BIN)/nats-server --dir $$tmp/demo $$replay >$$tmp/demo.log 2>&1 & demo=$$!; \
	 trap 'kill $$demo 2>/dev/null; wait $$demo 2>/dev/null; kill $$xvfb 2>/dev/null; rm -rf $$tmp' EXIT; \
	 for i in $$(seq 300); do [[ -f $$tmp/demo/demo.json ]] && break; sleep 0.1; done; \
	 mkdir -p $$tmp/home/.ssh && ssh-keygen -q -t ed25519 -N '' -C engineer -f $$tmp/home/.ssh/id_ed25519; \
	 HOME=$$tmp/home DISPLAY=$(GUI_DISPLAY) $(BIN)/tapline --demo $$tmp/demo --screenshots $$tmp/shots 2>&1 | grep -v '^[0-9/: ]*\(Fyne error\|  Cause\|  At\)' || true; \
	 mkdir -p docs/screenshots; \
	 for f in $$tmp/shots/*.png; do convert "$$f" -colors 128 "PNG8:docs/screenshots/$$(basename $$f)"; done; \
	 ls -l docs/screenshots

## console-screenshots: the sensor console's pages (sign-in, overview, devices, alerts,
## operations log, password) in headless Chromium against a real sensorcore serve, one PNG
## each in docs/screenshots/console-*.png; as root the monitoring pages show S7comm devices.
console-screenshots: deps-test
	@$(DEPS) screen
	@set -euo pipefail; tmp=$$(mktemp -d); trap 'rm -rf $$tmp' EXIT; \
	 TAPLINE_CONSOLE_SCREENSHOTS=$$tmp $(GO) test -count=1 -run '^TestConsoleInChromium$$' ./sensorcore/cmd/sensorcore/; \
	 for f in $$tmp/*.png; do convert "$$f" -dither None -colors 128 "PNG8:docs/screenshots/$$(basename $$f)"; done; \
	 ls -l docs/screenshots/console-*.png

## bench-gui: cold start to first frame under Xvfb (5 runs; target < 1.5 s) and
## the Fleet table benchmark (1,000 rows: an event per row, then the redraw).
bench-gui: deps-bench build-gui
	@$(DEPS) screen
	@set -euo pipefail; Xvfb $(GUI_DISPLAY) -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 & xvfb=$$!; \
	 trap 'kill $$xvfb 2>/dev/null' EXIT; sleep 1; \
	 for i in 1 2 3 4 5; do DISPLAY=$(GUI_DISPLAY) $(BIN)/tapline --first-frame --quit-after-first-frame 2>&1 | grep '^first frame'; done
	$(GO) test -run '^$$' -bench FleetTableUpdate -benchmem -count 1 ./app/gui

## lint: staticcheck, pinned with the fyne CLI in the tools module (tools/go.mod).
lint:
	cd tools && $(GO) build -o ../$(BIN)/staticcheck honnef.co/go/tools/cmd/staticcheck
	$(BIN)/staticcheck ./...

build: build-gui build-cli build-sensorcore build-nats sign-sensorcore
build-gui: deps-gui
	$(GO) build -o $(BIN)/tapline .
build-cli:
	CGO_ENABLED=0 $(GO) build -tags nogui -o $(BIN)/tapline-cli .
build-sensorcore:
	CGO_ENABLED=0 $(GO) build -o $(BIN)/sensorcore ./sensorcore/cmd/sensorcore
## build-nats: bin/nats-server, the site server pinned in tools/go.mod (the demo's site).
build-nats:
	cd tools && CGO_ENABLED=0 $(GO) build -o ../$(BIN)/nats-server github.com/nats-io/nats-server/v2

# sign-sensorcore: bin/sensorcore.sig, the release signature install-core
# verifies (docs/formats.md), made with a LAB release key created here at
# the first build and kept in bin/release-lab. The production release key
# stays offline with the root of trust and never comes near a build.
# Appliances and tapline trust the lab key only when its root is named:
# release_trust_roots in config.json, --release-root.
RELEASE_LAB := $(BIN)/release-lab
SENSORCORE_VERSION = $(shell sed -n 's/^var version = "\(.*\)"/\1/p' sensorcore/cmd/sensorcore/main.go)
sign-sensorcore: build-cli build-sensorcore
	@[[ -f $(RELEASE_LAB)/release-signer.key ]] || $(BIN)/tapline-cli release lab-init --years 10 --out $(RELEASE_LAB)
	$(BIN)/tapline-cli release sign --signing-key $(RELEASE_LAB)/release-signer.key --signer-cert $(RELEASE_LAB)/release-signer.cert \
	  --version $(SENSORCORE_VERSION) $(BIN)/sensorcore

clean:
	rm -rf $(BIN)
