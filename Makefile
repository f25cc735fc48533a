# Rocker: `make demo` and `make test` are the two entry points (see README.md).
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
export PATH := $(HOME)/.cargo/bin:$(PATH)

CARGO ?= cargo
JOBS ?= 2

.PHONY: all demo test lint fmt build release unit e2e bench deps image clean

all: build

## deps: install missing apt packages (quiet, idempotent) and check cargo
deps:
	@scripts/deps.sh

## demo: release build, start rockerd if none answers, load busybox, run a container
demo:
	@scripts/demo.sh

## test: lint, debug build of every binary, unit tests and the root-only e2e suite
test: deps lint build
	$(CARGO) test -j$(JOBS) --workspace --no-fail-fast

## lint: rustfmt check and clippy with warnings as errors (part of `make test`)
lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -j$(JOBS) -- -D warnings

fmt:
	$(CARGO) fmt --all

build:
	$(CARGO) build -j$(JOBS) --workspace

release:
	$(CARGO) build --release -j$(JOBS)

## unit: unit tests only (no root needed)
unit:
	$(CARGO) test -j$(JOBS) --workspace --exclude rocker-e2e

## e2e: only the end-to-end suite (needs root and `make build`)
e2e: deps build
	$(CARGO) test -j$(JOBS) -p rocker-e2e --no-fail-fast

## bench: rocker run --rm busybox true vs docker/podman/runc where present (never in test)
bench: deps
	@scripts/bench.sh

## image: build/busybox.tar from Debian's busybox-static
image: build/busybox.tar

build/busybox.tar: scripts/mk-busybox-image
	@mkdir -p build
	scripts/mk-busybox-image $@

clean:
	$(CARGO) clean
	rm -rf build
