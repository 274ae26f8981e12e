#!/usr/bin/env bash
# Builds every fuzz target with libFuzzer's coverage instrumentation on the stable toolchain and
# runs each once over its seeds and kept regressions (docs/FUZZING.md). The CI step: it checks
# that the targets compile and link against libFuzzer, without running a campaign.
#
#   tests/fuzz/build.sh
#
# With cargo-fuzz installed it runs `cargo fuzz build --dev --sanitizer none`. Without it (a
# fresh CI machine), it runs cargo itself with the flags cargo-fuzz 0.13 passes for that build,
# so nothing has to be installed first; both give the same binaries (the same flags make cargo
# reuse one's build for the other). AddressSanitizer needs the nightly toolchain, so this build
# has none; campaigns (campaign.sh) use nightly with ASan.
#
# Not `--locked`: tests/fuzz/Cargo.lock follows the main Cargo.lock's versions, but a dependency
# added to the main crate must not break this build before someone updates that file (cargo then
# adds it, keeping every version already locked).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
cd "$REPO"
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
TARGET_DIR=target/fuzz-ci
OUT=$TARGET_DIR/$TRIPLE/debug

if [[ -z ${FUZZ_NO_CARGO_FUZZ:-} ]] && command -v cargo-fuzz >/dev/null; then
    cargo fuzz build --dev --sanitizer none --fuzz-dir tests/fuzz --target-dir "$TARGET_DIR"
else
    # cargo-fuzz 0.13.2, `build --dev --sanitizer none` on Linux.
    RUSTFLAGS="-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cllvm-args=-simplifycfg-branch-fold-threshold=0 \
-Cllvm-args=-sanitizer-coverage-stack-depth -Cdebug-assertions" \
        cargo build --manifest-path tests/fuzz/Cargo.toml --target-dir "$TARGET_DIR" --target "$TRIPLE" --bins
fi

targets=$(sed -n 's/^name = "\(.*\)"$/\1/p' tests/fuzz/Cargo.toml | grep -v '^smime-companion-fuzz$')
for t in $targets; do
    bin=$OUT/$t
    # Instrumented for coverage: libFuzzer's 8-bit counters are in the binary.
    if ! readelf -S "$bin" 2>/dev/null | grep -q '__sancov_cntrs'; then
        echo "build.sh: $bin has no coverage instrumentation" >&2
        exit 1
    fi
    dirs=()
    for d in tests/fuzz/seeds/$t tests/fuzz/regressions/$t; do
        [[ -d $d ]] && dirs+=("$d")
    done
    # -runs=0: run every input of the folders once, then stop.
    "$bin" -runs=0 -timeout=10 -rss_limit_mb=2048 "${dirs[@]}" > "$TARGET_DIR/$t.log" 2>&1 || {
        cat "$TARGET_DIR/$t.log" >&2
        echo "build.sh: $t failed on its seeds" >&2
        exit 1
    }
    echo "fuzz target $t: built, $(grep -o 'INITED.*' "$TARGET_DIR/$t.log" | head -1)"
done
