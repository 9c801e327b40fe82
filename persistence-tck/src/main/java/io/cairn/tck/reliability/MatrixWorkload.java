package io.cairn.tck.reliability;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.spi.Checksums;
import java.io.FileOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;

/**
 * The seeded workload of the {@link CorruptionMatrix}, through the public API only: two key-value
 * namespaces with overwrites (growing versions), deletes, compare-and-set, batches, long TTLs and
 * TTLs that have expired by the end (their keys must stay invisible); two logs (single appends,
 * {@code appendAll}, appends inside transactions, a retention {@code truncateBefore}); one snapshot
 * set with four snapshots of up to 600 KB and a {@code retainLatest(3)}. Keys, values and payloads
 * are printable ASCII with distinctive prefixes ({@code mkey-}, {@code mval-}, {@code mlog-}) so
 * the matrix can find them in the engine's files and damage exactly those bytes.
 *
 * <p>As a child-JVM main (the kill variant) it takes {@code config=<hocon file> backend=<name>
 * seed=<n> model=<file> acks=<file>}, runs the workload, writes the model, prints {@code WRITTEN}
 * and then writes an endless tail of single puts {@code tail-<n>} (n = 1, 2, ...) into {@value
 * #TAIL} until it is killed, appending {@code n} to the acks file after each put returned. The tail
 * puts up to the last line of the acks file are acknowledged; the one after it was in flight at the
 * kill and may or may not be there.
 */
public final class MatrixWorkload {
  static final String KV = "m-kv";
  static final String KV2 = "m-kv2";
  static final String LOG = "m-log";
  static final String LOG2 = "m-log2";
  static final String SNAPSHOTS = "m-snap";
  static final String TAIL = "m-tail";
  private static final int OPS = 600;
  private static final int KEYS = 250;
  private static final int[] SNAPSHOT_SIZES = {3_000, 120_000, 600_000, 50_000};

  private MatrixWorkload() {}

  /** Child-JVM entry point of the kill variant; arguments as described on the class. */
  public static void main(String[] args) throws Exception {
    Map<String, String> o = new HashMap<>();
    for (String a : args) {
      int eq = a.indexOf('=');
      o.put(a.substring(0, eq), a.substring(eq + 1));
    }
    try (PersistenceRegistry registry =
        PersistenceRegistry.open(ConfigFactory.parseFile(Path.of(o.get("config")).toFile()))) {
      StorageBackend backend = registry.backend(o.get("backend"));
      MatrixModel model = run(backend, Long.parseLong(o.get("seed")));
      model.tailNamespace = TAIL;
      model.write(Path.of(o.get("model")));
      System.out.println("WRITTEN");
      System.out.flush();
      KeyValueStore tail = backend.keyValue(TAIL);
      // Each acknowledgement is one unbuffered write(2): kill -9 keeps the page cache.
      try (FileOutputStream acks = new FileOutputStream(o.get("acks"), true)) {
        for (long n = 1; ; n++) {
          tail.put(b(tailKey(n)), b("tailval-" + n));
          acks.write(b(n + "\n"));
        }
      }
    } catch (Throwable e) {
      System.out.println("ERROR " + e);
      e.printStackTrace(System.out);
      System.out.flush();
      System.exit(3);
    }
  }

  static String tailKey(long n) {
    return String.format("tail-%09d", n);
  }

  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static String str(byte[] b) {
    return b == null ? null : new String(b, StandardCharsets.UTF_8);
  }

  /** Deterministic content of snapshot {@code version} of a workload with {@code seed}. */
  static byte[] snapshotData(long seed, long version, int size) {
    byte[] data = new byte[size];
    new Random(seed * 31 + version).nextBytes(data);
    return data;
  }

  private static String hex(Random rnd, int length) {
    StringBuilder sb = new StringBuilder(length);
    for (int i = 0; i < length; i++) {
      sb.append(Character.forDigit(rnd.nextInt(16), 16));
    }
    return sb.toString();
  }

