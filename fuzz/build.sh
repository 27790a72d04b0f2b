#!/usr/bin/env bash
# Builds every fuzz target and runs each one briefly, for CI.
#
# Needs only a stable toolchain: RUSTC_BOOTSTRAP=1 lets it accept the
# nightly-only flags cargo-fuzz passes (-Zsanitizer=address and friends).
#
# Environment:
#   FUZZ_SECONDS   how long each target runs (default 10)
#   FUZZ_SEED_DIR  optional; if FUZZ_SEED_DIR/<target> exists it is read as
#                  a seed corpus (never written to)
#
# A crashing input is written to fuzz/artifacts/<target>/ (git-ignored); the
# script exits non-zero if any build or run fails.
set -euo pipefail

CARGO_FUZZ_VERSION=0.13.2
FUZZ_SECONDS="${FUZZ_SECONDS:-10}"

cd "$(dirname "${BASH_SOURCE[0]}")"
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
fi

# Fail, as `cargo --locked` would, if Cargo.lock is out of date.
cargo metadata --locked --format-version 1 >/dev/null
cargo fuzz build -O

corpus_root="$(mktemp -d)"
trap 'rm -rf "$corpus_root"' EXIT

targets="$(cargo fuzz list)"
failed=()
for target in $targets; do
    corpus="$corpus_root/$target"
    mkdir -p "$corpus"
    dirs=("$corpus")
    if [[ -n "${FUZZ_SEED_DIR:-}" && -d "$FUZZ_SEED_DIR/$target" ]]; then
        dirs+=("$FUZZ_SEED_DIR/$target")
    fi
    echo "=== $target (${FUZZ_SECONDS}s)"
    if ! cargo fuzz run -O "$target" "${dirs[@]}" -- \
        -max_total_time="$FUZZ_SECONDS" \
        -rss_limit_mb=2048 \
        -timeout=60 \
        -print_final_stats=1; then
        failed+=("$target")
    fi
done

if ((${#failed[@]})); then
    echo "fuzz targets failed: ${failed[*]} (inputs in $(pwd)/artifacts/)" >&2
    exit 1
fi
echo "all fuzz targets ran ${FUZZ_SECONDS}s without a crash"
