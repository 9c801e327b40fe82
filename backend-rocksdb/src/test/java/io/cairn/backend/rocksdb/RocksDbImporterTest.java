package io.cairn.backend.rocksdb;

import static io.cairn.backend.rocksdb.Rocks.b;
import static io.cairn.backend.rocksdb.Rocks.s;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.codahale.metrics.MetricRegistry;
import io.cairn.persistence.Durability;
import io.cairn.persistence.Entry;
import io.cairn.persistence.Importer;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.PersistenceException;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.spi.Encryption;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.rocksdb.RocksDBException;

/**
 * RocksDB's {@link Importer} (the shared base's) beyond the TCK's {@code Import} suite: what it
 * writes is sealed like the normal write path (a real AEAD bound to associated data, so an item
 * sealed for another place would fail to open), survives reopen and passes {@code verify}; a
 * refused import writes nothing (not even the version bound); {@code finish()} makes the session
 * durable.
 */
class RocksDbImporterTest {
  @TempDir Path dir;

  /** AES-GCM with the associated data authenticated: opening with other associated data fails. */
  static final class Gcm implements Encryption {
    private final SecretKeySpec key = new SecretKeySpec(new byte[16], "AES");
    private final SecureRandom random = new SecureRandom();

    @Override
    public byte[] seal(byte[] plaintext, byte[] associatedData) {
      try {
        byte[] iv = new byte[12];
        random.nextBytes(iv);
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(128, iv));
        c.updateAAD(associatedData);
        byte[] ct = c.doFinal(plaintext);
        byte[] out = Arrays.copyOf(iv, 12 + ct.length);
        System.arraycopy(ct, 0, out, 12, ct.length);
        return out;
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public byte[] open(byte[] sealed, byte[] associatedData) {
      try {
        Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
        c.init(
            Cipher.DECRYPT_MODE, key, new GCMParameterSpec(128, Arrays.copyOfRange(sealed, 0, 12)));
        c.updateAAD(associatedData);
        return c.doFinal(sealed, 12, sealed.length - 12);
      } catch (GeneralSecurityException e) {
        throw new PersistenceException("sealed data does not open: " + e.getClass().getName());
      }
    }
  }

  private StorageBackend open(Durability durability, Encryption encryption, Rocks.ManualClock c) {
    return openWithEngine(durability, encryption, c).backend();
  }

  private Rocks.WithEngine openWithEngine(
      Durability durability, Encryption encryption, Rocks.ManualClock c) {
    return Rocks.withEngine(
        dir, durability, "snapshot-chunk-size = 4KiB", new MetricRegistry(), c, encryption);
  }

  private static Importer importer(StorageBackend be) {
    return be.extension(Importer.class).orElseThrow();
  }

