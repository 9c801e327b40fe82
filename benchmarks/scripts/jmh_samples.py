"""Reading ../jmh_schedstat.py's samples of forked JMH JVMs, shared by jmh_cpu_per_op.py and
sqlite-port/jmh_forks.py.

A sample line is: time pid tid comm on-cpu-ns run-queue-ns timeslices voluntary-switches
involuntary-switches (cumulative per thread). JMH worker threads are named after the benchmark
class, so their comm starts with "io.cairn.bench".
"""
import collections

WORKER = 'io.cairn.bench'


def read_samples(path):
    """{pid: {time: {tid: (comm, on, runq, vcs, nvcs)}}} and the pids in the order first seen."""
    rows = collections.defaultdict(lambda: collections.defaultdict(dict))
    order = []
    for l in open(path):
        t, pid, tid, comm, on, rq, sl, v, nv = l.split()
        if pid not in order:
            order.append(pid)
        rows[pid][float(t)][tid] = (comm, int(on), int(rq), int(v), int(nv))
    return rows, order


def measured_window(ts, iteration_s, iterations):
    """(a, b): the end of the fork's last busy stretch of worker threads (over 5 % of a core) and
    the sample closest to iterations x iteration_s seconds before it: the measured iterations."""
    times = sorted(ts)
    busy = []
    for a, b in zip(times, times[1:]):
        wa = sum(x[1] for x in ts[a].values() if x[0].startswith(WORKER))
        wb = sum(x[1] for tid, x in ts[b].items() if x[0].startswith(WORKER) and tid in ts[a])
        if (wb - wa) / 1e9 / (b - a) > 0.05:
            busy.append((a, b))
    b = busy[-1][1]
    a = min(times, key=lambda x: abs(x - (b - iteration_s * iterations)))
    return a, b
