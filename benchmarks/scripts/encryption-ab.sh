#!/usr/bin/env bash
# Before/after comparison of what encryption costs on RocksDB (issue 14): EncryptionCostBenchmark
# get and put, plain and AES-256-GCM, in one JMH run per build, the two builds alternated (A B A B
# ...), each run under the benchmark lock on its own so neighbours can take turns. Ratio per run =
# encrypted / plain throughput of that run; compare the ratios, not the raw figures across runs.
#
#   benchmarks/scripts/encryption-ab.sh CLASSPATH_FILE A_DIR B_DIR [pairs] [out_dir]
#
# CLASSPATH_FILE: the benchmarks module's class path, one line, ':'-separated, as written by
#   ./mvnw -o -pl benchmarks dependency:build-classpath -Dmdep.outputFile=CLASSPATH_FILE
#   (the benchmark classes themselves, benchmarks/target/classes, are put in front; copy them aside
#   first if they may be rebuilt during the runs and set BENCH_CLASSES to the copy).
# A_DIR, B_DIR: Cairn module jars (cairn-*.jar) of the two builds; each replaces the jar of the
#   same file name in CLASSPATH_FILE, everything else is shared.
# pairs: how many A/B pairs (default 3). JMH settings: JMH_ARGS (default below). JAVA (default java).
# A_EXCLUDE / B_EXCLUDE: an extended regex; class path entries matching it are left out of that
#   side (e.g. B_EXCLUDE=conscrypt with A_DIR = B_DIR: the same build without Conscrypt, whose mere
#   presence on the class path makes Tink take its nonces from Conscrypt's RAND_bytes).
# Prints one line per run (build, get ratio, put ratio, load) and leaves the JMH json in out_dir.
set -euo pipefail
cp_file=$1
a_dir=$2
b_dir=$3
pairs=${4:-3}
out=${5:-/tmp/encryption-ab}
java=${JAVA:-java}
classes=${BENCH_CLASSES:-$(cd "$(dirname "$0")/.." && pwd)/target/classes}
jmh_args=${JMH_ARGS:--p backend=rocksdb -p encryption=none,aes-256-gcm -f 2 -wi 3 -i 5 -w 1s -r 1s -prof gc}
mkdir -p "$out"

classpath() { # $1: directory of module jars replacing the class path's own; $2: regex to leave out
  local cp="" entry name
  IFS=':' read -r -a entries <"$cp_file"
  for entry in "${entries[@]}"; do
    if [ -n "$2" ] && [[ $entry =~ $2 ]]; then continue; fi
    name=$(basename "$entry")
    if [ -f "$1/$name" ]; then entry="$1/$name"; fi
    cp+=":$entry"
  done
  echo "$classes$cp"
}

for dir in "$a_dir" "$b_dir"; do
  if ! ls "$dir"/cairn-*.jar >/dev/null 2>&1; then
    echo "No cairn-*.jar in $dir: give the directories holding each build's module jars" >&2
    exit 2
  fi
done

for i in $(seq 1 "$pairs"); do
  for side in A B; do
    dir=$a_dir
    exclude=${A_EXCLUDE:-}
    if [ $side = B ]; then
      dir=$b_dir
      exclude=${B_EXCLUDE:-}
    fi
    json="$out/$side-$i.json"
    load0=$(cut -d' ' -f1-3 /proc/loadavg)
    # shellcheck disable=SC2086
    flock /tmp/bench.lock "$java" -cp "$(classpath "$dir" "$exclude")" org.openjdk.jmh.Main \
      'io.cairn.bench.encryption.EncryptionCostBenchmark' $jmh_args -rf json -rff "$json" \
      >"$out/$side-$i.log" 2>&1
    load1=$(cut -d' ' -f1-3 /proc/loadavg)
    python3 - "$json" "$side" "$i" "$load0" "$load1" <<'EOF'
import json, sys
path, side, i, l0, l1 = sys.argv[1:]
score, alloc = {}, {}
for r in json.load(open(path)):
    op = r['benchmark'].rsplit('.', 1)[1]
    enc = r['params']['encryption']
    score[(op, enc)] = r['primaryMetric']['score']
    norm = r.get('secondaryMetrics', {}).get('gc.alloc.rate.norm')
    if norm:
        alloc[(op, enc)] = norm['score']
parts = []
for op in ('get', 'put'):
    plain, enc = score[(op, 'none')], score[(op, 'aes-256-gcm')]
    parts.append('%s %.0f / %.0f ops/s = %.3f (alloc %s / %s B/op)' % (
        op, enc, plain, enc / plain,
        '%.0f' % alloc[(op, 'aes-256-gcm')] if (op, 'aes-256-gcm') in alloc else '?',
        '%.0f' % alloc[(op, 'none')] if (op, 'none') in alloc else '?'))
print('%s run %s: %s; load %s -> %s' % (side, i, '; '.join(parts), l0, l1), flush=True)
EOF
  done
done
