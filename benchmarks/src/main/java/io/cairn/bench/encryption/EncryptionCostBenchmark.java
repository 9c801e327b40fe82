package io.cairn.bench.encryption;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import io.cairn.encryption.Algorithm;
import io.cairn.encryption.KeySources;
import io.cairn.encryption.Keysets;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Comparator;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * What encryption at rest costs: key-value put and get of 100-byte values under 16-byte keys on
 * SQLite and RocksDB at durability {@code none}, through the registry as a service uses it, with
 * the backend's {@code encryption} section on (keyset file of XAES-256-GCM, Cairn's default, or of
 * AES-256-GCM) and off, in one run. Ratio = encrypted / unencrypted throughput per backend and
 * operation; the target is at least 0.7 for RocksDB. Results: benchmarks/RESULTS-encryption.md.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class EncryptionCostBenchmark {
  private static final int KEYS = 1 << 14;
  private static final int MASK = KEYS - 1;

  @Param({"rocksdb", "sqlite"})
  String backend;

  /**
   * {@code none}, or the algorithm of the keyset file (an {@link Algorithm#configName()}): XAES
   * derives a fresh AES key per message, which costs a key schedule per call that AES-256-GCM with
   * one fixed key does not pay.
   */
  @Param({"none", "xchacha20-poly1305", "xaes-256-gcm", "aes-256-gcm"})
  String encryption;

  /**
   * Whose AES-GCM Tink uses: {@code jdk} (the JVM's providers as configured) or {@code conscrypt}
   * (BoringSSL, inserted as provider 1 in this fork, the only way Tink 1.19 on a server JVM takes
   * it for AES-GCM); see {@link AeadProviderCost}.
   */
  @Param({"jdk"})
  String provider;

  Path dir;
  PersistenceRegistry registry;
  KeyValueStore kv;
  byte[][] keys;
  byte[] value;

  @Setup(Level.Trial)
  public void setUp() throws IOException, java.security.GeneralSecurityException {
    if (provider.equals("conscrypt")) {
      org.conscrypt.Conscrypt.checkAvailability(); // fails the trial if it cannot load
      java.security.Security.insertProviderAt(org.conscrypt.Conscrypt.newProvider(), 1);
    }
    String gcm = javax.crypto.Cipher.getInstance("AES/GCM/NoPadding").getProvider().getName();
    if (!gcm.equals(provider.equals("conscrypt") ? "Conscrypt" : "SunJCE")) {
      // measure nothing under the wrong name
      throw new IllegalStateException("AES/GCM comes from " + gcm + ", not " + provider);
    }
    dir = Files.createTempDirectory("cairn-enc-bench");
    Path keyset = dir.resolve("keyset.json");
    String enc = "";
    if (!encryption.equals("none")) {
      Algorithm algorithm =
          Arrays.stream(Algorithm.values())
              .filter(a -> a.configName().equals(encryption))
              .findFirst()
              .orElseThrow(() -> new IllegalArgumentException("unknown algorithm " + encryption));
      KeySources.keysetFile(keyset).store(Keysets.generate(algorithm));
      enc =
          ", encryption { key-source = keyset-file, keyset-file = "
              + ConfigUtil.quoteString(keyset.toString())
              + " }";
    }
    registry =
        PersistenceRegistry.open(
            ConfigFactory.parseString(
                "cairn.backends.bench { type = "
                    + backend
                    + ", durability = none, data-dir = "
                    + ConfigUtil.quoteString(dir.resolve("data").toString())
                    + enc
                    + " }"));
    kv = registry.backend("bench").keyValue("bench");
    Random random = new Random(42);
    keys = new byte[KEYS][];
    for (int i = 0; i < KEYS; i++) {
      keys[i] =
          String.format("k%015d", random.nextInt(Integer.MAX_VALUE))
              .getBytes(StandardCharsets.US_ASCII);
    }
    value = new byte[100];
    random.nextBytes(value);
    for (byte[] k : keys) {
      kv.put(k, value);
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    registry.close();
    try (Stream<Path> all = Files.walk(dir)) {
      all.sorted(Comparator.reverseOrder())
          .forEach(
              p -> {
                try {
                  Files.delete(p);
                } catch (IOException e) {
                  throw new UncheckedIOException(e);
                }
              });
    }
  }

  /** Per-thread cursor so threads do not contend on a shared counter. */
  @State(Scope.Thread)
  public static class Cursor {
    int next = new Random().nextInt(KEYS);
  }

  @Benchmark
  public byte[] get(Cursor c) {
    return kv.get(keys[c.next++ & MASK]);
  }

  @Benchmark
  public long put(Cursor c) {
    return kv.put(keys[c.next++ & MASK], value);
  }
}
