#!/usr/bin/env bash
# Issue 15, the decisive runs of the bound15 session (benchmarks/RESULTS-rocksdb.md and
# RESULTS-sqlite.md, 2026-12-06 bound15 sections), for a quiet machine. No backend code changed in
# that session, so one jar (this branch's benchmarks.jar) serves; each JMH run has Cairn, raw and the
# control side by side:
#   1. RocksDbThreadsBenchmark.put -t 8: CAIRN_ROCKSDB, RAW_ROCKSDB, RAW_ROCKSDB_AS_CAIRN (raw
#      rocksdbjni configured and written as Cairn's backend), 3 forks each with the in-fork
#      diagnostic (worker CPU, voluntary/involuntary switches and commit groups per put, RocksDB's
#      write-thread yield credits), then the same one-fork runs alternated with Cairn at
#      allow_concurrent_memtable_write = false (the setting tried, not made a default);
#   2. SqliteThreadsBenchmark.get -t 4: CAIRN_SQLITE, RAW_SQLITE, RAW_SQLITE_CAIRN_LAYOUT (raw
#      sqlite-jdbc on Cairn's schema, pragmas and statement), with worker CPU per get.
#   flock /tmp/bench.lock benchmarks/scripts/bound15_decisive.sh benchmarks/target/benchmarks.jar out-dir
set -euo pipefail
jar=$1
out=$2
mkdir -p "$out"
here=$(dirname "$0")
bench_dir=${CAIRN_BENCH_DIR:-/tmp/bound15-bench}
mkdir -p "$bench_dir"
echo "load before: $(cat /proc/loadavg)"
java -jar "$jar" 'io.cairn.bench.rocksdb.RocksDbThreadsBenchmark.put' -t 8 -f 3 -wi 1 -w 2s -i 3 -r 2s \
  -p impl=CAIRN_ROCKSDB,RAW_ROCKSDB,RAW_ROCKSDB_AS_CAIRN \
  -jvmArgsAppend "-Dcairn.bench.dir=$bench_dir -Dcairn.bench.rocksdb.diag=true" >"$out/rocksdb-put8.txt" 2>&1
grep -E '^\[diag|^Benchmark|^RocksDbThreadsBenchmark' "$out/rocksdb-put8.txt"
echo "load: $(cat /proc/loadavg)"
setting='-Dcairn.bench.rocksdb.settings=advanced.db-options{allow_concurrent_memtable_write=false}'
CAIRN_BENCH_DIR=$bench_dir "$here/rocksdb_put8_controls.sh" 3 "$out/concurrent-memtable" \
  "$jar:CAIRN_ROCKSDB:" "$jar:CAIRN_ROCKSDB:$setting" "$jar:RAW_ROCKSDB:"
echo "load: $(cat /proc/loadavg)"
python3 "$here/jmh_schedstat.py" "$out/sqlite-samples.txt" java -jar "$jar" \
  'io.cairn.bench.sqlite.SqliteThreadsBenchmark.get' -t 4 -f 1 -wi 1 -w 3s -i 3 -r 4s \
  -p impl=CAIRN_SQLITE,RAW_SQLITE,RAW_SQLITE_CAIRN_LAYOUT >"$out/sqlite-get4.txt" 2>&1
grep -E '^Benchmark|^SqliteThreadsBenchmark' "$out/sqlite-get4.txt"
python3 "$here/jmh_cpu_per_op.py" "$out/sqlite-samples.txt" "$out/sqlite-get4.txt" 3 4 3
echo "load after: $(cat /proc/loadavg)"
