# batchmeta developer commands. The README's quick start uses `make run` and `make test`.

CARGO ?= cargo

.PHONY: run test check fmt tour python-test r-test bench bench-quick

## Build the Python package into .venv (and, when R is installed, the R
## package into target/r-lib), then run `meta serve` on the embedded
## default (.batchmeta/) at 127.0.0.1:8080.
run:
	bash scripts/python-build
	@if command -v R >/dev/null 2>&1; then bash scripts/r-build; \
	else echo "make run: R is not installed, so the R package is not built (scripts/r-setup installs R from Debian)"; fi
	$(CARGO) run -p batchmeta-cli --bin meta -- serve

## Only the Python package's tests (the Rust ones are in `make test` too).
python-test:
	bash scripts/python-test

## Only the R package's tests (installs R from Debian when it is missing).
r-test:
	bash scripts/r-test

## The tour of the Rust library on the embedded default.
tour:
	$(CARGO) run --example tour

## The whole test suite (CI runs exactly this through .ci/run).
test:
	bash scripts/test

## Formatting and lints, as CI expects them.
check:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt:
	$(CARGO) fmt --all

## The benchmark of issue 7: peers, release builds, every case at full
## size; writes docs/benchmarks.md and docs/benchmarks.json. Building the
## 1,000,000-partition table through the API takes 20-30 minutes on a
## 2-core machine: BENCH_ARGS="--big-partitions 100000" for a shorter run.
bench:
	BENCH_COMMAND='make bench$(if $(BENCH_ARGS), BENCH_ARGS="$(BENCH_ARGS)")' bash scripts/bench $(BENCH_ARGS)

## The same at development sizes; writes target/bench/quick/.
bench-quick:
	BENCH_COMMAND="make bench-quick" bash scripts/bench --quick
