#!/usr/bin/env bash
# Hostile inputs: builds wsscope (release), writes the broken and hostile captures of
# examples/gen_hostile.rs, runs `wsscope summary FILE > /dev/null` on each under GNU time,
# and prints one row per file: size, exit code (and the one expected), elapsed time, peak
# RSS, and the first line of stderr.
#
#   bash benches/hostile.sh [OUTDIR]
#
# OUTDIR keeps the generated files (about 5 GB); without it they go to a temporary
# directory that is removed at the end. Environment:
#   HOSTILE_FILES="a.pcap b.pcap"  only these files (names as in `gen_hostile --list`)
#   HOSTILE_TIMEOUT=600            seconds allowed per file (then it is killed: TIMEOUT)
#   HOSTILE_MAX_RSS_MB=1024        peak RSS above this is a problem
#   HOSTILE_COMMAND="summary"      the wsscope command and options run on each file
#                                  (e.g. "export --threads 2": flows on two decode threads)
#   CARGO_TARGET_DIR               honoured, like cargo does
# Exit status: 0 when every file ran without panic, timeout or signal, under the RSS
# limit and with the expected exit code; 1 otherwise; 2 when a tool is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

timeout_s=${HOSTILE_TIMEOUT:-600}
max_rss_mb=${HOSTILE_MAX_RSS_MB:-1024}

if [ ! -x /usr/bin/time ] || ! /usr/bin/time -f '%e' true >/dev/null 2>&1; then
  echo "hostile.sh: GNU time is missing: /usr/bin/time must exist and accept -f" >&2
  echo "            (Debian/Ubuntu: apt-get install time; Fedora: dnf install time)" >&2
  exit 2
fi
for tool in cargo timeout; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "hostile.sh: $tool is missing" >&2
    exit 2
  fi
done

echo "== building wsscope and examples/gen_hostile (release)"
cargo build --release --quiet --bin wsscope --example gen_hostile
target_dir=$(cargo metadata --format-version 1 --no-deps 2>/dev/null |
  grep -o '"target_directory":"[^"]*"' | sed 's/^"target_directory":"//; s/"$//')
target_dir=${target_dir:-${CARGO_TARGET_DIR:-target}}
wsscope="$target_dir/release/wsscope"
gen="$target_dir/release/examples/gen_hostile"

cleanup_dir=
if [ $# -ge 1 ]; then
  dir=$1
  mkdir -p "$dir"
else
  dir=$(mktemp -d "${TMPDIR:-/tmp}/wsscope-hostile.XXXXXX")
  cleanup_dir=$dir
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/wsscope-hostile-run.XXXXXX")
trap 'rm -rf "$work" ${cleanup_dir:+"$cleanup_dir"}' EXIT

read -r -a files <<<"${HOSTILE_FILES:-$("$gen" --list | tr '\n' ' ')}"
avail_kb=$(df -Pk "$dir" | awk 'NR == 2 { print $4 }')
if [ "${avail_kb:-0}" -lt 6000000 ]; then
  echo "hostile.sh: warning: only $((avail_kb / 1024)) MiB free in $dir; all files need about 5 GB" >&2
fi
echo "== writing ${#files[@]} files into $dir"
start=$(date +%s)
"$gen" "$dir" "${files[@]}" 2>"$work/gen.log" || {
  cat "$work/gen.log" >&2
  exit 1
}
echo "   done in $(($(date +%s) - start)) s"

# What the README promises: 1 when the file cannot be read to its end, 0 otherwise.
expected_exit() {
  case $1 in
  cut-mid-record.pcap | zero-and-oversized-records.pcap) echo 1 ;;
  *) echo 0 ;;
  esac
}

human_size() {
  awk -v b="$1" 'BEGIN {
    if (b >= 1e9) printf "%.2f GB", b / 1e9
    else if (b >= 1e6) printf "%.1f MB", b / 1e6
    else if (b >= 1e3) printf "%.1f kB", b / 1e3
    else printf "%d B", b }'
}

read -r -a command <<<"${HOSTILE_COMMAND:-summary}"
echo "== wsscope ${command[*]} FILE > /dev/null   (timeout ${timeout_s} s, RSS limit ${max_rss_mb} MiB)"
echo
printf '%-33s %10s %4s %5s %9s %10s  %-9s %s\n' \
  file size exit want elapsed "peak RSS" verdict "first line of stderr"
printf '%-33s %10s %4s %5s %9s %10s  %-9s %s\n' \
  --------------------------------- ---------- ---- ----- --------- ---------- --------- --------------------
problems=0
for name in "${files[@]}"; do
  f="$dir/$name"
  size=$(stat -c %s "$f")
  set +e
  /usr/bin/time -o "$work/time" -f '%e %M' \
    timeout -k 10 "$timeout_s" "$wsscope" "${command[@]}" "$f" >/dev/null 2>"$work/stderr"
  rc=$?
  set -e
  elapsed=? rss_kb=0
  read -r elapsed rss_kb < <(tail -n 1 "$work/time") || true
  first=$(head -n 1 "$work/stderr" | sed "s|$dir/||g")
  want=$(expected_exit "$name")
  verdict=ok
  if grep -q 'panicked' "$work/stderr"; then
    verdict=PANIC
    first=$(grep -m 1 'panicked' "$work/stderr" | sed "s|$dir/||g")
  elif [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
    verdict=TIMEOUT
  elif [ "$rc" -gt 128 ]; then
    verdict="SIG$((rc - 128))"
  elif [ "${rss_kb:-0}" -gt $((max_rss_mb * 1024)) ]; then
    verdict=RSS
  elif [ "$rc" -ne "$want" ]; then
    verdict=EXIT
  fi
  [ "$verdict" = ok ] || problems=$((problems + 1))
  rss=$(awk -v k="${rss_kb:-0}" 'BEGIN { printf "%.1f MiB", k / 1024 }')
  printf '%-33s %10s %4s %5s %8ss %10s  %-9s %s\n' \
    "$name" "$(human_size "$size")" "$rc" "$want" "$elapsed" "$rss" "$verdict" "${first:--}"
done
echo
if [ "$problems" -gt 0 ]; then
  echo "$problems file(s) with a problem (PANIC, TIMEOUT, SIGn, RSS over ${max_rss_mb} MiB, or EXIT: not the expected exit code)"
  exit 1
fi
echo "every file: no panic, no timeout, peak RSS under ${max_rss_mb} MiB, expected exit code"
