#!/usr/bin/env bash
# Runs a fuzzing campaign on one target and prints its numbers (docs/FUZZING.md).
#
#   tests/fuzz/campaign.sh TARGET MINUTES        e.g. tests/fuzz/campaign.sh mime 30
#
# Builds the target with cargo-fuzz on the nightly toolchain (AddressSanitizer), fills the
# working corpus tests/fuzz/corpus/TARGET from the hand-made seeds, the kept regressions and the
# test vectors (made with tests/vectors/make-vectors.sh when the tools for that are present),
# then runs libFuzzer until it has used MINUTES of CPU time (not wall time: on a busy machine a
# campaign takes longer, not less) in one process (fork mode with one job: it goes on after a
# crash, a timeout or running out of memory, saving each input). Limits: inputs up to 64 KiB,
# 1 s per input, 2 GiB of memory.
#
# At the end it prints one Markdown table row: target, minutes, executions, executions per
# second, coverage (libFuzzer's `cov`: edges reached) and features (`ft`), corpus size, and
# the findings (inputs saved under tests/fuzz/artifacts/TARGET/). To keep a finding as a
# regression test, copy it to tests/fuzz/regressions/TARGET/ (tests/parsers_random.rs replays
# every file there in `cargo test`).
#
# Environment: FUZZ_TOOLCHAIN (default nightly), FUZZ_SANITIZER (default address; `none` on a
# toolchain without the sanitizer runtimes), FUZZ_NO_BUILD=1 to reuse the last build.
set -euo pipefail

if [[ $# -ne 2 ]]; then
    echo "usage: $0 TARGET MINUTES" >&2
    exit 2
fi
TARGET=$1
MINUTES=$2
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
cd "$REPO"
TOOLCHAIN=${FUZZ_TOOLCHAIN:-nightly}
SANITIZER=${FUZZ_SANITIZER:-address}
TRIPLE=$(rustc -vV | sed -n 's/^host: //p')
BIN=target/fuzz/$TRIPLE/release/$TARGET

if ! grep -q "^name = \"$TARGET\"$" "$HERE/Cargo.toml"; then
    echo "campaign.sh: no fuzz target $TARGET (see tests/fuzz/Cargo.toml)" >&2
    exit 2
fi
command -v cargo-fuzz >/dev/null || { echo "campaign.sh: cargo-fuzz is required (cargo install --locked cargo-fuzz)" >&2; exit 1; }

if [[ -z ${FUZZ_NO_BUILD:-} || ! -x $BIN ]]; then
    cargo "+$TOOLCHAIN" fuzz build --fuzz-dir tests/fuzz --target-dir target/fuzz --sanitizer "$SANITIZER" "$TARGET" >&2
fi

CORPUS=$HERE/corpus/$TARGET
ARTIFACTS=$HERE/artifacts/$TARGET
mkdir -p "$CORPUS" "$ARTIFACTS"
for dir in "$HERE/seeds/$TARGET" "$HERE/regressions/$TARGET"; do
    [[ -d $dir ]] && cp -n "$dir"/* "$CORPUS"/ 2>/dev/null || true
done
DATA=$REPO/target/test-data
if [[ ! -f $DATA/vectors/expected.json ]]; then
    "$REPO/tests/vectors/make-vectors.sh" "$DATA/pki" "$DATA/vectors" >&2 || echo "campaign.sh: no test vectors (their tools are missing); seeds only" >&2
fi
if [[ -f $DATA/vectors/expected.json ]]; then
    SEEDS=$(mktemp -d)
    python3 "$HERE/seed-corpus.py" "$DATA/vectors" "$DATA/pki" "$SEEDS"
    [[ -d $SEEDS/$TARGET ]] && cp -n "$SEEDS/$TARGET"/* "$CORPUS"/ 2>/dev/null || true
    rm -rf "$SEEDS"
fi

case $TARGET in
    asn1|cms_der|x509) DICT=$HERE/dict/asn1.dict ;;
    inspect) DICT=$(mktemp); cat "$HERE/dict/mime.dict" "$HERE/dict/asn1.dict" > "$DICT" ;;
    *) DICT=$HERE/dict/mime.dict ;;
esac

# CPU ticks spent by a process and its descendants so far: their own, and their finished
# children's (reaped, so counted in cutime/cstime). On a busy machine this is what MINUTES measures.
TICKS=$(getconf CLK_TCK)
cpu_ticks() {
    local total=0 fields child
    fields=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || { echo 0; return; }
    set -- "$1" $fields
    # After the pid and the fields up to the command name: utime, stime, cutime, cstime.
    total=$(( ${13} + ${14} + ${15} + ${16} ))
    for child in $(pgrep -P "$1" || true); do
        total=$(( total + $(cpu_ticks "$child") ))
    done
    echo "$total"
}
cpu_seconds() { echo $(( $(cpu_ticks "$1") / TICKS )); }

LOG=$(mktemp)
before=$(find "$ARTIFACTS" -type f | wc -l)
started=$(date +%s)
set +e
# Wall time is only a backstop (ten times the CPU time); the watcher below stops the fuzzer with
# SIGTERM once it has had MINUTES of CPU, and libFuzzer then ends gracefully. Not SIGINT: a job a
# script starts in the background ignores SIGINT (POSIX), and libFuzzer leaves it ignored.
"$BIN" "$CORPUS" -fork=1 -ignore_crashes=1 -ignore_timeouts=1 -ignore_ooms=1 \
    -max_total_time=$((MINUTES * 600)) -rss_limit_mb=2048 -timeout=1 -max_len=65536 \
    -dict="$DICT" -artifact_prefix="$ARTIFACTS/" -print_final_stats=1 > "$LOG" 2>&1 &
fuzzer=$!
cpu=0
while kill -0 "$fuzzer" 2>/dev/null; do
    sleep 5
    now=$(cpu_seconds "$fuzzer")
    [[ -n $now && $now -gt $cpu ]] && cpu=$now
    if (( cpu >= MINUTES * 60 )); then
        kill -TERM "$fuzzer" 2>/dev/null
        break
    fi
done
wait "$fuzzer"
status=$?
set -e
elapsed=$(( $(date +%s) - started ))
after=$(find "$ARTIFACTS" -type f | wc -l)

# The last progress line of fork mode: "#EXECS: cov: C ft: F corp: N exec/s: R oom/timeout/crash: a/b/c time: Ts ..."
last=$(grep -E '^#[0-9]+: cov: ' "$LOG" | tail -1 || true)
field() { sed -nE "s#.*$1:? ([0-9/]+).*#\1#p" <<< "$last"; }
execs=$(sed -nE 's/^#([0-9]+):.*/\1/p' <<< "$last")
cov=$(field cov); ft=$(field ft); corp=$(field corp); otc=$(field 'oom/timeout/crash')
rate=$(( ${execs:-0} / (cpu > 0 ? cpu : 1) ))
echo "campaign log: $LOG (libFuzzer exit status $status, ${cpu}s CPU in ${elapsed}s)" >&2
if [[ $after -gt $before ]]; then
    echo "new findings in $ARTIFACTS:" >&2
    find "$ARTIFACTS" -type f -newermt "@$started" -printf '  %p (%s bytes)\n' >&2
fi
echo "| target | CPU minutes | executions | exec per CPU second | coverage (edges) | features | corpus | oom/timeout/crash | findings |"
echo "|---|---|---|---|---|---|---|---|---|"
echo "| $TARGET | $((cpu / 60)) | ${execs:-?} | ${rate:-?} | ${cov:-?} | ${ft:-?} | ${corp:-?} | ${otc:-?} | $((after - before)) |"
