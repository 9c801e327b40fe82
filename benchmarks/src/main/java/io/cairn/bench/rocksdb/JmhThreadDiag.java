package io.cairn.bench.rocksdb;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.IdentityHashMap;
import java.util.Map;
import org.rocksdb.RocksDB;

/**
 * A diagnostic for {@link RocksDbThreadsBenchmark}, on with {@code -Dcairn.bench.rocksdb.diag=true}
 * (else nothing runs): per measured iteration, inside the JMH fork itself, the worker threads'
 * running and run-queue time, voluntary and involuntary context switches (Linux {@code
 * /proc/self/task/}*{@code /schedstat} and {@code status}, threads named {@code *jmh-worker*}) and
 * RocksDB's own write counters ({@code rocksdb.dbstats}: writes and commit groups), each per
 * operation. The RocksDB handle is found by reflection in the object graph of the opened store, so
 * Cairn's is read exactly as raw's.
 */
final class JmhThreadDiag {
  static final boolean ON = Boolean.getBoolean("cairn.bench.rocksdb.diag");

  private long[] t0;
  private long[] g0;
  private long ops0;
  private final RocksDB db;

  JmhThreadDiag(Object kv) {
    db = ON ? find(kv, 0, new IdentityHashMap<>()) : null;
  }

  /** The first RocksDB reachable from {@code o} through at most 6 fields, or null. */
  private static RocksDB find(Object o, int depth, Map<Object, Boolean> seen) {
    if (o == null || depth > 6 || seen.put(o, true) != null) {
      return null;
    }
    if (o instanceof RocksDB r) {
      return r;
    }
    if (o.getClass().getName().startsWith("java.") || o.getClass().isArray()) {
      return null;
    }
    for (Class<?> c = o.getClass(); c != null; c = c.getSuperclass()) {
      for (Field f : c.getDeclaredFields()) {
        if (f.getType().isPrimitive() || java.lang.reflect.Modifier.isStatic(f.getModifiers())) {
          continue;
        }
        try {
          f.setAccessible(true);
          RocksDB r = find(f.get(o), depth + 1, seen);
          if (r != null) {
            return r;
          }
        } catch (ReflectiveOperationException | RuntimeException e) {
          // not reachable this way (module or security boundary): try the other fields
        }
      }
    }
    return null;
  }

  private static final java.util.Set<Path> WORKERS =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** Called on each JMH worker thread: remembers its /proc/self/task/<tid> directory. */
  static void register() {
    try {
      Path link = Files.readSymbolicLink(Path.of("/proc/thread-self"));
      WORKERS.add(Path.of("/proc/self/task").resolve(link.getFileName()));
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cairn.bench.rocksdb.diag needs Linux /proc/thread-self; run without it elsewhere", e);
    }
  }

  /** run ns, queued ns, voluntary, involuntary switches, summed over the JMH worker threads. */
  static long[] workers() {
    long[] s = new long[4];
    for (Path t : WORKERS) {
      try {
        String[] ss = Files.readString(t.resolve("schedstat")).trim().split(" ");
        s[0] += Long.parseLong(ss[0]);
        s[1] += Long.parseLong(ss[1]);
        for (String line : Files.readAllLines(t.resolve("status"))) {
          if (line.startsWith("voluntary_ctxt_switches:")) {
            s[2] += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
          } else if (line.startsWith("nonvoluntary_ctxt_switches:")) {
            s[3] += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException("reading " + t + " (a JMH worker's counters)", e);
      }
    }
    return s;
  }

  /** writes and commit groups so far, from the "Cumulative writes" line of rocksdb.dbstats. */
  long[] groups() {
    if (db == null) {
      return new long[2];
    }
    try {
      for (String line : db.getProperty("rocksdb.dbstats").split("\n")) {
        if (line.startsWith("Cumulative writes:")) {
          String[] w = line.substring(18).trim().split(",");
          return new long[] {count(w[0]), count(w[2])};
        }
      }
    } catch (org.rocksdb.RocksDBException e) {
      throw new IllegalStateException(e);
    }
    return new long[2];
  }

  private static long count(String s) {
    String n = s.trim().split(" ")[0];
    double m = 1;
    if (n.endsWith("K")) {
      m = 1e3;
    } else if (n.endsWith("M")) {
      m = 1e6;
    } else if (n.endsWith("G")) {
      m = 1e9;
    }
    return (long) (Double.parseDouble(n.replaceAll("[KMG]$", "")) * m);
  }

  void start(long ops) {
    t0 = workers();
    g0 = groups();
    ops0 = ops;
  }

  void end(long ops, String what) {
    long[] t1 = workers();
    long[] g1 = groups();
    double n = ops - ops0;
    System.out.printf(
        "%n[diag %s] ops %,.0f; worker CPU %.2f us/op, runnable %.2f us/op, vol %.3f/op, invol"
            + " %.3f/op; rocksdb writes %,d in %,d groups (%.2f per group)%n",
        what,
        n,
        (t1[0] - t0[0]) / 1e3 / n,
        (t1[1] - t0[1]) / 1e3 / n,
        (t1[2] - t0[2]) / n,
        (t1[3] - t0[3]) / n,
        g1[0] - g0[0],
        g1[1] - g0[1],
        (g1[0] - g0[0]) / (double) Math.max(1, g1[1] - g0[1]));
  }
}
