package io.cairn.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import io.cairn.persistence.Capability;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.VerifyReport;
import io.cairn.persistence.spi.AssociatedData;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The {@link Capability#ENCRYPTION} contract: a backend that declares it seals every value, log
 * payload and snapshot chunk through the context's {@link io.cairn.persistence.spi.Encryption},
 * bound to its place by {@link AssociatedData}; a ciphertext moved to another key, store, offset or
 * snapshot fails to open with {@link StoreCorruptedException} naming the store and the key or
 * offset. A backend that does not declare it is refused a hook when opened through the registry.
 *
 * <p>The suite opens its own registry on {@code <temp dir>/tck-enc} with a {@link TestEncryption}
 * (AES-GCM). "Moved" is simulated at the open boundary: the hook is handed the ciphertext sealed
 * for one place when the backend opens another, exactly what it would receive if the engine's bytes
 * had been copied there; durable backends' files are also scanned for the plaintexts.
 */
public abstract class EncryptionContract extends ContractSupport {
  private static final String SECRET = "PLAINTEXT-7f3a9c-must-never-be-stored";

  private final TestEncryption encryption = new TestEncryption();
  private PersistenceRegistry encrypted;

  /** The backend under test, opened with {@link #encryption()} on its own directory. */
  protected final StorageBackend encrypted() {
    if (encrypted == null) {
      encrypted = openEncrypted();
    }
    return encrypted.backend(BACKEND);
  }

  /** The hook given to {@link #encrypted()}. */
  protected final TestEncryption encryption() {
    return encryption;
  }

  private Path encryptedDir() {
    return directory().resolve("tck-enc");
  }

  private PersistenceRegistry openEncrypted() {
    String hocon =
        "cairn.backends."
            + BACKEND
            + " {\n"
            + backendConfig()
            + "\ndata-dir = "
            + ConfigUtil.quoteString(encryptedDir().toString())
            + "\n}\n"
            + extraConfig();
    return PersistenceRegistry.builder()
        .clock(clock())
        .baseDirectory(directory())
        .encryption(name -> encryption)
        .open(ConfigFactory.parseString(hocon));
  }

  @AfterEach
  final void closeEncrypted() {
    if (encrypted != null) {
      encrypted.close();
      encrypted = null;
    }
  }

  private static byte[] secret(String suffix) {
    return bytes(SECRET + "-" + suffix);
  }

  private static byte[] ad(String ns, String key) {
    return AssociatedData.forValue(BACKEND, ns, bytes(key));
  }

  @Test
  public void aBackendDeclaringEncryptionSealsValuesPayloadsAndChunksBoundToTheirPlace()
      throws IOException {
    assumeCapability(Capability.ENCRYPTION);
    StorageBackend b = encrypted();
    b.keyValue("kv").put(bytes("k1"), secret("value"));
    b.keyValue("kv").putAll(List.of(new KeyValue(bytes("k2"), secret("batch"))));
    b.log("log").append(secret("record"));
    b.inTransaction(
        tx -> {
          tx.keyValue("kv").put(bytes("k3"), secret("tx-value"));
          tx.log("log").append(secret("tx-record"));
          return null;
        });
    b.snapshots("snap").save(1, secret("snapshot"));

    // round trip
    assertThat(b.keyValue("kv").get(bytes("k1"))).isEqualTo(secret("value"));
    assertThat(b.keyValue("kv").get(bytes("k2"))).isEqualTo(secret("batch"));
    assertThat(b.keyValue("kv").get(bytes("k3"))).isEqualTo(secret("tx-value"));
    assertThat(b.log("log").read(0, 10))
        .extracting(r -> new String(r.payload(), java.nio.charset.StandardCharsets.UTF_8))
        .containsExactly(SECRET + "-record", SECRET + "-tx-record");
    try (InputStream in = b.snapshots("snap").load(1)) {
      assertThat(in.readAllBytes()).isEqualTo(secret("snapshot"));
    }

    // every one went through the hook, bound to the canonical associated data of its place
    assertThat(encryption().lastSealedFor(ad("kv", "k1"))).as("value of k1 sealed").isNotNull();
    assertThat(encryption().lastSealedFor(ad("kv", "k2"))).as("putAll value sealed").isNotNull();
    assertThat(encryption().lastSealedFor(ad("kv", "k3"))).as("tx value sealed").isNotNull();
    assertThat(encryption().lastSealedFor(AssociatedData.forLogRecord(BACKEND, "log", 0)))
        .as("record 0 sealed")
        .isNotNull();
    assertThat(encryption().lastSealedFor(AssociatedData.forLogRecord(BACKEND, "log", 1)))
        .as("transactional record 1 sealed")
        .isNotNull();
    assertThat(encryption().lastSealedFor(AssociatedData.forSnapshotChunk(BACKEND, "snap", 1, 0)))
        .as("snapshot chunk sealed")
        .isNotNull();
    assertThat(encryption().seals()).isGreaterThanOrEqualTo(6);
    assertThat(encryption().opens()).as("reads open through the hook").isGreaterThanOrEqualTo(6);

    // and the plaintexts reached no file of the data directory
    closeEncrypted();
    assertNoFileContains(encryptedDir(), bytes(SECRET));
  }

  @Test
  public void aValueMovedToAnotherKeyOrStoreFailsToOpenNamingStoreAndKey() {
    assumeCapability(Capability.ENCRYPTION);
    StorageBackend b = encrypted();
    b.keyValue("kv").put(bytes("alice"), secret("alice"));
    b.keyValue("kv").put(bytes("bob"), secret("bob"));
    b.keyValue("other").put(bytes("alice"), secret("other-alice"));
    byte[] alices = encryption().lastSealedFor(ad("kv", "alice"));

    encryption().substituteOnNextOpen(ad("kv", "bob"), alices);
    assertThatThrownBy(() -> b.keyValue("kv").get(bytes("bob")))
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("'kv'")
        .hasMessageContaining("key")
        .hasMessageNotContaining(SECRET);

    encryption().substituteOnNextOpen(ad("other", "alice"), alices);
    assertThatThrownBy(() -> b.keyValue("other").getEntry(bytes("alice")))
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("'other'");

    // nothing stays broken: the stored bytes were never touched
    assertThat(b.keyValue("kv").get(bytes("bob"))).isEqualTo(secret("bob"));
    assertThat(b.keyValue("other").get(bytes("alice"))).isEqualTo(secret("other-alice"));
  }

  @Test
  public void aRecordMovedToAnotherOffsetOrLogFailsToOpenNamingLogAndOffset() {
    assumeCapability(Capability.ENCRYPTION);
    StorageBackend b = encrypted();
    b.log("log").appendAll(List.of(secret("r0"), secret("r1")));
    b.log("other").append(secret("o0"));
    byte[] first = encryption().lastSealedFor(AssociatedData.forLogRecord(BACKEND, "log", 0));

    encryption().substituteOnNextOpen(AssociatedData.forLogRecord(BACKEND, "log", 1), first);
    assertThatThrownBy(() -> b.log("log").read(0, 10))
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("'log'")
        .hasMessageContaining("offset 1")
        .hasMessageNotContaining(SECRET);

    encryption().substituteOnNextOpen(AssociatedData.forLogRecord(BACKEND, "other", 0), first);
    assertThatThrownBy(() -> b.log("other").read(0, 10))
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("'other'")
        .hasMessageContaining("offset 0");
    assertThat(b.log("log").read(0, 10)).hasSize(2);
  }

  @Test
  public void aSnapshotChunkMovedToAnotherVersionFailsToOpen() throws IOException {
    assumeCapability(Capability.ENCRYPTION);
    StorageBackend b = encrypted();
    b.snapshots("snap").save(1, secret("v1"));
    b.snapshots("snap").save(2, secret("v2"));
    byte[] v1 = encryption().lastSealedFor(AssociatedData.forSnapshotChunk(BACKEND, "snap", 1, 0));

    encryption().substituteOnNextOpen(AssociatedData.forSnapshotChunk(BACKEND, "snap", 2, 0), v1);
    try (InputStream in = b.snapshots("snap").load(2)) {
      assertThatThrownBy(in::readAllBytes)
          .isInstanceOf(StoreCorruptedException.class)
          .hasMessageContaining("'snap'")
          .hasMessageContaining("snapshot 2")
          .hasMessageNotContaining(SECRET);
    }
    try (InputStream in = b.snapshots("snap").load(2)) {
      assertThat(in.readAllBytes()).isEqualTo(secret("v2"));
    }
  }

  @Test
  public void verifyOpensEveryValuePayloadAndChunkAndNamesEachThatFailsToDecrypt() {
    assumeCapability(Capability.ENCRYPTION);
    StorageBackend b = encrypted();
    b.keyValue("kv").put(bytes("alice"), secret("alice"));
    b.keyValue("kv").put(bytes("bob"), secret("bob"));
    b.log("log").appendAll(List.of(secret("r0"), secret("r1")));
    b.snapshots("snap").save(1, secret("v1"));
    b.snapshots("snap").save(2, secret("v2"));
    long opensBefore = encryption().opens();
    VerifyReport healthy = b.verify(Progress.NONE);
    assertThat(healthy.problems()).isEmpty();
    assertThat(encryption().opens() - opensBefore)
        .as("verify opened both values, both records and the snapshot chunk")
        .isGreaterThanOrEqualTo(5);

    // ciphertexts moved: alice's value to bob, record 0 to offset 1, snapshot 1's chunk to 2
    encryption()
        .substituteOnNextOpen(ad("kv", "bob"), encryption().lastSealedFor(ad("kv", "alice")));
    encryption()
        .substituteOnNextOpen(
            AssociatedData.forLogRecord(BACKEND, "log", 1),
            encryption().lastSealedFor(AssociatedData.forLogRecord(BACKEND, "log", 0)));
    encryption()
        .substituteOnNextOpen(
            AssociatedData.forSnapshotChunk(BACKEND, "snap", 2, 0),
            encryption().lastSealedFor(AssociatedData.forSnapshotChunk(BACKEND, "snap", 1, 0)));
    VerifyReport broken = b.verify(Progress.NONE);
    assertThat(broken.healthy()).isFalse();
    assertThat(broken.problems())
        .as("one problem per record that fails to open, each naming the backend and its place")
        .anySatisfy(p -> assertThat(p).contains("'" + BACKEND + "'", "'kv'", "key"))
        .anySatisfy(p -> assertThat(p).contains("'" + BACKEND + "'", "'log'", "offset 1"))
        .anySatisfy(p -> assertThat(p).contains("'snap'", "snapshot 2"))
        .allSatisfy(p -> assertThat(p).doesNotContain(SECRET));
    assertThat(b.verify(Progress.NONE).problems())
        .as("nothing stored was touched: verify is healthy again")
        .isEmpty();
  }

  @Test
  public void resealRewritesEverythingUnderTheNewKeyKeepingVersionsExpiryOffsetsAndSnapshots()
      throws IOException {
    assumeCapability(Capability.ENCRYPTION);
    StorageBackend b = encrypted();
    var kv = b.keyValue("rk");
    for (int i = 0; i < 300; i++) {
      kv.put(bytes("k" + i), bytes("v" + i));
    }
    kv.put(bytes("k1"), bytes("v1-again"), java.time.Duration.ofHours(1));
    var log = b.log("rk-log");
    for (int i = 0; i < 300; i++) {
      log.append(bytes("r" + i));
    }
    log.truncateBefore(3);
    b.snapshots("rk-snap").save(4, new java.io.ByteArrayInputStream(new byte[150_000]));
    List<io.cairn.persistence.Entry> entries = new java.util.ArrayList<>();
    try (var it = kv.scan(null, null)) {
      it.forEachRemaining(entries::add);
    }
    List<io.cairn.persistence.LogRecord> records = log.read(0, 1000);
    List<io.cairn.persistence.SnapshotInfo> snapshots = b.snapshots("rk-snap").list();

    encryption.rotate();
    kv.put(bytes("after"), bytes("rotation")); // sealed with the new key: not rewritten
    io.cairn.persistence.ResealReport report = b.reseal(io.cairn.persistence.Progress.NONE);
    assertThat(report.resealed()).as(report.toString()).isGreaterThanOrEqualTo(300 + 297 + 1);
    assertThat(
            report
                .stores()
                .get(
                    new io.cairn.persistence.StoreId(io.cairn.persistence.StoreKind.LOG, "rk-log")))
        .as("a log's checked count is its records (297 after the truncation), not its bookkeeping")
        .isEqualTo(new io.cairn.persistence.ResealReport.Counts(297, 297));
    assertThat(
            report
                .stores()
                .get(
                    new io.cairn.persistence.StoreId(
                        io.cairn.persistence.StoreKind.KEY_VALUE, "rk")))
        .as("every entry checked once, the one written after the rotation not re-sealed")
        .isEqualTo(new io.cairn.persistence.ResealReport.Counts(301, 300));
    assertThat(b.reseal(io.cairn.persistence.Progress.NONE).resealed())
        .as("a second run finds everything under the new key")
        .isZero();

    encryption.retireOlderKeys();
    List<io.cairn.persistence.Entry> after = new java.util.ArrayList<>();
    try (var it = kv.scan(null, null)) {
      it.forEachRemaining(after::add);
    }
    after.removeIf(e -> java.util.Arrays.equals(e.key(), bytes("after")));
    assertThat(after).as("keys, values, versions and expiry").isEqualTo(entries);
    assertThat(log.firstOffset()).isEqualTo(3);
    assertThat(log.read(0, 1000)).isEqualTo(records);
    assertThat(b.snapshots("rk-snap").list()).isEqualTo(snapshots);
    try (InputStream in = b.snapshots("rk-snap").load(4)) {
      assertThat(in.readAllBytes()).isEqualTo(new byte[150_000]);
    }
    assertThat(b.verify(io.cairn.persistence.Progress.NONE).problems()).isEmpty();
  }

  @Test
  public void aBackendWithoutTheCapabilityIsRefusedAnEncryptionHook() {
    org.junit.jupiter.api.Assumptions.assumeFalse(
        capabilities().contains(Capability.ENCRYPTION),
        "backend declares ENCRYPTION; the refusal applies to backends without it");
    assertThatThrownBy(this::encrypted)
        .isInstanceOf(ConfigurationException.class)
        .hasMessageContaining(Capability.ENCRYPTION.name())
        .hasMessageContaining("'" + BACKEND + "'");
  }

  /** Fails if any regular file under {@code dir} contains {@code needle}. */
  private static void assertNoFileContains(Path dir, byte[] needle) throws IOException {
    assertThat(RawFiles.containing(dir, needle)).as("files holding the plaintext").isEmpty();
  }
}
