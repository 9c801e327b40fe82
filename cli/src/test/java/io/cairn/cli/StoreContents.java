package io.cairn.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import io.cairn.persistence.Importer;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Test data for export, import and migrate, and the exact comparison of two backends. */
final class StoreContents {
  private StoreContents() {}

  static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Writes, through the store API: {@code entries} KV entries in {@code users} (every 3rd with a
   * TTL of days, every 5th overwritten so its version is above 1, a few deleted), a log {@code
   * events} of 2,500 records with its first 100 truncated, an empty-but-used log, and a snapshot
   * set {@code state} of three snapshots (one over several 64 KiB chunks) of which two are kept.
   */
  static void populate(StorageBackend backend, int entries) {
    KeyValueStore kv = backend.keyValue("users");
    Random r = new Random(42);
    List<io.cairn.persistence.KeyValue> batch = new ArrayList<>();
    for (int i = 0; i < entries; i++) {
      batch.add(new io.cairn.persistence.KeyValue(b(String.format("user-%07d", i)), value(r, i)));
      if (batch.size() == 5000) {
        kv.putAll(batch);
        batch.clear();
      }
    }
    if (!batch.isEmpty()) {
      kv.putAll(batch);
    }
    // TTLs and second versions in transactions of 5,000 writes (one commit each)
    for (int start = 0; start < entries; start += 15_000) {
      int from = start;
      backend.inTransaction(
          tx -> {
            var t = tx.keyValue("users");
            for (int i = from; i < Math.min(entries, from + 15_000); i += 3) {
              t.put(b(String.format("user-%07d", i)), value(r, i), Duration.ofDays(1 + i % 30));
            }
            return null;
          });
      backend.inTransaction(
          tx -> {
            var t = tx.keyValue("users");
            for (int i = from; i < Math.min(entries, from + 15_000); i += 5) {
              t.put(b(String.format("user-%07d", i)), value(r, -i));
            }
            return null;
          });
    }
    for (int i = 1; i < entries; i += 997) {
      kv.delete(b(String.format("user-%07d", i)));
    }
    backend.keyValue("settings").put(b("mode"), b("on"));
    LogStore log = backend.log("events");
    List<byte[]> payloads = new ArrayList<>();
    for (int i = 0; i < 2500; i++) {
      payloads.add(b("event-" + i + "-" + "x".repeat(i % 50)));
      if (payloads.size() == 500) {
        log.appendAll(payloads);
        payloads.clear();
      }
    }
    log.truncateBefore(100);
    backend.log("audit").append(b("one"));
    SnapshotStore snaps = backend.snapshots("state");
    snaps.save(1, b("first"));
    byte[] big = new byte[200_000];
    r.nextBytes(big);
    snaps.save(2, big);
    snaps.save(3, new byte[0]);
    snaps.delete(1);
  }

  private static byte[] value(Random r, int i) {
    byte[] v = new byte[10 + Math.floorMod(i, 90)];
    r.nextBytes(v);
    return v;
  }

  /**
   * The fixture's contents, written exactly (fixed versions, expiry, offsets, append times,
   * creation times) through the Importer, so the exported stream is the same on every run.
   */
  static void fixture(StorageBackend backend) {
    Importer importer = backend.extension(Importer.class).orElseThrow();
    try (Importer.Session s = importer.begin()) {
      s.putEntries(
          "config",
          List.of(
              new Entry(b("alpha"), b("1"), 1, 0),
              new Entry(b("beta"), b("two"), 7, 4_102_444_800_000L), // 2100-01-01
              new Entry(new byte[] {0, (byte) 0xFF}, new byte[0], 42, 0)));
      s.appendRecords(
          "orders",
          List.of(
              new LogRecord(5, b("created"), 1_700_000_000_000L),
              new LogRecord(6, b("paid"), 1_700_000_000_500L),
              new LogRecord(7, new byte[0], LogRecord.NOT_RECORDED)));
      byte[] big = new byte[70_000]; // two chunks
      for (int i = 0; i < big.length; i++) {
        big[i] = (byte) (i * 31);
      }
      s.saveSnapshot("table", 3, 1_700_000_001_000L, new ByteArrayInputStream(b("small")));
      s.saveSnapshot("table", 9, 1_700_000_002_000L, new ByteArrayInputStream(big));
      s.finish();
    }
  }

  /** Every store of {@code a} equals the one of {@code b}, byte for byte, with its metadata. */
  static void assertSame(StorageBackend a, StorageBackend b) {
    List<StoreId> stores = withData(a);
    assertThat(withData(b)).isEqualTo(stores);
    for (StoreId id : stores) {
      switch (id.kind()) {
        case KEY_VALUE ->
            assertThat(entries(b, id.name()))
                .as(id.toString())
                .containsExactlyElementsOf(entries(a, id.name()));
        case LOG -> {
          LogStore x = a.log(id.name());
          LogStore y = b.log(id.name());
          assertThat(y.firstOffset()).as(id + " first").isEqualTo(x.firstOffset());
          assertThat(y.nextOffset()).as(id + " next").isEqualTo(x.nextOffset());
          assertThat(records(y)).as(id.toString()).containsExactlyElementsOf(records(x));
        }
        case SNAPSHOT -> {
          SnapshotStore x = a.snapshots(id.name());
          SnapshotStore y = b.snapshots(id.name());
          assertThat(y.list()).as(id.toString()).isEqualTo(x.list());
          for (SnapshotInfo info : x.list()) {
            assertThat(bytes(y.load(info.version()))).isEqualTo(bytes(x.load(info.version())));
          }
        }
      }
    }
  }

  /** The stores of {@code b} that hold something, in order. */
  static List<StoreId> withData(StorageBackend b) {
    List<StoreId> out = new ArrayList<>();
    for (StoreId id : b.stores()) {
      boolean data =
          switch (id.kind()) {
            case KEY_VALUE -> !entries(b, id.name()).isEmpty();
            case LOG -> b.log(id.name()).nextOffset() > 0;
            case SNAPSHOT -> !b.snapshots(id.name()).list().isEmpty();
          };
      if (data) {
        out.add(id);
      }
    }
    return out;
  }

  static List<Entry> entries(StorageBackend b, String ns) {
    List<Entry> out = new ArrayList<>();
    try (CloseableIterator<Entry> it = b.keyValue(ns).scan(null, null)) {
      it.forEachRemaining(out::add);
    }
    return out;
  }

  /**
   * Records as strings with offset, append time and payload (LogRecord.equals ignores the time).
   */
  static List<String> records(LogStore log) {
    List<String> out = new ArrayList<>();
    long at = log.firstOffset();
    while (at < log.nextOffset()) {
      List<LogRecord> page = log.read(at, 1000);
      for (LogRecord r : page) {
        out.add(
            r.offset()
                + "@"
                + r.appendedAtMillis()
                + ":"
                + java.util.HexFormat.of().formatHex(r.payload()));
        at = r.offset() + 1;
      }
    }
    return out;
  }

  static boolean empty(StorageBackend b) {
    return withData(b).isEmpty();
  }

  static byte[] bytes(InputStream in) {
    try (in) {
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static long count(StorageBackend b, StoreKind kind) {
    return b.stores().stream().filter(s -> s.kind() == kind).count();
  }
}
