#!/usr/bin/env python3
# jmh_thread_sched.py samples.txt iteration_s iterations [jmh-result.json]: per thread of each JMH
# fork (samples of jmh_schedstat.py), over the measured iterations: CPU share, run-queue wait per
# second, voluntary and involuntary context switches per second, and the mean run-queue wait per
# involuntary switch (how long a preempted thread waited). Threads that neither ran nor waited are
# left out. With a sample-mode result file, prints each benchmark's p50/p90/p99/p99.9 first.
# Issue 12 (the L3 hit's p99 with the RocksDB port as fast tier, RESULTS-cache-tiers.md).
import sys, json
from jmh_samples import read_samples, measured_window
path, its, n = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
if len(sys.argv) > 4:
    for b in json.load(open(sys.argv[4])):
        metrics = b.get('secondaryMetrics') or {b['benchmark'].rsplit('.', 1)[1]: b['primaryMetric']}
        for name, m in metrics.items():
            if ':' in name or name.startswith('p0.') or name.startswith('p1.'):
                continue  # the group's percentile rows, not a benchmark
            p = m['scorePercentiles']
            print(f"{name}: p50 {p['50.0']:.2f} p90 {p['90.0']:.2f} p99 {p['99.0']:.1f}"
                  f" p99.9 {p['99.9']:.0f} {m['scoreUnit']}")
rows, order = read_samples(path)
print("fork thread window_s cpu% runq_ms/s vol/s invol/s runq_us/invol")
for k, pid in enumerate(order):
    ts = rows[pid]
    if not any(x[0].startswith('io.cairn.bench') for t in ts.values() for x in t.values()):
        continue  # a process that only named ForkedMain in its command line
    a, b = measured_window(ts, its, n)
    A = ts[a]
    # a thread that ended with the trial (the cache's own threads end at its tear-down, which can
    # fall before the window's last sample): its last sample inside the window
    last = {}
    for t in sorted(x for x in ts if a < x <= b):
        for tid, x in ts[t].items():
            last[tid] = (t, x)
    for tid, (t, x) in sorted(last.items(), key=lambda e: -(e[1][1][1] - A.get(e[0], e[1][1])[1])):
        if tid not in A:
            continue
        dt = t - a
        on, rq, v, nv = (x[j] - A[tid][j] for j in range(1, 5))
        if on + rq < 0.001 * dt * 1e9:
            continue
        print(f"{k} {x[0]}:{tid} {dt:.1f} {100 * on / 1e9 / dt:.1f} {rq / 1e6 / dt:.1f}"
              f" {v / dt:.0f} {nv / dt:.0f} {rq / 1e3 / nv if nv else 0:.0f}")
