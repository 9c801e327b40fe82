package io.cairn.backend.rocksdb;

import static io.cairn.backend.rocksdb.Rocks.b;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.Durability;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.Progress;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.Encryption;
import io.cairn.tck.TestEncryption;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SortedSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.rocksdb.Options;
import org.rocksdb.RocksDB;

/**
 * A data directory written by the layout-2 backend (type {@code rocksdb}) opened by the engine on
 * the base (type {@code rocksdb-base}): everything is found (entries with versions and expiry, log
 * records with offsets and append times, truncation, snapshots), plain and encrypted; a crash
 * before the migration's commit point leaves layout 2 complete (also for the old backend) and a
 * crash after it leaves layout 3 complete.
 */
class RocksEngineMigrationTest {
  @TempDir Path dir;

  private static final int MANY = 2_500; // more than two migration pages of entries

  @AfterEach
  void clearHooks() {
    Layout2Migration.afterPage = null;
    Layout2Migration.afterCommit = null;
  }

  private StorageBackend open(String type, Encryption encryption) {
    return open(type, encryption, "");
  }

  private StorageBackend open(String type, Encryption encryption, String hocon) {
    BackendContext.Builder ctx =
        BackendContext.builder("mig", type)
            .dataDir(dir)
            .durability(Durability.NORMAL)
            .config(ConfigFactory.parseString("snapshot-chunk-size = 4KiB, " + hocon));
    if (encryption != null) {
      ctx.encryption(encryption);
    }
    return type.equals(RocksBaseProvider.TYPE)
        ? new RocksBaseProvider().open(ctx.build())
        : new RocksDbBackendProvider().open(ctx.build());
  }

  /** What the layout-2 backend wrote, as read back through the API. */
  private record Seen(
      SortedSet<StoreId> stores,
      Map<String, Entry> entries,
      List<LogRecord> events,
      long eventsFirst,
      long eventsNext,
      long drainedNext,
      List<SnapshotInfo> infos,
      Map<Long, byte[]> snapshots,
      int many) {}

  private Seen writeWithLayout2(Encryption encryption) throws IOException {
    try (StorageBackend old = open("rocksdb", encryption)) {
      KeyValueStore kv = old.keyValue("users");
      kv.put(b("a"), b("first"));
      kv.put(b("a"), b("second"));
      kv.put(b("b"), b("bee"));
      kv.put(b("ttl"), b("lives"), Duration.ofHours(1));
      kv.put(b("gone"), b("x"));
      kv.delete(b("gone"));
      List<KeyValue> bulk = new ArrayList<>();
      for (int i = 0; i < MANY; i++) {
        bulk.add(new KeyValue(b("k" + i), b("v" + i)));
      }
      old.keyValue("bulk").putAll(bulk);
      LogStore events = old.log("events");
      for (int i = 0; i < 5; i++) {
        events.append(b("event-" + i));
      }
      events.truncateBefore(2);
      LogStore drained = old.log("drained");
      drained.appendAll(List.of(b("1"), b("2"), b("3")));
      drained.truncateBefore(3);
      Random r = new Random(7);
      Map<Long, byte[]> snaps = new HashMap<>();
      for (long v : new long[] {1, 2}) {
        byte[] data = new byte[10_000 + (int) v * 3_000]; // several 4 KiB chunks
        r.nextBytes(data);
        old.snapshots("state").save(v, new ByteArrayInputStream(data));
        snaps.put(v, data);
      }
      Map<String, Entry> entries = new HashMap<>();
      for (String k : List.of("a", "b", "ttl")) {
        entries.put(k, kv.getEntry(b(k)).orElseThrow());
      }
      return new Seen(
          old.stores(),
          entries,
          events.read(0, 100),
          events.firstOffset(),
          events.nextOffset(),
          drained.nextOffset(),
          old.snapshots("state").list(),
          snaps,
          MANY);
    }
  }

  private void assertFindsEverything(StorageBackend port, Seen seen) throws IOException {
    assertThat(port.type()).isEqualTo(RocksBaseProvider.TYPE);
    assertThat(port.stores()).isEqualTo(seen.stores());
    KeyValueStore kv = port.keyValue("users");
    for (Map.Entry<String, Entry> e : seen.entries().entrySet()) {
      assertThat(kv.getEntry(b(e.getKey()))).as(e.getKey()).contains(e.getValue());
    }
    assertThat(kv.getEntry(b("gone"))).isEmpty();
    KeyValueStore bulk = port.keyValue("bulk");
    for (int i = 1; i < seen.many(); i += 97) { // k0: deleted by one test
      assertThat(bulk.getEntry(b("k" + i)).orElseThrow().value()).isEqualTo(b("v" + i));
    }
    LogStore events = port.log("events");
    assertThat(events.firstOffset()).isEqualTo(seen.eventsFirst()).isEqualTo(2);
    assertThat(events.nextOffset()).isEqualTo(seen.eventsNext()).isEqualTo(5);
    List<LogRecord> read = events.read(0, 100);
    assertThat(read).isEqualTo(seen.events()); // offsets and payloads
    for (int i = 0; i < read.size(); i++) {
      assertThat(read.get(i).appendedAtMillis())
          .as("append time of offset " + read.get(i).offset())
          .isEqualTo(seen.events().get(i).appendedAtMillis())
          .isPositive();
    }
    assertThat(port.log("drained").nextOffset()).isEqualTo(seen.drainedNext()).isEqualTo(3);
    assertThat(port.snapshots("state").list()).isEqualTo(seen.infos());
    for (Map.Entry<Long, byte[]> s : seen.snapshots().entrySet()) {
      try (InputStream in = port.snapshots("state").load(s.getKey())) {
        assertThat(in.readAllBytes()).isEqualTo(s.getValue());
      }
    }
    assertThat(port.verify(Progress.NONE).problems()).isEmpty();
  }

