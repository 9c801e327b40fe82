package io.cairn.encryption;

import static org.assertj.core.api.Assertions.assertThat;

import com.codahale.metrics.Counting;
import com.codahale.metrics.Gauge;
import com.codahale.metrics.Metric;
import com.codahale.metrics.Sampling;
import com.codahale.metrics.health.HealthCheck;
import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.aead.XAesGcmKey;
import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.Progress;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.VerifyReport;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.LoggerFactory;

/**
 * Redaction: runs the encryption scenarios on SQLite and RocksDB (open, put/get, log append/read,
 * snapshot save/load, a tampered record, a wrong key at open, a revoked key, rotation and reseal,
 * verify) while capturing everything that could carry a secret out — everything logged (the tests'
 * SLF4J provider is slf4j-simple, which writes to {@code System.err}: captured by replacing it),
 * every exception's message and full stack trace with its causes, every metric name and value of
 * the registry's MetricRegistry, every health check message, and {@code toString()} of the
 * registry, backend, stores, records, entries and reports — then looks for the test's plaintext
 * values and the keyset's secret key bytes (raw, hex and Base64) in all of it. A control logs and
 * throws a marker and finds it, so an empty capture cannot pass.
 *
 * <p>Structured events ({@code cairn.events}, sent to SLF4J here) are captured with the logs. The
 * scenario's keys are searched for too: they are stored in clear by design, but Cairn's messages
 * show them redacted when encryption is on (SQLite's row checksum message included).
 */
