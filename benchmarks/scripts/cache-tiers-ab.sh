#!/bin/bash
# cache-tiers-ab.sh BEFORE.jar AFTER.jar [pairs=3] [outdir=/tmp/cache-tiers-ab]
# Issue 16's hit ratios, before against after, alternated (after, before, after, ...), each run
# under the shared benchmark lock: TieredCachePairedBenchmark (L2 and L3 hit beside the raw get,
# p50/p99) and TieredCacheCpuCost (thread CPU per operation, one thread alternating hit and raw
# get). Prints the load around each run and a summary table with ratios (raw / cairn) per run and
# per 3 s iteration. Both jars must contain the same TieredCachePairedBenchmark (the raw side
# reading its own copy of the data, since 2026-12-06). See benchmarks/RESULTS-cache-tiers.md.
set -e
before=$1; after=$2; pairs=${3:-3}; out=${4:-/tmp/cache-tiers-ab}
mkdir -p "$out"
n=0
for p in $(seq 1 "$pairs"); do
  for side in after before; do
    n=$((n + 1)); jar=$before; [ "$side" = after ] && jar=$after
    flock /tmp/bench.lock bash -c "
      echo \"=== $side #$n start \$(date -u +%T) load \$(cut -d' ' -f1-3 /proc/loadavg)\"
      java -jar '$jar' io.cairn.bench.cache.TieredCachePairedBenchmark -f 1 -wi 2 -i 4 -w 2s -r 3s \
        -rf json -rff '$out/pair-$n-$side.json' > '$out/pair-$n-$side.log' 2>&1
      java -cp '$jar' io.cairn.bench.cache.TieredCacheCpuCost 12 50000 2>/dev/null | grep -E '^\\| |^ratios' > '$out/cpu-$n-$side.txt'
      echo \"=== $side #$n end \$(date -u +%T) load \$(cut -d' ' -f1-3 /proc/loadavg)\""
  done
done
python3 - "$out" <<'PY'
import json, sys, os, glob, re
out = sys.argv[1]
key = lambda p: int(re.search(r'-(\d+)-', os.path.basename(p)).group(1))
print("| run | tier | cairn p50 | cairn p99 | raw p50 | raw p99 | ratio p50 | ratio p99 | p50 ratio per iteration |")
print("|---|---|---:|---:|---:|---:|---:|---:|---|")
for f in sorted(glob.glob(out + '/pair-*.json'), key=key):
    for b in json.load(open(f)):
        m = b['secondaryMetrics']
        c, r = m['cairn']['scorePercentiles'], m['raw']['scorePercentiles']
        it = [x / y for x, y in zip(m['raw:p0.50']['rawData'][0], m['cairn:p0.50']['rawData'][0])]
        print(f"| {os.path.basename(f)[5:-5]} | {b['params']['tier']} | {c['50.0']:.3f} | {c['99.0']:.2f}"
              f" | {r['50.0']:.3f} | {r['99.0']:.2f} | {r['50.0'] / c['50.0']:.2f} | {r['99.0'] / c['99.0']:.2f}"
              f" | {' '.join(f'{x:.2f}' for x in it)} |")
print()
for f in sorted(glob.glob(out + '/cpu-*.txt'), key=key):
    ratios = [l for l in open(f) if l.startswith('ratios')]
    print(os.path.basename(f)[:-4], ratios[0].strip() if ratios else '(no result)')
PY
