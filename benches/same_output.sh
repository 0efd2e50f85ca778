#!/usr/bin/env bash
# Same output before and after a change that must not change behaviour (issue 15):
#   bash benches/same_output.sh [BASE_REV] [quick]
# builds wsscope at BASE_REV (default: HEAD, i.e. the last commit, against the work tree)
# in a worktree of its own and wsscope from the work tree, then runs both on the same
# inputs and compares exit status, standard output and standard error (by SHA-256; the
# first differing lines are printed):
#   - every bundled capture: summary, frames, export (default threads, --threads 1 and 3),
#     from a pipe, with --port on the midstream capture, frames/export --conn 1 and 999,
#     explain of the handshake and of every frame of connection 1;
#   - the hostile captures of examples/gen_hostile (the small ones, unless not quick);
#   - unless `quick`: a generated 1 GB capture and a 300 MB one-connection capture
#     (examples/gen_capture), summary, frames and export.
# Generated inputs are kept under target/same-output/ (about 2 GB) and reused.
# Exit status: 0 when every output is the same, 1 when one differs, 2 on a build error.
set -euo pipefail
cd "$(dirname "$0")/.."
base_rev=${1:-HEAD}
quick=${2:-}
work=target/same-output
mkdir -p "$work"
base_rev=$(git rev-parse "$base_rev")

echo "== building the base ($base_rev) and the work tree (release)"
if [ ! -x "$work/base-$base_rev/wsscope" ]; then
    rm -rf "$work/base-src"
    git worktree prune
    git worktree add --detach -f "$work/base-src" "$base_rev" >/dev/null
    (cd "$work/base-src" && CARGO_TARGET_DIR=../base-target cargo build --release --quiet --bin wsscope) || exit 2
    mkdir -p "$work/base-$base_rev"
    cp "$work/base-target/release/wsscope" "$work/base-$base_rev/wsscope"
    git worktree remove --force "$work/base-src"
fi
cargo build --release --quiet --bin wsscope --example gen_capture --example gen_hostile || exit 2
bin=${CARGO_TARGET_DIR:-target}/release
base="$work/base-$base_rev/wsscope"
new="$bin/wsscope"

inputs="$work/inputs"
mkdir -p "$inputs"
small_hostile="len-2pow63.pcap zero-and-oversized-records.pcap unknown-blocks.pcapng cut-mid-record.pcap deflate-bomb.pcap tiny-segments.pcap"
all_hostile="$small_hostile endless-fragments.pcap million-flows.pcap out-of-order-flood.pcap early-data-flood.pcap"
hostile=$small_hostile
[ -n "$quick" ] || hostile=$all_hostile
missing=()
for h in $hostile; do [ -f "$inputs/$h" ] || missing+=("$h"); done
if [ ${#missing[@]} -gt 0 ]; then
    echo "== writing hostile captures: ${missing[*]}"
    "$bin/examples/gen_hostile" "$inputs" "${missing[@]}" 2>/dev/null
fi
if [ -z "$quick" ]; then
    [ -f "$inputs/big-1000.pcap" ] || "$bin/examples/gen_capture" "$inputs/big-1000.pcap" 1000
    [ -f "$inputs/long-300.pcap" ] || "$bin/examples/gen_capture" "$inputs/long-300.pcap" 300 7 long
fi

same=0
differ=0
out=$(mktemp -d "${TMPDIR:-/tmp}/same-output.XXXXXX")
trap 'rm -rf "$out"' EXIT

# run NAME STDIN_FILE ARGS...: both binaries, compared. STDIN_FILE is - for none.
run() {
    local name=$1 stdin=$2
    shift 2
    local which
    for which in base new; do
        local exe=$base
        [ "$which" = new ] && exe=$new
        set +e
        if [ "$stdin" = - ]; then
            "$exe" "$@" </dev/null >"$out/$which.out" 2>"$out/$which.err"
        else
            "$exe" "$@" <"$stdin" >"$out/$which.out" 2>"$out/$which.err"
        fi
        echo "exit $?" >>"$out/$which.err"
        set -e
        sha256sum <"$out/$which.out" >"$out/$which.sum"
    done
    if cmp -s "$out/base.sum" "$out/new.sum" && cmp -s "$out/base.err" "$out/new.err"; then
        same=$((same + 1))
    else
        differ=$((differ + 1))
        echo "DIFFERS: $name: wsscope $*"
        diff <(head -c 20000000 "$out/base.out") <(head -c 20000000 "$out/new.out") | head -n 10 || true
        diff "$out/base.err" "$out/new.err" | head -n 10 || true
    fi
}

echo "== bundled captures"
for f in captures/*.pcap captures/*.pcapng; do
    n=$(basename "$f")
    for cmd in summary frames export; do
        run "$n" - "$cmd" "$f"
        run "$n" - "$cmd" --threads 1 "$f"
        run "$n" - "$cmd" --threads 3 "$f"
        run "$n (pipe)" "$f" "$cmd" -
    done
    run "$n" - frames --conn 1 "$f"
    run "$n" - export --conn 1 "$f"
    run "$n" - frames --conn 999 "$f"
    run "$n" - export --strict "$f"
    run "$n" - summary --max-message 100 --max-fragments 2 "$f"
    run "$n" - explain "$f" --conn 1 --handshake
    run "$n" - explain "$f" --conn 2 --handshake --width 60
    frames=$("$new" frames --conn 1 "$f" 2>/dev/null | tail -n +2 | wc -l)
    for k in $(seq 1 "$frames"); do
        run "$n" - explain "$f" --conn 1 --frame "$k"
    done
done
run "midstream --port" - export --port 8765 captures/midstream.pcap
run "midstream --port" - summary --port 8765 captures/midstream.pcap
run "demo (no file)" - 

echo "== hostile captures"
for h in $hostile; do
    for cmd in summary frames export; do
        run "$h" - "$cmd" "$inputs/$h"
    done
    run "$h" - summary --threads 1 "$inputs/$h"
    run "$h" - export --threads 2 --max-buffered 1000000 --max-flows 1000 "$inputs/$h"
done

if [ -z "$quick" ]; then
    echo "== generated large captures"
    for g in big-1000.pcap long-300.pcap; do
        for cmd in summary frames export; do
            run "$g" - "$cmd" "$inputs/$g"
        done
        run "$g" - export --threads 1 "$inputs/$g"
    done
fi

echo "== $same the same, $differ different"
[ "$differ" -eq 0 ]