class RedactionTest {
  static {
    // the most verbose level, if slf4j-simple is not initialised yet in this JVM
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "trace");
  }

  private static final String VALUE = "PLAINTEXT-VALUE-9d1b-";
  private static final String CONTROL = "CAPTURE-CONTROL-MARKER-51e0";

  @TempDir Path dir;
  private final StringBuilder captured = new StringBuilder();
  private final ByteArrayOutputStream logs = new ByteArrayOutputStream();
  private PrintStream originalErr;
  private final List<KeysetHandle> keysets = new ArrayList<>();

  @BeforeEach
  void captureLogs() {
    originalErr = System.err;
    OutputStream tee =
        new OutputStream() {
          @Override
          public void write(int b) {
            logs.write(b);
            originalErr.write(b);
          }

          @Override
          public void write(byte[] b, int off, int len) {
            logs.write(b, off, len);
            originalErr.write(b, off, len);
          }
        };
    System.setErr(new PrintStream(tee, true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void restoreErr() {
    System.setErr(originalErr);
  }

  private Path keysetFile() {
    return dir.resolve("keyset.json");
  }

  private PersistenceRegistry open(String type) {
    return PersistenceRegistry.builder()
        .baseDirectory(dir)
        .open(
            ConfigFactory.parseString(
                "cairn.backends.main { type = "
                    + type
                    + ", data-dir = data, encryption { key-source = keyset-file, keyset-file = \""
                    + keysetFile()
                    + "\" } }\n"
                    // structured events go to SLF4J, so the capture below sees them too
                    + "cairn.events { sink = slf4j }"));
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private void see(Object o) {
    captured.append(o).append('\n');
  }

  private void seeThrown(Throwable t) {
    StringWriter w = new StringWriter();
    t.printStackTrace(new PrintWriter(w));
    captured.append(w).append('\n');
  }

  /** Runs {@code work}, expecting it to throw; captures the exception whole. */
  private Throwable thrown(Callable<?> work) {
    try {
      see(work.call());
    } catch (Throwable t) {
      seeThrown(t);
      return t;
    }
    throw new AssertionError("expected a failure");
  }

  private void seeRegistry(PersistenceRegistry r) {
    see(r);
    for (Map.Entry<String, Metric> m : r.metrics().getMetrics().entrySet()) {
      see(m.getKey());
      Metric metric = m.getValue();
      if (metric instanceof Gauge<?> g) {
        try {
          see(g.getValue());
        } catch (RuntimeException e) {
          seeThrown(e);
        }
      }
      if (metric instanceof Counting c) {
        see(c.getCount());
      }
      if (metric instanceof Sampling s) {
        see(java.util.Arrays.toString(s.getSnapshot().getValues()));
      }
      see(metric);
    }
    for (Map.Entry<String, HealthCheck.Result> h : r.healthChecks().runHealthChecks().entrySet()) {
      see(h.getKey());
      see(h.getValue().getMessage());
      see(h.getValue());
      if (h.getValue().getError() != null) {
        seeThrown(h.getValue().getError());
      }
    }
  }

  private void scenarios(String type) throws Exception {
    KeySource source = KeySources.keysetFile(keysetFile());
    KeysetHandle first = Keysets.generate(Algorithm.XAES_256_GCM);
    keysets.add(first);
    source.store(first);
    long firstKey = TinkEncryption.of(first).primaryKeyId();
    try (PersistenceRegistry r = open(type)) {
      StorageBackend b = r.backend("main");
      see(b);
      KeyValueStore kv = b.keyValue("users");
      LogStore log = b.log("events");
      SnapshotStore snaps = b.snapshots("state");
      see(kv);
      see(log);
      see(snaps);
      for (int i = 0; i < 20; i++) {
        see(kv.put(bytes("user-" + i), bytes(VALUE + "kv-" + i)));
        see(log.append(bytes(VALUE + "log-" + i)));
      }
      see(kv.getEntry(bytes("user-3")));
      try (var it = kv.scan(null, null)) {
        it.forEachRemaining(this::see);
      }
      see(log.read(0, 100));
      see(snaps.save(1, bytes(VALUE + "snapshot")));
      try (InputStream in = snaps.load(1)) {
        in.readAllBytes();
      }
      see(snaps.list());
      see(b.stats());
      VerifyReport report = b.verify(Progress.NONE);
      see(report);
      assertThat(report.healthy()).as(report.toString()).isTrue();
      seeRegistry(r);
    }

    // rotation; the old key revoked while data still needs it fails at open
    KeysetHandle rotated = Keysets.rotate(first, Algorithm.XAES_256_GCM);
    keysets.add(rotated);
    KeysetHandle revoked = Keysets.revoke(rotated, firstKey);
    source.store(revoked);
    thrown(() -> open(type));
    // re-encryption under the new primary, after which the revoked keyset opens everything
    source.store(rotated);
    try (PersistenceRegistry r = open(type)) {
      see(Rekey.run(r, "main", (phase, done, total) -> see(phase + " " + done + "/" + total)));
      seeRegistry(r);
    }
    source.store(revoked);
    try (PersistenceRegistry r = open(type)) {
      see(r.backend("main").keyValue("users").getEntry(bytes("user-1")));
    }

    // a wrong key fails at open
    KeysetHandle wrong = Keysets.generate(Algorithm.XAES_256_GCM);
    keysets.add(wrong);
    source.store(wrong);
    thrown(() -> open(type));

    // a tampered record: a ciphertext moved to another key, below Cairn
    source.store(revoked);
    Tamper.moveValue(type, dir.resolve("data"), "users", bytes("user-0"), bytes("user-1"));
    try (PersistenceRegistry r = open(type)) {
      StorageBackend b = r.backend("main");
      Throwable t = thrown(() -> b.keyValue("users").get(bytes("user-1")));
      assertThat(t).isInstanceOf(StoreCorruptedException.class);
      VerifyReport report = b.verify(Progress.NONE);
      see(report);
      assertThat(report.healthy()).isFalse();
      seeRegistry(r);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "rocksdb"})
  void noPlaintextValueOrKeyMaterialReachesLogsExceptionsMetricsHealthOrToString(String type)
      throws Exception {
    scenarios(type);
    // control: a marker logged and thrown is found, so the capture works
    LoggerFactory.getLogger(RedactionTest.class).warn("{} logged", CONTROL);
    seeThrown(new IllegalStateException(CONTROL + " thrown"));
    System.err.flush();
    String all = captured + "\n" + logs.toString(StandardCharsets.UTF_8);
    assertThat(all)
        .as("the control marker was captured from the log")
        .contains(CONTROL + " logged");
    assertThat(all).contains(CONTROL + " thrown");
    assertThat(all).as("the scenarios ran and were captured").contains("users", "main");
    assertThat(all).as("structured events were captured").contains("\"type\":\"corruption\"");

    assertThat(all).doesNotContain(VALUE);
    // Keys are stored in clear (docs/security.md), but never printed when encryption is on.
    assertThat(all).as("a user key").doesNotContain("user-");
    for (String secret : keyMaterial()) {
      assertThat(all).as("key material").doesNotContain(secret);
    }
  }

  /** The secret key bytes of every keyset the test used: raw (Latin-1), hex and Base64. */
  private List<String> keyMaterial() {
    List<String> out = new ArrayList<>();
    for (KeysetHandle h : keysets) {
      for (int i = 0; i < h.size(); i++) {
        if (h.getAt(i).getKey() instanceof XAesGcmKey k) {
          byte[] raw = k.getKeyBytes().toByteArray(InsecureSecretKeyAccess.get());
          out.add(new String(raw, StandardCharsets.ISO_8859_1));
          out.add(HexFormat.of().formatHex(raw));
          out.add(HexFormat.of().withUpperCase().formatHex(raw));
          out.add(Base64.getEncoder().encodeToString(raw));
          out.add(Base64.getUrlEncoder().withoutPadding().encodeToString(raw));
        }
      }
    }
    assertThat(out).as("key material found in the keysets").hasSizeGreaterThanOrEqualTo(15);
    return out;
  }

  static final class Tamper {
    private Tamper() {}

    /** Copies the stored value of {@code from} over that of {@code to}, below Cairn. */
    static void moveValue(String type, Path data, String ns, byte[] from, byte[] to)
        throws Exception {
      if (type.equals("sqlite")) {
        try (var c =
                java.sql.DriverManager.getConnection("jdbc:sqlite:" + data.resolve("cairn.db"));
            var ps =
                c.prepareStatement(
                    // schema v5: one table of the base's records, kind 0 = key-value
                    "UPDATE rec SET value = (SELECT value FROM rec WHERE kind = 0 AND store = ?"
                        + " AND key = ?) WHERE kind = 0 AND store = ? AND key = ?")) {
          ps.setString(1, ns);
          ps.setBytes(2, from);
          ps.setString(3, ns);
          ps.setBytes(4, to);
          assertThat(ps.executeUpdate()).isEqualTo(1);
        }
      } else {
        RocksTamper.moveValue(data, from, to);
      }
    }
  }
}
