package io.cairn.bench.encryption;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.aead.internal.AesGcmJceUtil;
import io.cairn.encryption.Algorithm;
import io.cairn.encryption.Keysets;
import java.lang.management.ManagementFactory;
import java.security.GeneralSecurityException;
import java.security.Provider;
import java.security.Security;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-GCM of a 100-byte value on the JDK's provider (SunJCE) against Conscrypt (BoringSSL), in
 * <b>one process, interleaved rounds</b>, CPU time and bytes allocated per call of the calling
 * thread: a paired comparison on a machine too loaded for two separate processes to compare.
 *
 * <p>Tink 1.19 takes its AES-GCM {@code Cipher} from a per-thread cache filled on the thread's
 * first use from the JVM's provider list ({@code AesGcmJceUtil}, {@code EngineFactory}'s default
 * policy). So one worker thread makes its first call before Conscrypt is inserted (SunJCE), a
 * second one while it is provider 1 (Conscrypt); Conscrypt is then removed again, and each thread
 * keeps its own. Each thread checks which provider its cipher is from before it is measured.
 *
 * <p>Rows: {@code tink-open}/{@code tink-seal} (the keyset's {@code Aead}, what Cairn's {@code
 * Sealer} calls, with 64 bytes of associated data), and {@code jce-open}/{@code jce-seal} (the same
 * {@code init}, {@code updateAAD}, {@code doFinal} on a {@code Cipher} of that provider with a
 * fixed key, without Tink). Opens use 1,024 distinct ciphertexts in turn. Before measuring it
 * checks that each provider opens what the other sealed.
 *
 * <p>Usage: {@code java -cp benchmarks.jar io.cairn.bench.encryption.AeadProviderCost [rounds]
 * [callsPerRound]}, defaults 30 100000; the first quarter of the rounds is warm-up.
 */
public final class AeadProviderCost {
  private static final String[] OPS = {"tink-open", "tink-seal", "jce-open", "jce-seal"};

  private AeadProviderCost() {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 30;
    int calls = args.length > 1 ? Integer.parseInt(args[1]) : 100_000;
    org.conscrypt.Conscrypt.checkAvailability(); // fails loudly if the native library cannot load
    Provider conscrypt = org.conscrypt.Conscrypt.newProvider();
    Aead aead =
        Keysets.generate(Algorithm.AES_256_GCM)
            .getPrimitive(RegistryConfiguration.get(), Aead.class);
    Random random = new Random(42);
    byte[] value = new byte[100];
    byte[] ad = new byte[64];
    byte[] rawKey = new byte[32];
    random.nextBytes(value);
    random.nextBytes(ad);
    random.nextBytes(rawKey);

    Map<String, Worker> workers = new LinkedHashMap<>();
    workers.put("SunJCE", new Worker(aead, Cipher.getInstance("AES/GCM/NoPadding", "SunJCE")));
    workers.get("SunJCE").call(() -> workers.get("SunJCE").prepare(value, ad, rawKey, "SunJCE"));
    if (Security.insertProviderAt(conscrypt, 1) != 1) {
      throw new IllegalStateException("Conscrypt could not be inserted as provider 1");
    }
    Worker c = new Worker(aead, Cipher.getInstance("AES/GCM/NoPadding", conscrypt));
    workers.put("Conscrypt", c);
    try {
      c.call(() -> c.prepare(value, ad, rawKey, "Conscrypt"));
    } finally {
      Security.removeProvider(conscrypt.getName());
    }
    // interchangeable: each opens what the other sealed
    for (Worker from : workers.values()) {
      for (Worker to : workers.values()) {
        for (byte[] s : new byte[][] {from.sealed[0], from.sealed[1023]}) {
          byte[] opened = to.call(() -> aead.decrypt(s, ad));
          if (!Arrays.equals(opened, value)) {
            throw new IllegalStateException(from.provider + " -> " + to.provider + " differs");
          }
        }
      }
    }
    System.out.println(
        "rounds="
            + rounds
            + " calls/round="
            + calls
            + " java="
            + System.getProperty("java.version")
            + "; SunJCE and Conscrypt open each other's ciphertexts");
    Map<String, List<double[]>> samples = new LinkedHashMap<>();
    int warm = Math.max(1, rounds / 4);
    long[] sink = new long[1];
    for (int r = 0; r < rounds; r++) {
      for (String op : OPS) {
        for (Worker w : workers.values()) {
          double[] sample = w.call(() -> w.measure(op, calls, ad, sink));
          if (r >= warm) {
            samples.computeIfAbsent(op + " " + w.provider, x -> new ArrayList<>()).add(sample);
          }
        }
      }
    }
    System.out.println("(sink " + (sink[0] & 1) + ")");
    System.out.println(
        "| op | provider | CPU ns/call (median) | CPU ns/call (mean ± sd) | allocated B/call |");
    System.out.println("|---|---|---:|---:|---:|");
    for (Map.Entry<String, List<double[]>> e : samples.entrySet()) {
      List<double[]> s = e.getValue();
      double mean = EncryptionCpuCost.mean(s, 0);
      String[] name = e.getKey().split(" ");
      System.out.printf(
          Locale.ROOT,
          "| %s | %s | %.0f | %.0f ± %.0f | %.0f |%n",
          name[0],
          name[1],
          EncryptionCpuCost.median(s, 0),
          mean,
          EncryptionCpuCost.sd(s, 0, mean),
          EncryptionCpuCost.mean(s, 1));
    }
    for (Worker w : workers.values()) {
      w.executor.shutdown();
    }
  }

