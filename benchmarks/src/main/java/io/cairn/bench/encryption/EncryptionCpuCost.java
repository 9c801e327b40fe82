package io.cairn.bench.encryption;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigUtil;
import io.cairn.encryption.Algorithm;
import io.cairn.encryption.KeySources;
import io.cairn.encryption.Keysets;
import io.cairn.encryption.TinkEncryption;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.spi.Sealer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.Security;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;
import javax.crypto.Cipher;

/**
 * The same measure as {@link EncryptionCostBenchmark} (RocksDB or SQLite, durability {@code none},
 * 100-byte values under 16-byte keys, 16,384 keys preloaded, through the registry), counted in
 * <b>CPU time of the calling thread per operation</b> instead of wall-clock throughput, for a
 * machine too loaded for JMH's wall-clock figures to mean anything: a thread that is descheduled
 * accrues no CPU time. All configurations are open at once and measured in interleaved rounds
 * (none, aes-256-gcm, aes-256-gcm-plain, xchacha20-poly1305, none, ...), so drift hits them alike.
 *
 * <p>What it leaves out: work on other threads (RocksDB's flush and compaction, the JIT, GC), and
 * the cache and frequency effects of the neighbours. It is a bound on the calling thread's cost,
 * which is what encryption adds to (sealing and opening run on the caller). It also measures
 * Cairn's seal and open path alone ({@link Sealer#sealValue}/{@link Sealer#openValue}, rows {@code
 * seal} and {@code open}) so the store's own share is visible.
 *
 * <p>Usage: {@code java -cp benchmarks/target/benchmarks.jar
 * io.cairn.bench.encryption.EncryptionCpuCost [backend] [rounds] [opsPerRound] [jdk|conscrypt]
 * [encryptions] [separate|shared]}; defaults rocksdb 12 100000 jdk
 * none,aes-256-gcm,aes-256-gcm-plain,xchacha20-poly1305 separate (aes-256-gcm is Cairn's default:
 * keys derived per backend, messages counted; aes-256-gcm-plain the keyset's primitive as a hook,
 * as before; xaes-256-gcm may be named too). The first quarter of the rounds is warm-up and not
 * reported. Results: benchmarks/RESULTS-encryption.md.
 *
 * <p><b>Controls</b> (to tell apart why an encrypted get costs more than a plain get plus one
 * open): a configuration name may carry {@code :N}, values of N bytes instead of 100 (e.g. {@code
 * none:133}, a plain store whose entries are as long as encrypted 100-byte values: 5-byte prefix,
 * 12-byte nonce, 16-byte tag), and {@code +garbage}, {@value #GARBAGE_BYTES} bytes of short-lived
 * arrays allocated after every get and put (about what one JDK 17 AES-GCM open allocates, in
 * objects of similar sizes), e.g. {@code none+garbage} (row {@code extra}: that allocation alone),
 * or {@code +sweep}, as many bytes written per operation into a 64 MB array in turn, which pushes
 * cache lines out as the allocation does but leaves the collector nothing to do (row {@code extra}:
 * the writes alone), or {@code +open}, one AES-256-GCM open (seal) of an unrelated 100-byte value
 * through a standalone encryption after every get (put), e.g. {@code none+open}: a plain store's
 * work and an encrypted one's crypto in the same loop. Every row also gives the bytes the calling
 * thread allocated per operation.
 */
public final class EncryptionCpuCost {
  private static final int KEYS = 1 << 14;
  private static final int MASK = KEYS - 1;

  /**
   * AES-256-GCM as Cairn used it before per-backend keys: the keyset's primitive given to the
   * registry as a hook, no derivation, no count. The comparison point for what they cost.
   */
  private static final String PLAIN_AES = "aes-256-gcm-plain";

  private static final String[] ALL_ENCRYPTIONS = {
    "none", "aes-256-gcm", PLAIN_AES, "xchacha20-poly1305"
  };

  private static final String[] OPS = {"get", "put", "open", "seal", "extra"};