  @Test
  void importIntoAnEncryptedBackendReadsBackAfterReopenAndVerifies() throws Exception {
    Rocks.ManualClock clock = new Rocks.ManualClock(1_000_000);
    Gcm gcm = new Gcm();
    byte[] snapshot = new byte[10_000]; // three chunks of 4096
    new SecureRandom().nextBytes(snapshot);
    try (Rocks.WithEngine w = openWithEngine(Durability.NORMAL, gcm, clock)) {
      StorageBackend be = w.backend();
      try (Importer.Session s = importer(be).begin()) {
        s.putEntries(
            "kv",
            List.of(
                new Entry(b("a"), b("secret-alpha"), 5, 0),
                new Entry(b("ttl"), b("secret-ttl"), 900_000, 1_060_000)));
        // an untimed prefix (a source upgraded from layout 1), then timed records
        s.appendRecords(
            "log",
            List.of(
                new LogRecord(10, b("secret-r10"), LogRecord.NOT_RECORDED),
                new LogRecord(11, b("secret-r11"), LogRecord.NOT_RECORDED)));
        s.appendRecords(
            "log",
            List.of(
                new LogRecord(12, b("secret-r12"), LogRecord.NOT_RECORDED),
                new LogRecord(13, b("secret-r13"), 777)));
        s.saveSnapshot("snap", 3, 4_242, new ByteArrayInputStream(snapshot));
        s.finish();
      }
      assertNothingInClear(w);
    }
    try (StorageBackend be = open(Durability.NORMAL, gcm, clock)) {
      Entry a = be.keyValue("kv").getEntry(b("a")).orElseThrow();
      assertThat(s(a.value())).isEqualTo("secret-alpha");
      assertThat(a.version()).isEqualTo(5);
      Entry ttl = be.keyValue("kv").getEntry(b("ttl")).orElseThrow();
      assertThat(ttl.version()).isEqualTo(900_000);
      assertThat(ttl.expiresAtMillis()).isEqualTo(1_060_000);
      var log = be.log("log");
      assertThat(log.firstOffset()).isEqualTo(10);
      assertThat(log.nextOffset()).isEqualTo(14);
      List<LogRecord> records = log.read(0, 10);
      assertThat(records).extracting(LogRecord::offset).containsExactly(10L, 11L, 12L, 13L);
      assertThat(records)
          .extracting(LogRecord::appendedAtMillis)
          .containsExactly(
              LogRecord.NOT_RECORDED, LogRecord.NOT_RECORDED, LogRecord.NOT_RECORDED, 777L);
      assertThat(s(records.get(3).payload())).isEqualTo("secret-r13");
      var info = be.snapshots("snap").latest().orElseThrow();
      assertThat(info.version()).isEqualTo(3);
      assertThat(info.createdAtMillis()).isEqualTo(4_242);
      try (InputStream in = be.snapshots("snap").load(3)) {
        assertThat(in.readAllBytes()).isEqualTo(snapshot);
      }
      var report = be.verify(Progress.NONE);
      assertThat(report.problems()).isEmpty();
      assertThat(report.checked()).isGreaterThanOrEqualTo(2 + 4 + 1);
      // the store API goes on above the import, after a restart too
      assertThat(be.keyValue("kv").put(b("new"), b("n"))).isGreaterThan(900_000);
      assertThat(log.append(b("next"))).isEqualTo(14);
      assertThat(log.read(14, 1).get(0).appendedAtMillis()).isEqualTo(clock.millis());
      clock.advance(Duration.ofMinutes(2));
      assertThat(be.keyValue("kv").get(b("ttl"))).isNull();
      assertThat(be.keyValue("kv").purgeExpired()).as("in the expiry index").isEqualTo(1);
      assertThat(be.verify(Progress.NONE).problems()).isEmpty();
    }
  }

  /** No value, payload or chunk reaches RocksDB in clear. */
  private static void assertNothingInClear(Rocks.WithEngine raw) throws RocksDBException {
    List<byte[]> stored = raw.userValues();
    assertThat(stored).hasSize(2 + 4 + 3);
    for (byte[] v : stored) {
      assertThat(new String(v, StandardCharsets.ISO_8859_1)).doesNotContain("secret");
    }
  }

  @Test
  void aNonEmptyStoreIsRefusedNamingBackendAndStoreAndNothingIsWritten() {
    Rocks.ManualClock clock = new Rocks.ManualClock(1_000);
    try (StorageBackend be = open(Durability.NORMAL, Encryption.NONE, clock)) {
      long before = be.keyValue("full").put(b("k"), b("v"));
      var truncated = be.log("emptied");
      truncated.append(b("r"));
      truncated.truncateBefore(1); // no record left, but offset 0 was used
      try (Importer.Session s = importer(be).begin()) {
        assertThatThrownBy(
                () -> s.putEntries("full", List.of(new Entry(b("x"), b("y"), 5_000_000_000L, 0))))
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("kv:full")
            .hasMessageContaining("rocksdb backend 'test'")
            .hasMessageContaining("not empty");
        assertThatThrownBy(() -> s.appendRecords("emptied", List.of(new LogRecord(0, b("x"), 1))))
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("log:emptied")
            .hasMessageContaining("rocksdb backend 'test'");
      }
      assertThat(be.keyValue("full").get(b("x"))).isNull();
      assertThat(truncated.firstOffset()).isEqualTo(1);
      assertThat(truncated.nextOffset()).isEqualTo(1);
      // the version bound was not raised either
      assertThat(be.keyValue("full").put(b("k2"), b("v"))).isLessThan(5_000_000_000L);
      assertThat(before).isPositive();
    }
    try (StorageBackend be = open(Durability.NORMAL, Encryption.NONE, clock)) {
      assertThat(be.keyValue("other").put(b("k"), b("v"))).isLessThan(5_000_000_000L);
    }
  }

