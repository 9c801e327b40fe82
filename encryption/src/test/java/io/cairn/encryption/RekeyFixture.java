package io.cairn.encryption;

import static org.assertj.core.api.Assertions.assertThat;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.StorageBackend;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.rocksdb.ColumnFamilyDescriptor;
import org.rocksdb.ColumnFamilyHandle;
import org.rocksdb.DBOptions;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;
import org.rocksdb.RocksDBException;
import org.rocksdb.RocksIterator;

/** Data, configuration and raw inspection shared by the rekey tests and their child JVM. */
final class RekeyFixture {
  private RekeyFixture() {}

  static Config config(String type, Path base, Path keysetFile) {
    return ConfigFactory.parseString(
        "cairn.backends.main { type = "
            + type
            + ", data-dir = \""
            + base.resolve("data")
            + "\", snapshot-chunk-size = 4KiB"
            + ", encryption { key-source = keyset-file, keyset-file = \""
            + keysetFile
            + "\" } }");
  }

  static PersistenceRegistry open(String type, Path base, Path keysetFile) {
    return PersistenceRegistry.builder().open(config(type, base, keysetFile));
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Writes {@code n} entries (some with a TTL, some rewritten to version 2, some already expired),
   * {@code n} log records (the first 5 truncated) and two multi-chunk snapshots.
   */
  static void write(StorageBackend b, int n) {
    var kv = b.keyValue("users");
    List<KeyValue> batch = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      batch.add(new KeyValue(bytes("k" + i), bytes("value-" + i)));
      if (batch.size() == 1000) {
        kv.putAll(batch);
        batch.clear();
      }
    }
    if (!batch.isEmpty()) {
      kv.putAll(batch);
    }
    for (int i = 0; i < n; i += 3) {
      kv.put(bytes("k" + i), bytes("rewritten-" + i), Duration.ofHours(5));
    }
    for (int i = 0; i < 5; i++) {
      kv.put(bytes("expired" + i), bytes("gone-" + i), Duration.ofMillis(1));
    }
    var log = b.log("events");
    List<byte[]> payloads = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      payloads.add(bytes("event-" + i));
      if (payloads.size() == 1000) {
        log.appendAll(payloads);
        payloads.clear();
      }
    }
    if (!payloads.isEmpty()) {
      log.appendAll(payloads);
    }
    log.truncateBefore(5);
    byte[] big = new byte[200_000];
    new Random(7).nextBytes(big);
    b.snapshots("state").save(1, new ByteArrayInputStream(big));
    b.snapshots("state").save(2, new ByteArrayInputStream(Arrays.copyOf(big, 50_000)));
  }

  /** What reads return, with versions, expiry, offsets and snapshot metadata. */
  record State(
      Map<String, Entry> entries,
      long first,
      long next,
      List<LogRecord> records,
      List<SnapshotInfo> snapshots,
      Map<Long, byte[]> snapshotData) {}

  static State state(StorageBackend b) {
    Map<String, Entry> entries = new TreeMap<>();
    try (CloseableIterator<Entry> it = b.keyValue("users").scan(null, null)) {
      it.forEachRemaining(e -> entries.put(new String(e.key(), StandardCharsets.UTF_8), e));
    }
    var log = b.log("events");
    long first = log.firstOffset();
    long next = log.nextOffset();
    List<LogRecord> records = new ArrayList<>();
    for (long at = first; at < next; ) {
      List<LogRecord> page = log.read(at, 1000);
      records.addAll(page);
      at += page.size();
    }
    var snaps = b.snapshots("state");
    List<SnapshotInfo> infos = snaps.list();
    Map<Long, byte[]> data = new LinkedHashMap<>();
    for (SnapshotInfo info : infos) {
      try (InputStream in = snaps.load(info.version())) {
        data.put(info.version(), in.readAllBytes());
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return new State(entries, first, next, records, infos, data);
  }

  static void assertSame(State actual, State expected) {
    assertThat(actual.entries()).as("entries, versions and expiry").isEqualTo(expected.entries());
    assertThat(actual.first()).as("first offset").isEqualTo(expected.first());
    assertThat(actual.next()).as("next offset").isEqualTo(expected.next());
    assertThat(actual.records()).as("log records").isEqualTo(expected.records());
    assertThat(actual.snapshots()).as("snapshot metadata").isEqualTo(expected.snapshots());
    assertThat(actual.snapshotData().keySet()).isEqualTo(expected.snapshotData().keySet());
    for (long v : expected.snapshotData().keySet()) {
      assertThat(actual.snapshotData().get(v)).isEqualTo(expected.snapshotData().get(v));
    }
  }

  /**
   * Counts stored ciphertexts by key id, reading the closed backend's files directly: SQLite's
   * table rec (schema v5), RocksDB's column family "records" (layout 4: the user's records; the
   * base's bookkeeping is in "base"); both hold the shared base's records (frame: tag, flags, body;
   * a CRC-32C trailer on SQLite, which does not matter here: the key id is at the start of the
   * sealed bytes). Stores named '_...' are the base's own.
   */
  static Map<Long, Integer> keyIdsOnDisk(String type, Path base) {
    Map<Long, Integer> ids = new TreeMap<>();
    Path data = base.resolve("data");
    if (type.equals("sqlite")) {
      org.sqlite.SQLiteConfig readOnly = new org.sqlite.SQLiteConfig();
      readOnly.setReadOnly(true);
      try (Connection c =
              DriverManager.getConnection(
                  "jdbc:sqlite:" + data.resolve("cairn.db"), readOnly.toProperties());
          Statement st = c.createStatement();
          ResultSet rs = st.executeQuery("SELECT store, length(key), value FROM rec")) {
        while (rs.next()) {
          if (!rs.getString(1).startsWith("_") && rs.getInt(2) > 0) { // not a log's position
            countSealed(rs.getBytes(3), ids);
          }
        }
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
      return ids;
    }
    RocksDB.loadLibrary();
    Path secondary;
    try {
      secondary = Files.createTempDirectory(base, "rocksdb-secondary-"); // removed with base
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    // A secondary instance, as Cairn's own read-only open: RocksDB's OpenForReadOnly crashes the
    // JVM (SIGSEGV in DBImpl::RecoveryContext::UpdateVersionEdits) on a directory whose owner was
    // killed with write-ahead logs tracked in the MANIFEST, as Cairn tracks them
    // (facebook/rocksdb#13235). The kill loop below met it in 3 of 15 runs of 10 kills; through a
    // secondary instance, in none of 20 such runs and one of 100 kills.
    try (Options options = new Options();
        DBOptions dbOptions = new DBOptions().setMaxOpenFiles(-1)) {
      List<ColumnFamilyDescriptor> cfs = new ArrayList<>();
      for (byte[] name : RocksDB.listColumnFamilies(options, data.toString())) {
        cfs.add(new ColumnFamilyDescriptor(name));
      }
      List<ColumnFamilyHandle> handles = new ArrayList<>();
      try (RocksDB db =
          RocksDB.openAsSecondary(dbOptions, data.toString(), secondary.toString(), cfs, handles)) {
        db.tryCatchUpWithPrimary();
        for (int i = 0; i < cfs.size(); i++) {
          if (!new String(cfs.get(i).getName(), StandardCharsets.UTF_8).equals("records")) {
            continue;
          }
          try (RocksIterator it = db.newIterator(handles.get(i))) {
            for (it.seekToFirst(); it.isValid(); it.next()) {
              byte[] k = it.key();
              byte[] v = it.value();
              // layout 4's key: kind:u8 | nameLength:u16 | name | the base's key
              int prefix = 3 + (((k[1] & 0xFF) << 8) | (k[2] & 0xFF));
              if (k[3] == '_' || k.length == prefix) {
                continue; // the base's own stores, a log's position: in "base" since layout 4
              }
              countSealed(v, ids);
            }
          }
        }
        handles.forEach(ColumnFamilyHandle::close);
      }
    } catch (RocksDBException e) {
      throw new IllegalStateException(e);
    }
    return ids;
  }

  /** Counts the key id of the sealed bytes in one of the base's records (none in a manifest). */
  private static void countSealed(byte[] record, Map<Long, Integer> ids) {
    int skip =
        switch (record[0]) {
          case 'K' -> 18; // tag, flags, version, expiry precede the sealed value
          case 'T' -> 10; // tag, flags, append time precede the sealed payload
          case 'L', 'C' -> 2; // untimed log record, snapshot chunk
          default -> -1; // a snapshot manifest: nothing sealed
        };
    if (skip >= 0) {
      ids.merge(
          TinkEncryption.keyIdOf(Arrays.copyOfRange(record, skip, record.length)), 1, Integer::sum);
    }
  }
}
