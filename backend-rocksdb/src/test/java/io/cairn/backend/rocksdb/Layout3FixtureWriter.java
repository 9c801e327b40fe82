package io.cairn.backend.rocksdb;

import com.codahale.metrics.MetricRegistry;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Durability;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.Encryption;
import io.cairn.tck.FixedKeyEncryption;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Writes the layout-3 fixtures ({@code src/test/resources/fixtures/layout3-*}) with the Cairn that
 * wrote layout 3 (main {@code 0444c38}): the same script as the layout-2 fixtures, plus TTLs on
 * 1,500 entries of {@code bulk} (so the expiry index, moved by the migration, takes more than one
 * batch). Uses the public API only, so it runs against that version's jar:
 *
 * <pre>
 * java -cp /work/jars/main-0444c38.jar:backend-rocksdb/target/test-classes:persistence-tck/target/classes \
 *   io.cairn.backend.rocksdb.Layout3FixtureWriter backend-rocksdb/src/test/resources/fixtures
 * </pre>
 *
 * Not run by the build; kept as the record of how the fixtures were made.
 */
final class Layout3FixtureWriter {
  private Layout3FixtureWriter() {}

  public static void main(String[] args) throws Exception {
    Path out = Path.of(args[0]);
    write(out.resolve("layout3-plain"), null);
    write(out.resolve("layout3-encrypted"), new FixedKeyEncryption());
  }

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static StorageBackend open(Path dir, Encryption enc, Rocks.ManualClock clock) {
    BackendContext.Builder ctx =
        BackendContext.builder("mig", "rocksdb")
            .dataDir(dir)
            .durability(Durability.NORMAL)
            .metrics(new MetricRegistry())
            .clock(clock)
            .config(ConfigFactory.parseString("snapshot-chunk-size = 4KiB"));
    if (enc != null) {
      ctx.encryption(enc);
    }
    return new RocksDbBackendProvider().open(ctx.build());
  }

  /** The script of namespace {@code users} (as in the layout-2 fixtures): versions, TTL, delete. */
  static void writeUsers(KeyValueStore kv) {
    kv.put(b("a"), b("first"));
    kv.put(b("a"), b("second"));
    kv.put(b("b"), b("bee"));
    kv.put(b("ttl"), b("lives"), Duration.ofHours(1));
    kv.put(b("gone"), b("x"));
    kv.delete(b("gone"));
  }

  static void write(Path dir, Encryption enc) throws IOException {
    Rocks.ManualClock clock = new Rocks.ManualClock(1_700_000_000_000L);
    Properties p = new Properties();
    try (StorageBackend old = open(dir, enc, clock)) {
      KeyValueStore kv = old.keyValue("users");
      writeUsers(kv);
      List<KeyValue> bulk = new ArrayList<>();
      for (int i = 0; i < 2_500; i++) {
        bulk.add(new KeyValue(b("k" + i), b("v" + i)));
      }
      old.keyValue("bulk").putAll(bulk);
      for (int i = 1_000; i < 2_500; i++) {
        old.keyValue("bulk").put(b("k" + i), b("v" + i), Duration.ofDays(1));
      }
      LogStore events = old.log("events");
      for (int i = 0; i < 5; i++) {
        events.append(b("event-" + i));
        clock.advance(Duration.ofMillis(3));
      }
      events.truncateBefore(2);
      LogStore drained = old.log("drained");
      drained.appendAll(List.of(b("1"), b("2"), b("3")));
      drained.truncateBefore(3);
      Random r = new Random(7);
      for (long v : new long[] {1, 2}) {
        byte[] data = new byte[10_000 + (int) v * 3_000];
        r.nextBytes(data);
        old.snapshots("state").save(v, new ByteArrayInputStream(data));
        clock.advance(Duration.ofMillis(100));
      }
      List<String> stores = new ArrayList<>();
      for (StoreId id : old.stores()) {
        stores.add(id.kind().name() + ":" + id.name());
      }
      p.setProperty("stores", String.join(",", stores));
      for (String k : List.of("a", "b", "ttl", "k1001")) {
        Entry e = (k.startsWith("k") ? old.keyValue("bulk") : kv).getEntry(b(k)).orElseThrow();
        p.setProperty(
            "entry." + k,
            e.version() + "," + e.expiresAtMillis() + "," + HexFormat.of().formatHex(e.value()));
      }
      List<String> recs = new ArrayList<>();
      for (LogRecord rec : events.read(0, 100)) {
        recs.add(
            rec.offset()
                + ":"
                + rec.appendedAtMillis()
                + ":"
                + HexFormat.of().formatHex(rec.payload()));
      }
      p.setProperty("events", String.join(",", recs));
      p.setProperty("events.first", Long.toString(events.firstOffset()));
      p.setProperty("events.next", Long.toString(events.nextOffset()));
      p.setProperty("drained.next", Long.toString(drained.nextOffset()));
      List<String> infos = new ArrayList<>();
      for (SnapshotInfo i : old.snapshots("state").list()) {
        infos.add(i.version() + ":" + i.sizeBytes() + ":" + i.crc32c() + ":" + i.createdAtMillis());
      }
      p.setProperty("snapshots", String.join(",", infos));
      p.setProperty("clock", Long.toString(clock.millis()));
      p.setProperty("layout-version", "3");
    }
    clean(dir);
    try (var w = Files.newBufferedWriter(dir.resolveSibling(dir.getFileName() + ".properties"))) {
      p.store(w, "read back through the layout-3 engine's API (main 0444c38) before it closed");
    }
  }

  /** Only RocksDB's own data files and the anchor stay (no lock, no info logs). */
  static void clean(Path dir) throws IOException {
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        String n = f.getFileName().toString();
        if (n.startsWith("LOG") || n.equals("LOCK") || n.equals("cairn.lock")) {
          Files.delete(f);
        }
      }
    }
  }
}
