#!/usr/bin/env bash
# port-ab.sh BEFORE.jar AFTER.jar [pairs=2] [outdir=/tmp/port-ab] [backend=sqlite|rocksdb]
#
# Issue 12's landing check for a backend moved onto the shared base (EngineBackend): "JMH in one
# run before/after for KV get/put, queue and cache: no ratio worse by more than the run's error".
# Runs the same benchmarks from two benchmarks jars alternately (after, before, after, ...), each
# run under the shared benchmark lock with the load printed around it:
#   - <Backend>ThreadsBenchmark get and put at 1, 4 and 8 threads, Cairn beside the raw engine;
#   - DurableQueueBenchmark on the backend beside Tape;
#   - TieredCachePairedBenchmark (L2 and L3 hit beside the raw get of the tier's engine).
# Then prints one table: per benchmark and side, the Cairn/raw ratio of each run (the raw side in
# the same fork is the load control), and the after/before ratio of Cairn's own scores.
# Ratios are taken from the same JMH run, never across runs; the machine and load go with them.
set -euo pipefail
before=$1
after=$2
pairs=${3:-2}
out=${4:-/tmp/port-ab}
backend=${5:-sqlite}
mkdir -p "$out"
case $backend in
  sqlite) threads=io.cairn.bench.sqlite.SqliteThreadsBenchmark; impls=CAIRN_SQLITE,RAW_SQLITE
    queue=CAIRN_SQLITE,TAPE ;;
  rocksdb) threads=io.cairn.bench.rocksdb.RocksDbThreadsBenchmark; impls=CAIRN_ROCKSDB,RAW_ROCKSDB
    queue=CAIRN_ROCKSDB,TAPE ;;
  *) echo "backend must be sqlite or rocksdb, not '$backend'" >&2; exit 2 ;;
esac
n=0
for p in $(seq 1 "$pairs"); do
  for side in after before; do
    n=$((n + 1))
    jar=$before
    [ "$side" = after ] && jar=$after
    flock /tmp/bench.lock bash -c "
      set -e
      echo \"=== $side #$n start \$(date -u +%T) load \$(cut -d' ' -f1-3 /proc/loadavg)\"
      for t in 1 4 8; do
        java -jar '$jar' '$threads' -t \$t -f 1 -wi 2 -w 2s -i 3 -r 3s -p impl=$impls \
          -rf json -rff \"$out/kv-t\${t}-$n-$side.json\" > \"$out/kv-t\${t}-$n-$side.log\" 2>&1
      done
      java -jar '$jar' io.cairn.bench.queue.DurableQueueBenchmark -f 1 -wi 2 -w 2s -i 3 -r 3s \
        -p impl=$queue -rf json -rff '$out/queue-$n-$side.json' > '$out/queue-$n-$side.log' 2>&1
      java -jar '$jar' io.cairn.bench.cache.TieredCachePairedBenchmark -f 1 -wi 2 -w 2s -i 3 -r 3s \
        -rf json -rff '$out/cache-$n-$side.json' > '$out/cache-$n-$side.log' 2>&1
      echo \"=== $side #$n end \$(date -u +%T) load \$(cut -d' ' -f1-3 /proc/loadavg)\""
  done
done
python3 - "$out" <<'PY'
import glob, json, os, re, sys
from collections import defaultdict
out = sys.argv[1]
rows = defaultdict(lambda: defaultdict(list))  # (bench, case) -> side -> [(cairn, raw)]
for f in sorted(glob.glob(out + '/*.json')):
    side = 'after' if f.endswith('-after.json') else 'before'
    runs = defaultdict(dict)
    for b in json.load(open(f)):
        name = b['benchmark'].split('.')[-2] + '.' + b['benchmark'].split('.')[-1]
        params = dict(b.get('params', {}))
        if 'tier' in params:  # paired: cairn and raw in one benchmark's secondary metrics
            m = b['secondaryMetrics']
            c, r = m['cairn']['scorePercentiles']['50.0'], m['raw']['scorePercentiles']['50.0']
            rows[(name, 'tier=' + params['tier'] + ' p50')][side].append((1 / c, 1 / r))
            continue
        impl = params.pop('impl')
        case = ' '.join(f'{k}={v}' for k, v in sorted(params.items())) + f" t={b['threads']}"
        runs[(name, case)]['raw' if not impl.startswith('CAIRN') else 'cairn'] = b['primaryMetric']['score']
    for k, v in runs.items():
        if 'cairn' in v and 'raw' in v:
            rows[k][side].append((v['cairn'], v['raw']))
print('| benchmark | case | before: cairn/raw per run | after: cairn/raw per run | after/before (cairn score, mean) |')
print('|---|---|---|---|---:|')
for (name, case), sides in sorted(rows.items()):
    cell = lambda s: ' '.join(f'{c / r:.2f}' for c, r in sides.get(s, []))
    mean = lambda s: sum(c for c, _ in sides[s]) / len(sides[s]) if sides.get(s) else float('nan')
    print(f"| {name} | {case.strip()} | {cell('before')} | {cell('after')} | {mean('after') / mean('before'):.2f} |")
PY
