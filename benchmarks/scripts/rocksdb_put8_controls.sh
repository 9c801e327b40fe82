#!/usr/bin/env bash
# Issue 15, RocksDB put at 8 threads (benchmarks/RESULTS-rocksdb.md, 2026-12-06 bound15 section):
# one-fork JMH runs of RocksDbThreadsBenchmark.put -t 8, the impls (and jars) alternated round by
# round, each fork with the in-fork diagnostic (worker CPU, voluntary switches and commit groups
# per put, collections per iteration), so the regime of every fork can be read off its diag lines.
#   flock /tmp/bench.lock benchmarks/scripts/rocksdb_put8_controls.sh <rounds> <out-dir> \
#     <jar>[:<impl>[:<jvm args>]] ...
# A spec without an impl runs CAIRN_ROCKSDB, RAW_ROCKSDB and RAW_ROCKSDB_AS_CAIRN in turn; jvm
# args (space separated) e.g. -Dcairn.bench.rocksdb.control.drop=atomic-flush. Prints one line
# per fork: round, spec, ops/s, and per measured iteration worker CPU us/put and voluntary
# switches/put; load (1 min) before each fork. Holds nothing itself: run it under the lock.
set -euo pipefail
rounds=$1
out=$2
shift 2
mkdir -p "$out"
bench_dir=${CAIRN_BENCH_DIR:-/work/bound15-bench}
mkdir -p "$bench_dir"
specs=()
for s in "$@"; do
  IFS=: read -r jar impl args <<<"$s"
  if [ -z "${impl:-}" ]; then
    for i in CAIRN_ROCKSDB RAW_ROCKSDB RAW_ROCKSDB_AS_CAIRN; do specs+=("$jar:$i:${args:-}"); done
  else
    specs+=("$s")
  fi
done
for r in $(seq 1 "$rounds"); do
  for s in "${specs[@]}"; do
    IFS=: read -r jar impl args <<<"$s"
    load=$(cut -d' ' -f1 /proc/loadavg)
    log="$out/r$r-$(basename "$jar" .jar)-$impl-$(echo "${args:-none}" | tr -c 'a-zA-Z0-9=,.-' '_').log"
    # shellcheck disable=SC2086
    java -jar "$jar" 'io.cairn.bench.rocksdb.RocksDbThreadsBenchmark.put' -t 8 -f 1 -wi 1 -w 2s \
      -i 2 -r 2s -p impl="$impl" \
      -jvmArgsAppend "-Dcairn.bench.dir=$bench_dir -Dcairn.bench.rocksdb.diag=true ${args:-}" \
      >"$log" 2>&1
    score=$(grep -E '^RocksDbThreadsBenchmark.put ' "$log" | awk '{for (i = 1; i <= NF; i++) if ($i == "thrpt") print $(i + 2)}')
    credits=$(grep 'yield credits' "$log" | tail -1 | sed 's/.*units of 2^17) //')
    diag=$(grep -E '^\[diag .*\] ops ' "$log" | tail -2 |
      sed -E 's/.*worker CPU ([0-9.]+) us\/op.*, vol ([0-9.]+)\/op, invol ([0-9.]+)\/op.*\(([0-9.]+) per group\); gc ([0-9]+).*/\1us vol=\2 invol=\3 grp=\4 gc=\5/' |
      paste -sd' ')
    echo "round $r load $load $(basename "$jar") $impl ${args:-} | $score ops/s | $diag | credits $credits"
  done
done