  /**
   * The sizes (payload bytes) of the arrays a {@code +garbage} configuration allocates per
   * operation: about the objects one JDK 17 AES-GCM open allocates (GHASH tables, counter-mode and
   * engine state, the AAD buffer, key and nonce copies), RESULTS-encryption.md 2026-12-06 02:44.
   */
  private static final int[] GARBAGE = {192, 128, 120, 104, 80, 80, 64, 64, 48, 48, 48, 32, 32, 32};

  /** Bytes, headers included (16 per array on a 64-bit JVM with compressed pointers). */
  static final int GARBAGE_BYTES = 1_296;

  /** Where the garbage goes, so escape analysis cannot remove its allocation. */
  private static final Object[] SINK = new Object[64];

  private static int sinkNext;

  private static final int SWEEP_SIZE = 64 << 20;

  private static byte[] sweepArea;

  private static int sweepNext;

  private EncryptionCpuCost() {}

  public static void main(String[] args) throws Exception {
    String backend = args.length > 0 ? args[0] : "rocksdb";
    int rounds = args.length > 1 ? Integer.parseInt(args[1]) : 12;
    int ops = args.length > 2 ? Integer.parseInt(args[2]) : 100_000;
    String provider = args.length > 3 ? args[3] : "jdk";
    // a subset, e.g. "none,xchacha20-poly1305", to profile one configuration
    String[] encryptions = args.length > 4 ? args[4].split(",") : ALL_ENCRYPTIONS;
    // separate (default): gets read a store of their own that only the preload wrote; shared (as
    // before 2026-12-06): gets read the store the put rounds write, see below
    boolean shared = args.length > 5 && args[5].equals("shared");
    if (provider.equals("conscrypt")) {
      // fails loudly (NoClassDefFoundError / UnsatisfiedLinkError) if Conscrypt cannot load
      org.conscrypt.Conscrypt.checkAvailability();
      Security.insertProviderAt(org.conscrypt.Conscrypt.newProvider(), 1);
    }
    System.out.println(
        "backend="
            + backend
            + " rounds="
            + rounds
            + " ops/round="
            + ops
            + " get-store="
            + (shared ? "shared" : "separate")
            + " AES/GCM provider="
            + Cipher.getInstance("AES/GCM/NoPadding").getProvider().getName());
    ThreadMXBean mx = ManagementFactory.getThreadMXBean();
    // HotSpot's: bytes this thread allocated (TLAB accounting), to show the garbage control matches
    com.sun.management.ThreadMXBean alloc = (com.sun.management.ThreadMXBean) mx;
    Random random = new Random(42);
    byte[][] keys = keys(random, KEYS);
    byte[] value = new byte[100];
    random.nextBytes(value);
    Map<String, byte[]> values = new LinkedHashMap<>();
    Path dir = Files.createTempDirectory("cairn-enc-cpu");
    Map<String, PersistenceRegistry> registries = new LinkedHashMap<>();
    Map<String, KeyValueStore> stores = new LinkedHashMap<>();
    // Gets read a backend of their own, written only by the preload (every entry in the memtable),
    // as EncryptionCostBenchmark's get does. With one store for both (shared), a get round reads
    // what the put rounds before it left: RocksDB flushes at points that depend on the stored
    // value's size (an encrypted one is 33 bytes longer), so one configuration's gets may go to SST
    // files far more often than the other's: a difference of flush phase, not of encryption's cost
    // (profile in RESULTS-encryption.md, 2026-12-06 02:20).
    Map<String, KeyValueStore> getStores = new LinkedHashMap<>();
    // Cairn's seal/open path alone (associated data + Tink), as the backends call it
    Map<String, Sealer> sealers = new LinkedHashMap<>();
    // distinct ciphertexts (distinct nonces): opening one twice in a row would let XAES reuse the
    // derived key and the JDK skip the key schedule, which a store's reads never do
    Map<String, byte[][]> sealed = new LinkedHashMap<>();
    byte[] sealKey = keys[0];
    Map<String, List<double[]>> samples = new LinkedHashMap<>();
    try {
      for (String config : encryptions) {
        String enc = encryptionOf(config);
        byte[] v = Arrays.copyOf(value, valueLengthOf(config));
        if (v.length > value.length) {
          random.nextBytes(v);
        }
        values.put(config, v);
        PersistenceRegistry registry = open(dir.resolve(config), backend, enc);
        registries.put(config, registry);
        KeyValueStore kv = registry.backend("bench").keyValue("bench");
        for (byte[] k : keys) {
          kv.put(k, v);
        }
        stores.put(config, kv);
        if (shared) {
          getStores.put(config, kv);
        } else {
          PersistenceRegistry readOnly = open(dir.resolve(config + "-get"), backend, enc);
          registries.put(config + "-get", readOnly);
          KeyValueStore g = readOnly.backend("bench").keyValue("bench");
          for (byte[] k : keys) {
            g.put(k, v);
          }
          getStores.put(config, g);
        }
        if (!enc.equals("none") || config.endsWith("+open")) {
          Sealer sealer =
              Sealer.of(
                  "bench",
                  enc.equals(PLAIN_AES)
                      ? new PlainAead(Keysets.generate(Algorithm.AES_256_GCM))
                      : TinkEncryption.standalone(
                          Keysets.generate(algorithm(enc.equals("none") ? "aes-256-gcm" : enc))));
          sealers.put(config, sealer);
          byte[][] some = new byte[KEYS][];
          for (int i = 0; i < KEYS; i++) {
            some[i] = sealer.sealValue("bench", sealKey, value);
          }
          sealed.put(config, some);
        }
      }
      int warm = Math.max(1, rounds / 4);
      long sink = 0;
      for (int r = 0; r < rounds; r++) {
        for (String op : OPS) {
          for (String enc : encryptions) {
            boolean alone = op.equals("open") || op.equals("seal");
            boolean garbage = enc.endsWith("+garbage");
            boolean sweep = enc.endsWith("+sweep");
            boolean plusOpen = enc.endsWith("+open");
            if (alone && !sealers.containsKey(enc) || op.equals("extra") && !garbage && !sweep) {
              continue;
            }
            if (sweep && sweepArea == null) {
              sweepArea = new byte[SWEEP_SIZE];
            }
            KeyValueStore kv = stores.get(enc);
            Sealer sealer = sealers.get(enc);
            byte[][] stored = sealed.get(enc);
            byte[] v = values.get(enc);
            int next = random.nextInt(KEYS);
            long wall0 = System.nanoTime();
            long alloc0 = alloc.getCurrentThreadAllocatedBytes();
            long cpu0 = mx.getCurrentThreadCpuTime();
            if (op.equals("get") && garbage) {
              KeyValueStore g = getStores.get(enc);
              for (int i = 0; i < ops; i++) {
                sink += g.get(keys[next++ & MASK]).length;
                garbage();
              }
            } else if (op.equals("get") && sweep) {
              KeyValueStore g = getStores.get(enc);
              for (int i = 0; i < ops; i++) {
                sink += g.get(keys[next++ & MASK]).length;
                sweep();
              }
            } else if (op.equals("get") && plusOpen) {
              KeyValueStore g = getStores.get(enc);
              for (int i = 0; i < ops; i++) {
                int n = next++ & MASK;
                sink += g.get(keys[n]).length;
                sink += sealer.openValue("bench", sealKey, stored[n]).length;
              }
            } else if (op.equals("get")) {
              KeyValueStore g = getStores.get(enc);
              for (int i = 0; i < ops; i++) {
                sink += g.get(keys[next++ & MASK]).length;
              }
            } else if (op.equals("put") && garbage) {
              for (int i = 0; i < ops; i++) {
                sink += kv.put(keys[next++ & MASK], v);
                garbage();
              }
            } else if (op.equals("put") && plusOpen) {
              for (int i = 0; i < ops; i++) {
                sink += kv.put(keys[next++ & MASK], v);
                sink += sealer.sealValue("bench", sealKey, value).length;
              }
            } else if (op.equals("put") && sweep) {
              for (int i = 0; i < ops; i++) {
                sink += kv.put(keys[next++ & MASK], v);
                sweep();
              }
            } else if (op.equals("extra") && sweep) {
              for (int i = 0; i < ops; i++) {
                sweep();
              }
            } else if (op.equals("extra")) {
              for (int i = 0; i < ops; i++) {
                garbage();
              }
            } else if (op.equals("open")) {
              for (int i = 0; i < ops; i++) {
                sink += sealer.openValue("bench", sealKey, stored[next++ & MASK]).length;
              }
            } else if (op.equals("seal")) {
              for (int i = 0; i < ops; i++) {
                sink += sealer.sealValue("bench", sealKey, value).length;
              }
            } else {
              for (int i = 0; i < ops; i++) {
                sink += kv.put(keys[next++ & MASK], v);
              }
            }
            long cpu = mx.getCurrentThreadCpuTime() - cpu0;
            long allocated = alloc.getCurrentThreadAllocatedBytes() - alloc0;
            long wall = System.nanoTime() - wall0;
            if (r >= warm) {
              samples
                  .computeIfAbsent(op + " " + enc, x -> new ArrayList<>())
                  .add(
                      new double[] {
                        cpu / (double) ops, wall / (double) ops, allocated / (double) ops
                      });
            }
          }
        }
      }
      System.out.println("(sink " + (sink & 1) + ")");
      System.out.println(
          "| op | encryption | CPU ns/op (mean ± sd) | CPU ns/op (median) | wall ns/op (median) |"
              + " ratio (CPU means, none/enc) | ratio (CPU medians) | allocated B/op (mean) |");
      System.out.println("|---|---|---:|---:|---:|---:|---:|---:|");
      for (String op : OPS) {
        List<double[]> none = samples.get(op + " none");
        double base = none == null ? Double.NaN : mean(none, 0);
        double baseMedian = none == null ? Double.NaN : median(none, 0);
        for (String enc : encryptions) {
          List<double[]> s = samples.get(op + " " + enc);
          if (s == null) {
            continue;
          }
          double m = mean(s, 0);
          System.out.printf(
              Locale.ROOT,
              "| %s | %s | %.0f ± %.0f | %.0f | %.0f | %.2f | %.2f | %.0f |%n",
              op,
              enc,
              m,
              sd(s, 0, m),
              median(s, 0),
              median(s, 1),
              base / m,
              baseMedian / median(s, 0),
              mean(s, 2));
        }
      }
    } finally {
      for (PersistenceRegistry registry : registries.values()) {
        registry.close();
      }
      delete(dir);
    }
  }

