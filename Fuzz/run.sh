#!/usr/bin/env bash
# Builds and runs the changeset/push-validation fuzzer (libFuzzer + AddressSanitizer).
#   Fuzz/run.sh --ci            build + 60 s of fuzzing (what .ci/run does)
#   Fuzz/run.sh --seconds 3600  the long run (RELIABILITY.md)
#   Fuzz/run.sh --build         build only; Fuzz/run.sh --replay FILE… re-runs inputs (crash repro)
# The target is compiled with swiftc straight from the codec sources (Sources/SyncCore/Changeset,
# Sources/SyncCore/Model) plus the server's pure push validation
# (Sources/SyncServerKit/Routes/PushValidation.swift), with Fuzz/Shim/Crypto.swift standing in
# for swift-crypto's SHA256: ~15 s on 2 cores, instead of instrumenting every package dependency.
# Work files go to .build-fuzz/ (growing corpus in work/, crashing inputs in crashes/).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -d /opt/swift/usr/bin ]; then export PATH="/opt/swift/usr/bin:$PATH"; fi

seconds=60
mode=run
replay=()
while [ $# -gt 0 ]; do
  case "$1" in
    --ci) seconds=60 ;;
    --seconds) seconds="$2"; shift ;;
    --build) mode=build ;;
    --replay) mode=replay; shift; replay=("$@"); break ;;
    *) echo "usage: $0 [--ci | --seconds N | --build | --replay FILE…]" >&2; exit 64 ;;
  esac
  shift
done

out=.build-fuzz
mkdir -p "$out/shim" "$out/work" "$out/crashes"
started=$(date +%s)
swiftc -parse-as-library -emit-library -static -module-name Crypto Fuzz/Shim/Crypto.swift \
  -emit-module -emit-module-path "$out/shim/Crypto.swiftmodule" -o "$out/shim/libCrypto.a"
# (ld.gold warns about every ASan helper symbol; those lines are noise)
swiftc -parse-as-library -sanitize=fuzzer,address -g -O -module-name FuzzChangeset \
  -I "$out/shim" -L "$out/shim" -lCrypto -I Sources/CZlib -lz \
  Sources/SyncCore/Changeset/*.swift Sources/SyncCore/Model/*.swift \
  Sources/SyncServerKit/Routes/PushValidation.swift Fuzz/Harness/ChangesetFuzz.swift \
  -o "$out/changeset-fuzz" 2> >(grep -v "Cannot export local symbol" >&2)
echo "fuzz target built in $(( $(date +%s) - started )) s: $out/changeset-fuzz"

case "$mode" in
  build) exit 0 ;;
  replay) exec "$out/changeset-fuzz" "${replay[@]}" ;;
esac

# The committed seeds (real frames from a fault-suite run) are read; new units go to work/.
status=0
"$out/changeset-fuzz" -max_total_time="$seconds" -max_len=8192 -rss_limit_mb=2048 -timeout=10 \
  -artifact_prefix="$out/crashes/" -print_final_stats=1 "$out/work" Fuzz/corpus > "$out/last-run.log" 2>&1 || status=$?
grep -E "^#[0-9]+[[:space:]]+(INITED|DONE)|stat::|ERROR|SUMMARY|Test unit written|Fatal|precondition" "$out/last-run.log" || true
if [ "$status" != 0 ] || [ -n "$(ls -A "$out/crashes")" ]; then
  echo "FUZZER FOUND A CRASH (exit $status): inputs in $out/crashes/; reproduce with Fuzz/run.sh --replay FILE" >&2
  exit 1
fi
echo "fuzzing: no crash in ${seconds} s"
