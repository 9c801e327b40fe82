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
  private long[] gc0;
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

  /**
   * Collections and their total milliseconds so far, all collectors: a collection stops every
   * writer at a safepoint (those inside RocksDB on their return), after which they resume at once.
   */
  static long[] gc() {
    long[] s = new long[2];
    for (java.lang.management.GarbageCollectorMXBean b :
        java.lang.management.ManagementFactory.getGarbageCollectorMXBeans()) {
      s[0] += Math.max(0, b.getCollectionCount());
      s[1] += Math.max(0, b.getCollectionTime());
    }
    return s;
  }

  /**
   * RocksDB's write-thread "yield credits": {@code WriteThread::AwaitState} (a writer waiting for
   * its group's leader, or a leader for its group's memtable writers) spins about 1 us, then, only
   * while its call site's credit is {@code >= 0} (or on 1 wait in 256, which samples whether
   * yielding would have worked), yields for up to {@code write_thread_max_yield_usec}, then blocks
   * on a futex. Each call site keeps its credit in a function-local static {@code
   * AdaptationContext} (one per process): +2^17 when a sampled yield saw its wait end, -2^17 when
   * it had to block or met 3 slow yields, decaying by 1/1024 per sample. A negative credit
   * therefore means: every wait longer than the spin blocks. The statics have no symbol; their
   * addresses below were read off the disassembly of {@code librocksdbjni-linux64.so} of rocksdbjni
   * 11.8.1 ({@code objdump -d}: the {@code lea ...(%rip),%rcx} before each call of {@code
   * AwaitState}, the credit at +8 in the context), and are used only if the instruction bytes at
   * {@link #LEA_AT} match, i.e. the same build is loaded; otherwise nothing is read and the line
   * says so.
   */
  static final String[] CREDIT_SITES = {
    "JoinBatchGroup", "CompleteParallelMemTableWriter", "ExitAsBatchGroupLeader", "EnterUnbatched"
  };

  private static final long[] CREDIT_AT = {0xe59508L, 0xe594f8L, 0xe594e8L, 0xe594d8L};
  static final long LEA_AT = 0x7a3784L; // in JoinBatchGroup: lea jbg_ctx(%rip),%rcx
  private static final byte[] LEA = {0x48, (byte) 0x8d, 0x0d, 0x75, 0x5d, 0x6b, 0x00};

  /**
   * Where librocksdbjni is mapped (its mapping at file offset 0), or 0 if not found. Read once a
   * database is open (whoever loaded the library: Cairn loads it from its own cache directory).
   */
  private static long libraryBase() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/maps"))) {
        String[] f = line.trim().split("\\s+");
        if (f.length >= 6 && f[5].contains("librocksdbjni") && Long.parseLong(f[2], 16) == 0) {
          return Long.parseUnsignedLong(f[0].substring(0, f[0].indexOf('-')), 16);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("reading /proc/self/maps", e);
    }
    return 0;
  }

  /** The credits of {@link #CREDIT_SITES}, or null if this is not the build they were read off. */
  static int[] yieldCredits() {
    long base = libraryBase();
    if (base == 0) {
      return null;
    }
    try (java.nio.channels.FileChannel mem =
        java.nio.channels.FileChannel.open(Path.of("/proc/self/mem"))) {
      java.nio.ByteBuffer code = java.nio.ByteBuffer.allocate(LEA.length);
      mem.read(code, base + LEA_AT);
      if (!java.util.Arrays.equals(code.array(), LEA)) {
        return null;
      }
      int[] credits = new int[CREDIT_AT.length];
      for (int i = 0; i < credits.length; i++) {
        java.nio.ByteBuffer b =
            java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        mem.read(b, base + CREDIT_AT[i]);
        credits[i] = b.getInt(0);
      }
      return credits;
    } catch (IOException e) {
      throw new UncheckedIOException("reading RocksDB's yield credits from /proc/self/mem", e);
    }
  }

  void start(long ops) {
    t0 = workers();
    g0 = groups();
    gc0 = gc();
    ops0 = ops;
  }

  void end(long ops, String what) {
    long[] t1 = workers();
    long[] g1 = groups();
    long[] gc1 = gc();
    double n = ops - ops0;
    int[] credits = yieldCredits();
    StringBuilder c = new StringBuilder();
    if (credits == null) {
      c.append("not read (another librocksdbjni build)");
    } else {
      for (int i = 0; i < credits.length; i++) {
        c.append(i == 0 ? "" : ", ").append(CREDIT_SITES[i]).append(' ').append(credits[i] >> 17);
      }
    }
    System.out.printf("%n[diag %s] yield credits (units of 2^17) %s%n", what, c);
    System.out.printf(
        "%n[diag %s] ops %,.0f; worker CPU %.2f us/op, runnable %.2f us/op, vol %.3f/op, invol"
            + " %.3f/op; rocksdb writes %,d in %,d groups (%.2f per group); gc %d (%d ms)%n",
        what,
        n,
        (t1[0] - t0[0]) / 1e3 / n,
        (t1[1] - t0[1]) / 1e3 / n,
        (t1[2] - t0[2]) / n,
        (t1[3] - t0[3]) / n,
        g1[0] - g0[0],
        g1[1] - g0[1],
        (g1[0] - g0[0]) / (double) Math.max(1, g1[1] - g0[1]),
        gc1[0] - gc0[0],
        gc1[1] - gc0[1]);
  }
}
