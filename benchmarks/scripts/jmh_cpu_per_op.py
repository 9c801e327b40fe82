#!/usr/bin/env python3
# jmh_cpu_per_op.py samples.txt jmh-output.txt warmup_s iteration_s [iterations]: for each JMH fork
# (in order), over its last iterations x iteration_s seconds of busy benchmark threads (JMH worker
# threads, named after the benchmark class: comm starts with "io.cairn.bench"), the CPU per
# operation of the worker threads and of all other threads of that JVM, the run-queue wait and
# context switches per operation, and the cores the workers used. Operations = window x the mean of
# the fork's iteration scores (an approximation: the window is found from the samples).
import sys, re, collections
from jmh_samples import read_samples, measured_window
samples, out, ws, its = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
NI = int(sys.argv[5]) if len(sys.argv) > 5 else 3
rows, order = read_samples(samples)
# JMH scores per fork: warmup lines then iteration lines, in fork order
forks = []; cur = None
for l in open(out):
    if l.startswith('# Parameters'):
        cur = {'w': [], 'i': []}; forks.append(cur)
    elif l.startswith('Iteration') and cur is not None:
        cur['i'].append(float(re.search(r'([\d.]+) ops/s', l).group(1)))
for k, pid in enumerate(order):
    ts = rows[pid]
    a, b = measured_window(ts, its, NI)
    A, B = ts[a], ts[b]
    tot = collections.Counter()
    for tid, x in B.items():
        if tid in A:
            g = 'worker' if x[0].startswith('io.cairn.bench') else 'other'
            for j, nm in enumerate(['cpu', 'runq', 'vcs', 'nvcs']):
                tot[g + '_' + nm] += x[j + 1] - A[tid][j + 1]
    f = forks[k]
    ops = (b - a) * sum(f['i']) / len(f['i'])
    print(f"fork {k} pid {pid}: busy {b-a:.1f}s, ops {ops:.0f} (iters {[round(x) for x in f['i']]}); "
          f"worker CPU/op {tot['worker_cpu']/ops/1e3:.2f}us, other-threads CPU/op {tot['other_cpu']/ops/1e3:.2f}us, "
          f"worker runq/op {tot['worker_runq']/ops/1e3:.2f}us, worker vcs/1k ops {1e3*tot['worker_vcs']/ops:.2f}, nvcs/1k ops {1e3*tot['worker_nvcs']/ops:.2f}, "
          f"worker cores {tot['worker_cpu']/1e9/(b-a):.2f}, other cores {tot['other_cpu']/1e9/(b-a):.2f}")
