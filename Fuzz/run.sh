#!/usr/bin/env bash
# Builds and runs the changeset/push-validation fuzzer (libFuzzer + AddressSanitizer).
#   Fuzz/run.sh --ci            build + 60 s of fuzzing (what .ci/run does)
#   Fuzz/run.sh --seconds 3600  the long run (RELIABILITY.md)
#   Fuzz/run.sh --build         build only; Fuzz/run.sh --replay FILE… re-runs inputs (crash repro)
# The target is built with swiftc from the pure modules themselves: SyncModel
# (Sources/SyncCore/Model) and SyncWire (Sources/SyncCore/Wire, the codec and the server's push
# validation), each compiled as its own module with coverage and AddressSanitizer, with
# Fuzz/Shim/Crypto.swift standing in for swift-crypto's SHA256: ~20 s on 2 cores, instead of
# instrumenting every package dependency.
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
mkdir -p "$out/shim" "$out/modules" "$out/work" "$out/crashes"
started=$(date +%s)
features=(-enable-upcoming-feature ExistentialAny -enable-upcoming-feature InternalImportsByDefault
          -enable-upcoming-feature MemberImportVisibility)
swiftc -parse-as-library -emit-library -static -module-name Crypto Fuzz/Shim/Crypto.swift \
  -emit-module -emit-module-path "$out/shim/Crypto.swiftmodule" -o "$out/shim/libCrypto.a"
module() { # name, sources…
  local name=$1; shift
  swiftc -parse-as-library -emit-library -static -sanitize=fuzzer,address -g -O -enable-testing "${features[@]}" \
    -module-name "$name" -I "$out/shim" -I "$out/modules" -I Sources/CZlib "$@" \
    -emit-module -emit-module-path "$out/modules/$name.swiftmodule" -o "$out/modules/lib$name.a" \
    2> >(grep -v "Cannot export local symbol" >&2)
}
module SyncModel $(find Sources/SyncCore/Model -name '*.swift')
module SyncWire $(find Sources/SyncCore/Wire -name '*.swift')
# (ld.gold warns about every ASan helper symbol; those lines are noise)
swiftc -parse-as-library -sanitize=fuzzer,address -g -O -module-name FuzzChangeset \
  -I "$out/shim" -I "$out/modules" -I Sources/CZlib -L "$out/shim" -L "$out/modules" \
  -lSyncWire -lSyncModel -lCrypto -lz Fuzz/Harness/ChangesetFuzz.swift \
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
