package io.cairn.backend.sqlite;

import io.cairn.persistence.Durability;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.spi.Checksums;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A measurement, not a test: the per-commit cost of the reliability work on the SQLite backend
 * (commit mark, catalog triggers, row checksums). Interleaves "with" and "without" rounds so a
 * loaded machine hurts both alike. Run from backend-sqlite after test-compile:
 *
 * <pre>
 * java -cp target/test-classes:target/classes:$(cat cp.txt) io.cairn.backend.sqlite.CommitCostProbe
 * </pre>
 *
 * (cp.txt from {@code mvn dependency:build-classpath -Dmdep.outputFile=cp.txt}). Results are in
 * benchmarks/RESULTS-sqlite-reliability.md.
 */
public final class CommitCostProbe {
  private CommitCostProbe() {}

  public static void main(String[] args) throws Exception {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    Path dir = Files.createTempDirectory("cairn-probe");
    try (TestBackends.Direct be =
        TestBackends.direct(dir, "sweeper-interval = 0s", Durability.NORMAL)) {
      KeyValueStore kv = be.keyValue("probe");
      LogStore log = be.log("probe");
      byte[] value = new byte[100];
      java.lang.reflect.Field guardField = Writer.class.getDeclaredField("guard");
      guardField.setAccessible(true);
      WalGuard guard = (WalGuard) guardField.get(be.writer());
      java.lang.reflect.Field lastMx = WalGuard.class.getDeclaredField("lastMx");
      lastMx.setAccessible(true);
      for (int round = 0; round < 3; round++) {
        // 1. the mark alone: a read of the wal-index (unchanged) and a read + mark write
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
          guard.afterCommit();
        }
        long readOnly = System.nanoTime() - t0;
        t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
          lastMx.setLong(guard, -1);
          guard.afterCommit();
        }
        long readWrite = System.nanoTime() - t0;
        // 2. lone puts and appends with and without the catalog triggers
        long putWith =
            time(n, i -> kv.put(("k" + (i % 1000)).getBytes(StandardCharsets.UTF_8), value));
        long appendWith = time(n, i -> log.append(value));
        trigger(be, "DROP TRIGGER kv_catalog", "DROP TRIGGER log_catalog");
        long putWithout =
            time(n, i -> kv.put(("k" + (i % 1000)).getBytes(StandardCharsets.UTF_8), value));
        long appendWithout = time(n, i -> log.append(value));
        trigger(
            be,
            "CREATE TRIGGER kv_catalog AFTER INSERT ON kv BEGIN INSERT OR IGNORE INTO catalog"
                + " (kind, name, hw) VALUES ('kv', NEW.ns, 0); END",
            "CREATE TRIGGER log_catalog AFTER INSERT ON log_record BEGIN INSERT INTO catalog"
                + " (kind, name, hw) VALUES ('log', NEW.log, NEW.record_offset + 1) ON CONFLICT"
                + " (kind, name) DO UPDATE SET hw = max(hw, excluded.hw); END");
        // 3. row checksum against the old value-only checksum
        byte[] key = "user-123456".getBytes(StandardCharsets.UTF_8);
        long sink = 0;
        t0 = System.nanoTime();
        for (int i = 0; i < n * 10; i++) {
          sink += RowChecksums.kv("probe", key, i, 0, value);
        }
        long rowCrc = System.nanoTime() - t0;
        t0 = System.nanoTime();
        for (int i = 0; i < n * 10; i++) {
          sink += Checksums.crc32c(value);
        }
        long valueCrc = System.nanoTime() - t0;
        System.out.printf(
            "round %d (n=%d): mark read %.2f us, mark read+write %.2f us | put %.1f us with"
                + " triggers, %.1f us without | append %.1f us with, %.1f us without | row crc"
                + " %.3f us, value crc %.3f us (%d)%n",
            round,
            n,
            readOnly / 1e3 / n,
            readWrite / 1e3 / n,
            putWith / 1e3 / n,
            putWithout / 1e3 / n,
            appendWith / 1e3 / n,
            appendWithout / 1e3 / n,
            rowCrc / 1e3 / (n * 10),
            valueCrc / 1e3 / (n * 10),
            sink & 1);
      }
    }
  }

  private interface Op {
    void run(int i);
  }

  private static long time(int n, Op op) {
    long t0 = System.nanoTime();
    for (int i = 0; i < n; i++) {
      op.run(i);
    }
    return System.nanoTime() - t0;
  }

  private static void trigger(TestBackends.Direct be, String... sql) {
    be.writer()
        .exclusive(
            "probe",
            s -> {
              for (String q : sql) {
                s.conn().execOnce(q);
              }
              return null;
            });
  }
}
