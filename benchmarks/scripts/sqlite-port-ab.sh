#!/bin/bash
# sqlite-port-ab.sh OLD.jar PORT.jar [threads="1 4 8"] [rounds=1] [outdir=/tmp/sqlite-port-ab] [extra JMH args...]
# Issue 12's decisive comparison: SqliteThreadsBenchmark get/put with CAIRN_SQLITE beside RAW_SQLITE
# in the same run, the old SQLite backend (a benchmarks jar built from main before the port) against
# the port (SqliteEngine on EngineBackend), alternated per thread count (port, old, port, old, ...),
# each run under the shared benchmark lock, the load printed around each run. Prints per run and
# benchmark: Cairn ops/s, raw ops/s, Cairn/raw with JMH's error on Cairn. The verdict is the
# Cairn/raw ratio of the port against the old one at each thread count (issue 12: no ratio worse
# by more than the run's error). See benchmarks/RESULTS-sqlite-port.md.
set -e
old=$1; port=$2; threads=${3:-"1 4 8"}; rounds=${4:-1}; out=${5:-/tmp/sqlite-port-ab}
shift 5 2>/dev/null || shift $#
mkdir -p "$out"
for r in $(seq 1 "$rounds"); do
  for t in $threads; do
    for side in port old; do
      jar=$old; [ "$side" = port ] && jar=$port
      flock /tmp/bench.lock bash -c "
        echo \"=== $side t=$t round $r start \$(date -u +%T) load \$(cut -d' ' -f1-3 /proc/loadavg)\"
        java -jar '$jar' 'io.cairn.bench.sqlite.SqliteThreadsBenchmark' -t $t -f 1 -wi 2 -w 3s -i 3 -r 4s \
          -rf json -rff '$out/$side-t$t-r$r.json' $* > '$out/$side-t$t-r$r.log' 2>&1
        echo \"=== $side t=$t round $r end \$(date -u +%T) load \$(cut -d' ' -f1-3 /proc/loadavg)\""
    done
  done
done
python3 - "$out" <<'PY'
import json, sys, glob, os, collections
out = sys.argv[1]
rows = collections.defaultdict(dict)
for f in sorted(glob.glob(out + '/*.json')):
    side, t, r = os.path.basename(f)[:-5].split('-')
    for b in json.load(open(f)):
        name = b['benchmark'].rsplit('.', 1)[1]
        m = b['primaryMetric']
        rows[(name, t, r, side)][b['params']['impl']] = (m['score'], m['scoreError'])
print("| bench | threads | round | side | Cairn ops/s | +- | raw ops/s | Cairn/raw |")
print("|---|---:|---:|---|---:|---:|---:|---:|")
for (name, t, r, side), v in sorted(rows.items(), key=lambda kv: (kv[0][0], int(kv[0][1][1:]), kv[0][2], kv[0][3])):
    c, ce = v.get('CAIRN_SQLITE', (float('nan'), 0))
    w, _ = v.get('RAW_SQLITE', (float('nan'), 0))
    print(f"| {name} | {t[1:]} | {r[1:]} | {side} | {c:,.0f} | {ce:,.0f} | {w:,.0f} | {c / w:.2f} |")
PY