  /**
   * Runs the workload on {@code backend} and returns the model read back from it.
   *
   * @throws IllegalStateException if the live backend does not return what the workload wrote (a
   *     backend bug, not damage: the matrix cannot start from it)
   */
  static MatrixModel run(StorageBackend backend, long seed) {
    Random rnd = new Random(seed);
    Map<String, KeyValueStore> stores =
        Map.of(KV, backend.keyValue(KV), KV2, backend.keyValue(KV2));
    Map<String, TreeMap<String, String>> expect = new TreeMap<>();
    expect.put(KV, new TreeMap<>());
    expect.put(KV2, new TreeMap<>());
    LogStore log = backend.log(LOG);
    LogStore log2 = backend.log(LOG2);
    for (int i = 0; i < OPS; i++) {
      String ns = rnd.nextInt(5) == 0 ? KV2 : KV;
      KeyValueStore kv = stores.get(ns);
      TreeMap<String, String> exp = expect.get(ns);
      String key = String.format("mkey-%s-%05d", ns.equals(KV) ? "a" : "b", rnd.nextInt(KEYS));
      int size = rnd.nextInt(20) == 0 ? 12_000 + rnd.nextInt(12_000) : 8 + rnd.nextInt(1_500);
      String value = "mval-" + i + "-" + hex(rnd, size);
      int dice = rnd.nextInt(100);
      if (dice < 38) {
        kv.put(b(key), b(value));
        exp.put(key, value);
      } else if (dice < 48) {
        kv.put(b(key), b(value), Duration.ofDays(30));
        exp.put(key, value);
      } else if (dice < 53) {
        kv.put(b(key), b(value), Duration.ofMillis(1));
        exp.put(key, null); // expired by the time the model is read
      } else if (dice < 62) {
        kv.delete(b(key));
        exp.put(key, null);
      } else if (dice < 70) {
        long version = kv.getEntry(b(key)).map(Entry::version).orElse(0L);
        kv.compareAndSet(b(key), version, b(value), null);
        exp.put(key, value);
      } else if (dice < 78) {
        List<KeyValue> batch = new ArrayList<>();
        Map<String, String> seen = new HashMap<>();
        for (int j = 0; j < 3 + rnd.nextInt(3); j++) {
          String k = String.format("mkey-%s-%05d", ns.equals(KV) ? "a" : "b", rnd.nextInt(KEYS));
          if (seen.containsKey(k)) {
            continue;
          }
          String v = value + "-b" + j;
          seen.put(k, v);
          batch.add(new KeyValue(b(k), b(v)));
        }
        kv.putAll(batch);
        exp.putAll(seen);
      } else if (dice < 86) {
        String payload = "mlog-" + i + "-tx-" + hex(rnd, 16 + rnd.nextInt(200));
        backend.inTransaction(
            tx -> {
              tx.keyValue(ns).put(b(key), b(value));
              tx.log(LOG).append(b(payload));
              return null;
            });
        exp.put(key, value);
      } else if (dice < 95) {
        log.append(b("mlog-" + i + "-" + hex(rnd, 16 + rnd.nextInt(300))));
      } else {
        List<byte[]> payloads = new ArrayList<>();
        for (int j = 0; j < 2 + rnd.nextInt(4); j++) {
          payloads.add(b("mlog-" + i + "-all" + j + "-" + hex(rnd, 16 + rnd.nextInt(100))));
        }
        log.appendAll(payloads);
      }
    }
    for (int batch = 0; batch < 4; batch++) {
      List<byte[]> payloads = new ArrayList<>();
      for (int j = 0; j < 10; j++) {
        payloads.add(b("mlog-2-" + batch + "-" + j + "-" + hex(rnd, 40)));
      }
      log2.appendAll(payloads);
    }
    if (log.nextOffset() > 50) {
      log.truncateBefore(log.firstOffset() + 25);
    }
    SnapshotStore snaps = backend.snapshots(SNAPSHOTS);
    for (int v = 0; v < SNAPSHOT_SIZES.length; v++) {
      snaps.save(v + 1, snapshotData(seed, v + 1, SNAPSHOT_SIZES[v]));
    }
    snaps.retainLatest(3);
    try {
      Thread.sleep(20); // the 1 ms TTLs are over
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return readBack(backend, seed, expect);
  }

  private static MatrixModel readBack(
      StorageBackend backend, long seed, Map<String, TreeMap<String, String>> expect) {
    MatrixModel model = new MatrixModel();
    expect.forEach(
        (ns, exp) -> {
          KeyValueStore kv = backend.keyValue(ns);
          TreeMap<String, MatrixModel.Kv> out = new TreeMap<>();
          exp.forEach(
              (k, v) -> {
                Optional<Entry> e = kv.getEntry(b(k));
                String found = e.map(x -> str(x.value())).orElse(null);
                if (!java.util.Objects.equals(found, v)) {
                  throw new IllegalStateException(
                      "the live backend returns "
                          + (found == null ? "nothing" : "a different value")
                          + " for "
                          + ns
                          + "/"
                          + k
                          + " right after the workload wrote it; the matrix needs a working"
                          + " backend to start from");
                }
                out.put(
                    k,
                    e.map(x -> new MatrixModel.Kv(v, x.version(), x.expiresAtMillis()))
                        .orElse(new MatrixModel.Kv(null, 0, 0)));
              });
          model.kv.put(ns, out);
        });
    for (String name : List.of(LOG, LOG2)) {
      LogStore log = backend.log(name);
      TreeMap<Long, String> records = new TreeMap<>();
      long first = log.firstOffset();
      long next = log.nextOffset();
      for (long at = first; at < next; ) {
        List<LogRecord> page = log.read(at, 500);
        if (page.isEmpty()) {
          throw new IllegalStateException("the live log " + name + " has a gap at " + at);
        }
        for (LogRecord r : page) {
          records.put(r.offset(), str(r.payload()));
          at = r.offset() + 1;
        }
      }
      model.logs.put(name, new MatrixModel.Log(first, next, records));
    }
    TreeMap<Long, MatrixModel.Snap> snaps = new TreeMap<>();
    for (SnapshotInfo info : backend.snapshots(SNAPSHOTS).list()) {
      byte[] data = snapshotData(seed, info.version(), SNAPSHOT_SIZES[(int) info.version() - 1]);
      if (info.sizeBytes() != data.length || info.crc32c() != Checksums.crc32c(data)) {
        throw new IllegalStateException(
            "the live snapshot " + info + " differs from what was saved");
      }
      snaps.put(info.version(), new MatrixModel.Snap(data.length, Checksums.crc32c(data)));
    }
    model.snapshots.put(SNAPSHOTS, snaps);
    return model;
  }
}
