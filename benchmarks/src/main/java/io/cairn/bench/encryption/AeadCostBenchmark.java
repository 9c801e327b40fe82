package io.cairn.bench.encryption;

import io.cairn.encryption.Algorithm;
import io.cairn.encryption.Keysets;
import io.cairn.encryption.TinkEncryption;
import io.cairn.persistence.spi.Sealer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.Security;
import java.util.Arrays;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import javax.crypto.Cipher;
import org.conscrypt.Conscrypt;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The cost of Cairn's seal and open path alone, without a store: {@link Sealer#sealValue} and
 * {@link Sealer#openValue} of a 100-byte value under a 16-byte key (associated data built as the
 * backends build it, Tink AEAD underneath), per algorithm and per JCE provider under Tink: the
 * JDK's (SunJCE) or Conscrypt (BoringSSL, installed as the first provider, which is the only way
 * Tink 1.19 on a server JVM uses it for AES-GCM). Average time per operation, to set beside the raw
 * store's time per get and put from {@link EncryptionCostBenchmark}: the ratio
 * encrypted/unencrypted can be at most {@code t_store / (t_store + t_open)}. Results:
 * benchmarks/RESULTS-encryption.md.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
public class AeadCostBenchmark {
  @Param({"xaes-256-gcm", "aes-256-gcm", "xchacha20-poly1305"})
  String algorithm;

  /** {@code jdk} (the JVM's providers as configured) or {@code conscrypt} (inserted first). */
  @Param({"jdk", "conscrypt"})
  String provider;

  Sealer sealer;
  byte[] key;
  byte[] value;

  /**
   * Distinct ciphertexts (distinct nonces) opened in turn: opening one ciphertext again and again
   * would let XAES derive the same key each time and the JDK skip its key schedule, which reads of
   * a store never do.
   */
  byte[][] sealed;

  int next;

  @Setup(Level.Trial)
  public void setUp() throws GeneralSecurityException {
    if (provider.equals("conscrypt")) {
      // fail the trial rather than measure the JDK under Conscrypt's name
      try {
        Conscrypt.checkAvailability();
      } catch (Throwable e) {
        throw new IllegalStateException(
            "Conscrypt's native library does not load on this machine: " + e, e);
      }
      Security.insertProviderAt(Conscrypt.newProvider(), 1);
    }
    String gcm = Cipher.getInstance("AES/GCM/NoPadding").getProvider().getName();
    String expected = provider.equals("conscrypt") ? "Conscrypt" : "SunJCE";
    if (!gcm.equals(expected)) {
      throw new IllegalStateException("AES/GCM comes from " + gcm + ", expected " + expected);
    }
    Algorithm a =
        Arrays.stream(Algorithm.values())
            .filter(x -> x.configName().equals(algorithm))
            .findFirst()
            .orElseThrow(() -> new IllegalArgumentException("unknown algorithm " + algorithm));
    sealer = Sealer.of("bench", TinkEncryption.standalone(Keysets.generate(a)));
    Random random = new Random(42);
    key = "k000000123456789".getBytes(StandardCharsets.US_ASCII);
    value = new byte[100];
    random.nextBytes(value);
    sealed = new byte[1024][];
    for (int i = 0; i < sealed.length; i++) {
      sealed[i] = sealer.sealValue("bench", key, value);
    }
  }

  @Benchmark
  public byte[] seal() {
    return sealer.sealValue("bench", key, value);
  }

  @Benchmark
  public byte[] open() {
    return sealer.openValue("bench", key, sealed[next++ & 1023]);
  }
}