  private List<String> families() throws Exception {
    try (Options o = new Options()) {
      List<String> out = new ArrayList<>();
      for (byte[] cf : RocksDB.listColumnFamilies(o, dir.toString())) {
        out.add(new String(cf, StandardCharsets.UTF_8));
      }
      return out;
    }
  }

  @ParameterizedTest(name = "encrypted = {0}")
  @ValueSource(booleans = {false, true})
  void theEngineFindsEverythingTheLayout2BackendWrote(boolean encrypted) throws Exception {
    Encryption enc = encrypted ? new TestEncryption() : null;
    Seen seen = writeWithLayout2(enc);
    try (StorageBackend port = open(RocksBaseProvider.TYPE, enc)) {
      assertFindsEverything(port, seen);
      // versions continue from the migrated ones; offsets are never reused
      long a = seen.entries().get("a").version();
      assertThat(port.keyValue("users").put(b("a"), b("third"))).isEqualTo(a + 1);
      assertThat(port.log("drained").append(b("4"))).isEqualTo(3);
    }
    assertThat(families()).containsExactlyInAnyOrder("default", RocksStorageEngine.CF_RECORDS);
    try (StorageBackend again = open(RocksBaseProvider.TYPE, enc)) { // layout 3: no migration
      assertThat(again.keyValue("users").get(b("a"))).isEqualTo(b("third"));
      assertThat(again.log("events").read(0, 100)).isEqualTo(seen.events());
    }
    // layout 2's version bound, carried into the base's own bound record ('V' | bound i64)
    BackendContext ctx = BackendContext.builder("mig", RocksBaseProvider.TYPE).dataDir(dir).build();
    try (RocksStorageEngine engine = RocksStorageEngine.open(ctx, RocksBaseProvider.config(ctx))) {
      byte[] raw =
          engine.get(Layout2Migration.VERSION_BOUND_STORE, Layout2Migration.VERSION_BOUND_KEY);
      assertThat(raw).hasSize(10);
      assertThat(raw[0]).isEqualTo((byte) 'V');
      long bound = java.nio.ByteBuffer.wrap(raw, 2, 8).getLong();
      for (Entry e : seen.entries().values()) {
        assertThat(bound).isGreaterThan(e.version());
      }
    }
  }

  @Test
  void aCrashBeforeTheCommitPointLeavesLayout2CompleteAndTheNextOpenMigrates() throws Exception {
    Seen seen = writeWithLayout2(null);
    Layout2Migration.afterPage =
        pages -> {
          if (pages == 2) {
            throw new IllegalStateException("simulated crash after page 2");
          }
        };
    assertThatThrownBy(() -> open(RocksBaseProvider.TYPE, null))
        .hasMessageContaining("simulated crash after page 2");
    Layout2Migration.afterPage = null;
    try (StorageBackend old = open("rocksdb", null)) { // the old backend still reads it all
      assertThat(old.stores()).isEqualTo(seen.stores());
      assertThat(old.keyValue("users").getEntry(b("a"))).contains(seen.entries().get("a"));
      assertThat(old.log("events").read(0, 100)).isEqualTo(seen.events());
      // written by the crashed attempt's first page; the next attempt must not bring it back
      assertThat(old.keyValue("bulk").delete(b("k0"))).isTrue();
    }
    try (StorageBackend port = open(RocksBaseProvider.TYPE, null)) {
      assertFindsEverything(port, seen);
      assertThat(port.keyValue("bulk").getEntry(b("k0"))).isEmpty();
      assertThat(port.keyValue("bulk").getEntry(b("k1"))).isPresent();
    }
  }

  @Test
  void aCrashAfterTheCommitPointLeavesLayout3CompleteAndTheOldFamiliesGoNextOpen()
      throws Exception {
    Seen seen = writeWithLayout2(null);
    Layout2Migration.afterCommit =
        () -> {
          throw new IllegalStateException("simulated crash after the commit point");
        };
    assertThatThrownBy(() -> open(RocksBaseProvider.TYPE, null))
        .hasMessageContaining("simulated crash after the commit point");
    Layout2Migration.afterCommit = null;
    assertThat(families()).contains(Layout.CF_KV, RocksStorageEngine.CF_RECORDS);
    assertThatThrownBy(() -> open("rocksdb", null)) // layout 3 is not the old backend's
        .hasMessageContaining("layout version 3");
    try (StorageBackend port = open(RocksBaseProvider.TYPE, null)) {
      assertFindsEverything(port, seen);
    }
    assertThat(families()).containsExactlyInAnyOrder("default", RocksStorageEngine.CF_RECORDS);
  }

  @Test
  void aReadOnlyOpenOfLayout2NamesTheFirstWritableOpenAndChangesNothing() throws Exception {
    Seen seen = writeWithLayout2(null);
    List<String> before = families();
    assertThatThrownBy(() -> open(RocksBaseProvider.TYPE, null, "read-only = true"))
        .isInstanceOf(io.cairn.persistence.StorageEngineException.class)
        .hasMessageContaining("layout 2")
        .hasMessageContaining("first writable open");
    assertThat(families()).isEqualTo(before);
    try (StorageBackend port = open(RocksBaseProvider.TYPE, null)) {
      assertFindsEverything(port, seen);
    }
  }
}