  static PersistenceRegistry open(Path dir, String backend, String encryption) throws IOException {
    Files.createDirectories(dir);
    String enc = "";
    if (encryption.equals(PLAIN_AES)) {
      PlainAead hook = new PlainAead(Keysets.generate(Algorithm.AES_256_GCM));
      return PersistenceRegistry.builder()
          .encryption(n -> hook)
          .open(
              ConfigFactory.parseString(
                  "cairn.backends.bench { type = "
                      + backend
                      + ", durability = none, data-dir = "
                      + ConfigUtil.quoteString(dir.resolve("data").toString())
                      + " }"));
    }
    if (!encryption.equals("none")) {
      Algorithm algorithm = algorithm(encryption);
      Path keyset = dir.resolve("keyset.json");
      KeySources.keysetFile(keyset).store(Keysets.generate(algorithm));
      enc =
          ", encryption { key-source = keyset-file, keyset-file = "
              + ConfigUtil.quoteString(keyset.toString())
              + " }";
    }
    return PersistenceRegistry.open(
        ConfigFactory.parseString(
            "cairn.backends.bench { type = "
                + backend
                + ", durability = none, data-dir = "
                + ConfigUtil.quoteString(dir.resolve("data").toString())
                + enc
                + " }"));
  }

  /** The keyset's AEAD primitive as it is (see {@link #PLAIN_AES}). */
  private static final class PlainAead implements io.cairn.persistence.spi.Encryption {
    private final com.google.crypto.tink.Aead aead;

