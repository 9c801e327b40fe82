package io.cairn.bench.rocksdb;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * A diagnostic, not a JMH benchmark: the calling thread's CPU time per put, Cairn's RocksDB backend
 * beside raw rocksdbjni ({@link RawRocks}), in interleaved rounds in one JVM (the order of the
 * targets rotates every round), so a load that steals the CPU slows both sides alike and thread CPU
 * time does not count the time a thread waits for the CPU. Single writer, {@code durability = none}
 * on both sides ({@code disableWAL}), 16-byte keys over {@code keys} preloaded keys in a
 * pseudo-random order, 100-byte values, as {@link RocksDbThreadsBenchmark}.
 *
 * <pre>
 * flock /tmp/bench.lock java -cp benchmarks/target/benchmarks.jar \
 *   io.cairn.bench.rocksdb.RocksDbPutCpuCost 40 20000 cairn cairn-registry raw
 * </pre>
 *
 * Arguments: rounds (the first fifth are warm-up, not reported), puts (gets) per target per round,
 * targets ({@code cairn}: the backend through its provider; {@code cairn-registry}: through the
 * registry with its per-operation timer; {@code raw}; {@code raw-shaped}: raw with Cairn's entry
 * shape, see {@link #rawShaped}). Prints per target the median and quartiles of the rounds' CPU ns
 * per put, the median of the rounds' bytes the thread allocated per put (HotSpot's per-thread
 * count; steady after warm-up, so differences of a few bytes per put show), and the median over
 * rounds of each Cairn target's ratio to raw in the same round.
 */
public final class RocksDbPutCpuCost {
  private RocksDbPutCpuCost() {}

  public static void main(String[] args) {
    run("put", args);
  }

  /**
   * The measurement for {@code op} "put" (this class) or "get" ({@link RocksDbGetCpuCost}): the
   * same set-up, rounds and report; a get reads back every value so that none is dead code.
   */
  static void run(String op, String[] args) {
    boolean get = op.equals("get");
    int rounds = Integer.parseInt(args[0]);
    int ops = Integer.parseInt(args[1]);
    List<String> names = Arrays.asList(args).subList(2, args.length);
    byte[][] keySpace = keySpace();
    int keys = keySpace.length;
    byte[] value = value();
    List<RocksDbKeyValueBenchmark.Kv> kvs = new ArrayList<>();
    for (String n : names) {
      RocksDbKeyValueBenchmark.Kv kv =
          switch (n) {
            case "cairn" ->
                RocksDbKeyValueBenchmark.open(
                    RocksDbKeyValueBenchmark.Impl.CAIRN_ROCKSDB_BARE, "none");
            case "cairn-registry" ->
                RocksDbKeyValueBenchmark.open(RocksDbKeyValueBenchmark.Impl.CAIRN_ROCKSDB, "none");
            case "raw" ->
                RocksDbKeyValueBenchmark.open(RocksDbKeyValueBenchmark.Impl.RAW_ROCKSDB, "none");
            case "raw-shaped" -> rawShaped();
            default -> throw new IllegalArgumentException("unknown target " + n);
          };
      for (byte[] k : keySpace) {
        kv.put(k, value);
      }
      kvs.add(kv);
    }
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    // HotSpot's: bytes this thread allocated (TLAB accounting, which counts escaped objects only)
    com.sun.management.ThreadMXBean alloc = (com.sun.management.ThreadMXBean) mx;
    int warm = rounds / 5;
    double[][] nsPerOp = new double[names.size()][rounds - warm];
    double[][] bytesPerOp = new double[names.size()][rounds - warm];
    long x = 0x9E3779B97F4A7C15L;
    long bytes = 0; // read back so no get is dead code; every key is present
    for (int r = 0; r < rounds; r++) {
      for (int j = 0; j < names.size(); j++) {
        int t = (j + r) % names.size();
        RocksDbKeyValueBenchmark.Kv kv = kvs.get(t);
        long alloc0 = alloc.getCurrentThreadAllocatedBytes();
        long cpu0 = mx.getCurrentThreadCpuTime();
        for (int i = 0; i < ops; i++) {
          x ^= x << 13;
          x ^= x >>> 7;
          x ^= x << 17;
          byte[] k = keySpace[(int) ((x >>> 1) % keys)];
          if (get) {
            bytes += kv.get(k).length;
          } else {
            kv.put(k, value);
          }
        }
        long cpu = mx.getCurrentThreadCpuTime() - cpu0;
        long allocated = alloc.getCurrentThreadAllocatedBytes() - alloc0;
        if (r >= warm) {
          nsPerOp[t][r - warm] = (double) cpu / ops;
          bytesPerOp[t][r - warm] = (double) allocated / ops;
        }
      }
    }
    if (get && bytes != (long) rounds * names.size() * ops * value.length) {
      throw new IllegalStateException("a get returned a value of the wrong length: " + bytes);
    }
    int raw = names.indexOf("raw");
    int shaped = names.indexOf("raw-shaped");
    for (int t = 0; t < names.size(); t++) {
      // a line against raw (none for raw itself), and one against raw-shaped for Cairn's targets
      for (int i = 0; i < 2; i++) {
        int ref = i == 0 ? raw : shaped;
        boolean against = ref >= 0 && t != ref && (i == 0 || t != raw);
        if (i == 0 || against) {
          System.out.println(
              line(
                  String.format(Locale.ROOT, "%-16s", names.get(t)),
                  op,
                  nsPerOp[t],
                  bytesPerOp[t],
                  against ? nsPerOp[ref] : null,
                  i == 0 ? "raw" : "raw-shaped"));
        }
      }
    }
    for (RocksDbKeyValueBenchmark.Kv kv : kvs) {
      kv.close();
    }
  }

  /** The bytes of Cairn's key prefix for namespace "bench": kind 1, name length 5, the name. */
  private static final byte[] SHAPED_PREFIX = {1, 0, 5, 'b', 'e', 'n', 'c', 'h'};

  /**
   * The header Cairn's base writes before a key-value entry's value (tag, flags, version, expiry).
   */
  private static final int SHAPED_HEADER = 18;

  /**
   * Raw rocksdbjni with RocksDB's default options, as {@code raw}, writing and reading Cairn's
   * entry shape: the key under the engine's store prefix (24 bytes) and the value under the base's
   * header (118 bytes), both built per operation as Cairn builds them, and a get copying the value
   * out of the stored record. None of Cairn's Java code and none of its engine options, so {@code
   * raw-shaped / raw} is what the entry shape costs inside RocksDB and {@code cairn / raw-shaped}
   * what Cairn's code and configuration add.
   */
  private static RocksDbKeyValueBenchmark.Kv rawShaped() {
    RawRocks raw = new RawRocks(false);
    raw.writeOptions.setDisableWAL(true);
    return new RocksDbKeyValueBenchmark.Kv() {
      @Override
      public byte[] get(byte[] key) {
        byte[] stored = raw.get(shapedKey(key));
        return Arrays.copyOfRange(stored, SHAPED_HEADER, stored.length);
      }

      @Override
      public void put(byte[] key, byte[] value) {
        byte[] v = new byte[SHAPED_HEADER + value.length];
        v[0] = 'K';
        System.arraycopy(value, 0, v, SHAPED_HEADER, value.length);
        raw.put(shapedKey(key), v);
      }

      @Override
      public void close() {
        raw.close();
      }
    };
  }

  private static byte[] shapedKey(byte[] key) {
    byte[] k = Arrays.copyOf(SHAPED_PREFIX, SHAPED_PREFIX.length + key.length);
    System.arraycopy(key, 0, k, SHAPED_PREFIX.length, key.length);
    return k;
  }

  /** The 100,000 preloaded 16-byte keys ({@link RocksDbThreadsBenchmark#key}). */
  static byte[][] keySpace() {
    byte[][] keySpace = new byte[100_000][];
    for (int i = 0; i < keySpace.length; i++) {
      keySpace[i] = RocksDbThreadsBenchmark.key(i);
    }
    return keySpace;
  }

  /** The 100-byte value every put writes. */
  static byte[] value() {
    byte[] value = new byte[100];
    new Random(42).nextBytes(value);
    return value;
  }

  /**
   * One target's report: the median and quartiles of its rounds' CPU ns per op, the median bytes
   * allocated per op, and, when {@code ref} (another target's rounds) is given, the median and
   * quartiles over rounds of its CPU ratio to {@code ref} in the same round.
   */
  static String line(
      String name, String op, double[] ns, double[] bytes, double[] ref, String refName) {
    double[] s = sorted(ns);
    String line =
        String.format(
            Locale.ROOT,
            "%s cpu ns/%s median %7.0f  (quartiles %7.0f .. %7.0f)  allocated B/%s %6.1f",
            name,
            op,
            s[s.length / 2],
            s[s.length / 4],
            s[s.length * 3 / 4],
            op,
            sorted(bytes)[s.length / 2]);
    if (ref == null) {
      return line;
    }
    double[] ratio = new double[s.length];
    for (int r = 0; r < ratio.length; r++) {
      ratio[r] = ns[r] / ref[r];
    }
    ratio = sorted(ratio);
    return line
        + String.format(
            Locale.ROOT,
            "  / %s same round: median %.3f (quartiles %.3f .. %.3f)",
            refName,
            ratio[ratio.length / 2],
            ratio[ratio.length / 4],
            ratio[ratio.length * 3 / 4]);
  }

  private static double[] sorted(double[] a) {
    double[] s = a.clone();
    Arrays.sort(s);
    return s;
  }
}