  /** One thread, whose Tink cipher is from one provider, and that provider's own Cipher. */
  private static final class Worker {
    final ExecutorService executor = Executors.newSingleThreadExecutor();
    final Aead aead;
    final Cipher cipher;
    String provider;
    byte[][] sealed;
    byte[][] rawSealed;
    byte[][] nonces;
    byte[] value;
    SecretKeySpec key;
    long sealCount;

    Worker(Aead aead, Cipher cipher) {
      this.aead = aead;
      this.cipher = cipher;
    }

    <T> T call(java.util.concurrent.Callable<T> task) throws Exception {
      return executor.submit(task).get();
    }

    /** On the worker thread: fills Tink's per-thread cipher and checks whose it is. */
    Void prepare(byte[] value, byte[] ad, byte[] rawKey, String expected)
        throws GeneralSecurityException {
      this.value = value;
      this.key = new SecretKeySpec(rawKey, "AES");
      sealed = new byte[1024][];
      for (int i = 0; i < sealed.length; i++) {
        sealed[i] = aead.encrypt(value, ad);
      }
      provider = AesGcmJceUtil.getThreadLocalCipher().getProvider().getName();
      if (!provider.equals(expected) || !cipher.getProvider().getName().equals(expected)) {
        throw new IllegalStateException(
            "Tink's AES-GCM on this thread is from " + provider + ", expected " + expected);
      }
      Random random = new Random(7);
      nonces = new byte[1024][12];
      rawSealed = new byte[1024][];
      for (int i = 0; i < nonces.length; i++) {
        random.nextBytes(nonces[i]);
        rawSealed[i] = jce(Cipher.ENCRYPT_MODE, nonces[i], ad, value);
      }
      return null;
    }

    private byte[] jce(int mode, byte[] nonce, byte[] ad, byte[] in)
        throws GeneralSecurityException {
      cipher.init(mode, key, new GCMParameterSpec(128, nonce));
      cipher.updateAAD(ad);
      return cipher.doFinal(in);
    }

    /** On the worker thread: CPU ns and bytes allocated per call of one op. */
    double[] measure(String op, int calls, byte[] ad, long[] sink) throws GeneralSecurityException {
      com.sun.management.ThreadMXBean mx =
          (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
      long s = 0;
      long alloc0 = mx.getCurrentThreadAllocatedBytes();
      long cpu0 = mx.getCurrentThreadCpuTime();
      switch (op) {
        case "tink-open" -> {
          for (int i = 0; i < calls; i++) {
            s += aead.decrypt(sealed[i & 1023], ad).length;
          }
        }
        case "tink-seal" -> {
          for (int i = 0; i < calls; i++) {
            s += aead.encrypt(value, ad).length;
          }
        }
        case "jce-open" -> {
          for (int i = 0; i < calls; i++) {
            s += jce(Cipher.DECRYPT_MODE, nonces[i & 1023], ad, rawSealed[i & 1023]).length;
          }
        }
        case "jce-seal" -> {
          // a fresh nonce per call (Conscrypt refuses to seal twice with one key and nonce)
          byte[] nonce = nonces[0].clone();
          for (int i = 0; i < calls; i++) {
            long n = ++sealCount;
            for (int b = 0; b < 8; b++) {
              nonce[b] = (byte) (n >>> (8 * b));
            }
            s += jce(Cipher.ENCRYPT_MODE, nonce, ad, value).length;
          }
        }
        default -> throw new IllegalArgumentException("unknown op " + op);
      }
      long cpu = mx.getCurrentThreadCpuTime() - cpu0;
      long alloc = mx.getCurrentThreadAllocatedBytes() - alloc0;
      synchronized (sink) {
        sink[0] += s;
      }
      return new double[] {cpu / (double) calls, alloc / (double) calls};
    }
  }
}