  @Test
  void badArgumentsAreRefusedBeforeAnythingIsWritten() {
    Rocks.ManualClock clock = new Rocks.ManualClock(1_000);
    try (StorageBackend be = open(Durability.NORMAL, Encryption.NONE, clock)) {
      try (Importer.Session s = importer(be).begin()) {
        assertThatThrownBy(
                () ->
                    s.putEntries(
                        "kv",
                        List.of(
                            new Entry(b("ok"), b("v"), 1, 0),
                            new Entry(b("big"), b("v"), Long.MAX_VALUE, 0))))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("kv:kv");
        assertThatThrownBy(
                () ->
                    s.appendRecords(
                        "log", List.of(new LogRecord(4, b("a"), 1), new LogRecord(6, b("b"), 1))))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("record 1 has offset 6 where the import's next offset is 5");
        assertThatThrownBy(() -> s.saveSnapshot("snap", 1, -5, new ByteArrayInputStream(b("x"))))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("snapshot:snap");
        s.finish();
        assertThatThrownBy(() -> s.putEntries("kv", List.of()))
            .isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("ended");
      }
      assertThat(be.keyValue("kv").get(b("ok"))).isNull();
      assertThat(be.log("log").nextOffset()).isZero();
      assertThat(be.snapshots("snap").list()).isEmpty();
      assertThat(be.stores()).isEmpty();
      assertThatThrownBy(
              () ->
                  be.inTransaction(
                      tx -> {
                        importer(be)
                            .begin()
                            .putEntries("kv", List.of(new Entry(b("a"), b("v"), 1, 0)));
                        return null;
                      }))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("inside inTransaction()");
    }
  }

  /**
   * After {@code finish()} and a clean close everything imported is there at every durability (each
   * import call is written at {@code full}, at {@code none} as any write: the Importer contract).
   */
  @ParameterizedTest
  @EnumSource(Durability.class)
  void finishThenReopenKeepsEverything(Durability durability) throws RocksDBException {
    Rocks.ManualClock clock = new Rocks.ManualClock(50_000);
    try (StorageBackend be = open(durability, Encryption.NONE, clock)) {
      try (Importer.Session s = importer(be).begin()) {
        s.putEntries("kv", List.of(new Entry(b("a"), b("alpha"), 77, 0)));
        s.appendRecords("log", List.of(new LogRecord(2, b("r2"), 10)));
        s.saveSnapshot("snap", 9, 123, new ByteArrayInputStream(b("data")));
        s.finish();
      }
    }
    try (StorageBackend be = open(durability, Encryption.NONE, clock)) {
      Entry a = be.keyValue("kv").getEntry(b("a")).orElseThrow();
      assertThat(a.version()).isEqualTo(77);
      assertThat(be.log("log").read(0, 5))
          .extracting(LogRecord::offset, LogRecord::appendedAtMillis)
          .containsExactly(org.assertj.core.groups.Tuple.tuple(2L, 10L));
      assertThat(be.snapshots("snap").latest().orElseThrow().createdAtMillis()).isEqualTo(123);
      assertThat(be.keyValue("kv").put(b("a"), b("after"))).isGreaterThan(77);
      assertThat(be.verify(Progress.NONE).problems()).isEmpty();
    }
  }

  @Test
  void aReadOnlyBackendOffersNoImporter() {
    try (StorageBackend owner = Rocks.open(dir)) {
      assertThat(owner.extension(Importer.class)).isPresent();
      assertThat(owner.extension(String.class)).isEmpty();
      owner.keyValue("k").put(b("a"), b("1"));
      try (StorageBackend reader = Rocks.open(dir, "read-only = true")) {
        assertThat(reader.extension(Importer.class)).isEmpty();
      }
    }
  }
}