    PlainAead(com.google.crypto.tink.KeysetHandle keyset) {
      try {
        aead =
            keyset.getPrimitive(
                com.google.crypto.tink.RegistryConfiguration.get(),
                com.google.crypto.tink.Aead.class);
      } catch (java.security.GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public byte[] seal(byte[] plaintext, byte[] associatedData) {
      try {
        return aead.encrypt(plaintext, associatedData);
      } catch (java.security.GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public byte[] open(byte[] sealed, byte[] associatedData) {
      try {
        return aead.decrypt(sealed, associatedData);
      } catch (java.security.GeneralSecurityException e) {
        throw new IllegalStateException("cannot open", e);
      }
    }
  }

  /** Allocates {@link #GARBAGE} and drops it at once (kept reachable only until overwritten). */
  private static void garbage() {
    int n = sinkNext;
    for (int size : GARBAGE) {
      SINK[n++ & 63] = new byte[size];
    }
    sinkNext = n;
  }

  /** Writes {@link #GARBAGE_BYTES} bytes of the sweep area, the next ones each time. */
  private static void sweep() {
    int from = sweepNext;
    Arrays.fill(sweepArea, from, from + GARBAGE_BYTES, (byte) from);
    from += GARBAGE_BYTES;
    sweepNext = from + GARBAGE_BYTES > SWEEP_SIZE ? 0 : from;
  }

  /** The encryption of a configuration name: {@code none:133+garbage} is {@code none}. */
  private static String encryptionOf(String config) {
    String c = withoutSuffix(config);
    int colon = c.indexOf(':');
    return colon < 0 ? c : c.substring(0, colon);
  }

  /** The value length of a configuration name: {@code none:133} is 133, default 100. */
  private static int valueLengthOf(String config) {
    String c = withoutSuffix(config);
    int colon = c.indexOf(':');
    return colon < 0 ? 100 : Integer.parseInt(c.substring(colon + 1));
  }

  private static String withoutSuffix(String config) {
    int plus = config.indexOf('+');
    if (plus < 0) {
      return config;
    }
    String suffix = config.substring(plus);
    if (!suffix.equals("+garbage") && !suffix.equals("+sweep") && !suffix.equals("+open")) {
      throw new IllegalArgumentException(
          "Unknown control '" + suffix + "' in '" + config + "': use +garbage, +sweep or +open");
    }
    return config.substring(0, plus);
  }

  private static Algorithm algorithm(String name) {
    return Arrays.stream(Algorithm.values())
        .filter(a -> a.configName().equals(name))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("unknown algorithm " + name));
  }

  /** {@code n} 16-byte keys drawn from {@code random}, as every encryption harness uses them. */
  static byte[][] keys(Random random, int n) {
    byte[][] keys = new byte[n][];
    for (int i = 0; i < n; i++) {
      keys[i] =
          String.format("k%015d", random.nextInt(Integer.MAX_VALUE))
              .getBytes(StandardCharsets.US_ASCII);
    }
    return keys;
  }

  static double mean(List<double[]> s, int i) {
    return s.stream().mapToDouble(x -> x[i]).average().orElse(Double.NaN);
  }

  static double sd(List<double[]> s, int i, double mean) {
    double v = s.stream().mapToDouble(x -> (x[i] - mean) * (x[i] - mean)).sum();
    return Math.sqrt(v / Math.max(1, s.size() - 1));
  }

  static double median(List<double[]> s, int i) {
    double[] v = s.stream().mapToDouble(x -> x[i]).sorted().toArray();
    return v[v.length / 2];
  }

  static void delete(Path dir) throws IOException {
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
}
