package io.cairn.bench.encryption;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.InsecureSecretKeyAccess;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.aead.AesGcmKey;
import com.google.crypto.tink.subtle.AesGcmJce;
import io.cairn.encryption.Algorithm;
import io.cairn.encryption.Keysets;
import io.cairn.encryption.TinkEncryption;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.spi.AssociatedData;
import io.cairn.persistence.spi.Sealer;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * An encrypted RocksDB get and put taken apart, <b>in one process, interleaved rounds</b>, CPU time
 * and bytes allocated per call of the calling thread: the whole store operation (plain and
 * AES-256-GCM, as {@link EncryptionCpuCost} measures them) beside each piece of the encrypted path
 * alone, so a piece's share is read against a get or put measured in the same run.
 *
 * <p>Open pieces, each adding to the one before where the name says so: {@code payload copy} (the
 * sealed bytes copied out of the stored entry, past its 16-byte header, as {@code Layout.kvPayload}
 * does), {@code associated data} (built after the store's cached header, as {@link Sealer} does),
 * {@code jce init}, {@code jce init+aad}, {@code jce open} (the JDK's {@code Cipher} alone with a
 * fixed key: {@code init} with the nonce, {@code updateAAD}, {@code doFinal}: what Tink calls),
 * {@code tink key open} (Tink's per-key AES-GCM primitive: prefix check, parameter object, the JCE
 * calls), {@code tink keyset open} (the keyset's primitive: Tink's prefix routing to it), {@code
 * encryption open} ({@link TinkEncryption#open}, what the backend's hook does), {@code sealer open}
 * ({@link Sealer#openValue}: associated data and the hook) and {@code sealer open+copy} (with the
 * payload copy: everything an encrypted get adds to RocksDB's read). Every piece opens the same
 * 16,384 distinct ciphertexts (the store's keys, so distinct associated data) in turn.
 *
 * <p>Seal pieces likewise: {@code nonce} (Tink's 12 random bytes), {@code tink key seal}, {@code
 * tink keyset seal}, {@code encryption seal} (counted against the message budget, keys derived),
 * {@code sealer seal}, {@code frame copy} (the sealed bytes copied behind the 16-byte header, as
 * {@code Layout.kvValue} does).
 *
 * <p>Usage: {@code java -cp benchmarks.jar io.cairn.bench.encryption.EncryptionGetPieces [rounds]
 * [opsPerRound]}, defaults 24 50000; the first quarter of the rounds is warm-up. Results:
 * benchmarks/RESULTS-encryption.md.
 */
public final class EncryptionGetPieces {
  private static final int KEYS = 1 << 14;
  private static final int MASK = KEYS - 1;
  private static final int HEADER = 16; // Layout.KV_HEADER: version and expiry
  private static final int PREFIX = 5; // Tink's output prefix
  private static final int NONCE = 12;

  private static final String[] PIECES = {
    "get none",
    "get aes-256-gcm",
    "payload copy",
    "associated data",
    "jce init",
    "jce init+aad",
    "jce open",
    "tink key open",
    "tink keyset open",
    "encryption open",
    "sealer open",
    "sealer open+copy",
    "put none",
    "put aes-256-gcm",
    "nonce",
    "tink key seal",
    "tink keyset seal",
    "encryption seal",
    "sealer seal",
    "frame copy",
  };

  private EncryptionGetPieces() {}

  public static void main(String[] args) throws Exception {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 24;
    int ops = args.length > 1 ? Integer.parseInt(args[1]) : 50_000;
    String provider = Cipher.getInstance("AES/GCM/NoPadding").getProvider().getName();
    System.out.println(
        "rounds="
            + rounds
            + " ops/round="
            + ops
            + " java="
            + System.getProperty("java.version")
            + " AES/GCM provider="
            + provider);
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    Random random = new Random(42);
    byte[][] keys = EncryptionCpuCost.keys(random, KEYS);
    byte[] value = new byte[100];
    random.nextBytes(value);

    KeysetHandle keyset = Keysets.generate(Algorithm.AES_256_GCM);
    AesGcmKey key = (AesGcmKey) keyset.getPrimary().getKey();
    Aead keyAead = AesGcmJce.create(key);
    Aead keysetAead = keyset.getPrimitive(RegistryConfiguration.get(), Aead.class);
    // unattached: opens with the keyset's own keys (the ones sealed with below)
    TinkEncryption opener = TinkEncryption.of(keyset);
    Sealer openSealer = Sealer.of("bench", opener);
    // attached to an in-memory record: seals (keys derived, messages counted) as a backend does
    TinkEncryption sealing = TinkEncryption.standalone(Keysets.generate(Algorithm.AES_256_GCM));
    Sealer sealSealer = Sealer.of("bench", sealing);
    SecretKeySpec keySpec =
        new SecretKeySpec(key.getKeyBytes().toByteArray(InsecureSecretKeyAccess.get()), "AES");
    Cipher cipher = Cipher.getInstance("AES/GCM/NoPadding", provider);

    byte[] header = AssociatedData.header("bench", StoreKind.KEY_VALUE, "bench");
    byte[][] ads = new byte[KEYS][];
    byte[][] sealed = new byte[KEYS][];
    byte[][] stored = new byte[KEYS][];
    for (int i = 0; i < KEYS; i++) {
      ads[i] = AssociatedData.forValue(header, keys[i]);
      sealed[i] = keysetAead.encrypt(value, ads[i]);
      stored[i] = new byte[HEADER + sealed[i].length];
      System.arraycopy(sealed[i], 0, stored[i], HEADER, sealed[i].length);
      // every opener agrees before anything is measured
      check(keyAead.decrypt(sealed[i], ads[i]), value, "per-key primitive");
      check(opener.open(sealed[i], ads[i]), value, "TinkEncryption");
      check(openSealer.openValue("bench", keys[i], sealed[i]), value, "Sealer");
      cipher.init(Cipher.DECRYPT_MODE, keySpec, new GCMParameterSpec(128, sealed[i], PREFIX, 12));
      cipher.updateAAD(ads[i]);
      check(
          cipher.doFinal(sealed[i], PREFIX + NONCE, sealed[i].length - PREFIX - NONCE),
          value,
          "JCE");
    }

    Path dir = Files.createTempDirectory("cairn-enc-pieces");
    Map<String, PersistenceRegistry> registries = new LinkedHashMap<>();
    Map<String, KeyValueStore> getStores = new LinkedHashMap<>();
    Map<String, KeyValueStore> putStores = new LinkedHashMap<>();
    try {
      for (String enc : new String[] {"none", "aes-256-gcm"}) {
        // gets read a backend only the preload wrote (every entry in the memtable), as JMH's get
        for (String use : new String[] {"get", "put"}) {
          PersistenceRegistry r =
              EncryptionCpuCost.open(dir.resolve(enc + "-" + use), "rocksdb", enc);
          registries.put(enc + "-" + use, r);
          KeyValueStore kv = r.backend("bench").keyValue("bench");
          for (byte[] k : keys) {
            kv.put(k, value);
          }
          (use.equals("get") ? getStores : putStores).put(enc, kv);
        }
      }
      Map<String, List<double[]>> samples = new LinkedHashMap<>();
      int warm = Math.max(1, rounds / 4);
      long sink = 0;
      for (int r = 0; r < rounds; r++) {
        for (String piece : PIECES) {
          int next = random.nextInt(KEYS);
          long alloc0 = mx.getCurrentThreadAllocatedBytes();
          long cpu0 = mx.getCurrentThreadCpuTime();
          switch (piece) {
            case "get none", "get aes-256-gcm" -> {
              KeyValueStore kv = getStores.get(piece.substring(4));
              for (int i = 0; i < ops; i++) {
                sink += kv.get(keys[next++ & MASK]).length;
              }
            }
            case "put none", "put aes-256-gcm" -> {
              KeyValueStore kv = putStores.get(piece.substring(4));
              for (int i = 0; i < ops; i++) {
                sink += kv.put(keys[next++ & MASK], value);
              }
            }
            case "payload copy" -> {
              for (int i = 0; i < ops; i++) {
                byte[] s = stored[next++ & MASK];
                sink += Arrays.copyOfRange(s, HEADER, s.length).length;
              }
            }
            case "associated data" -> {
              for (int i = 0; i < ops; i++) {
                sink += AssociatedData.forValue(header, keys[next++ & MASK]).length;
              }
            }
            case "jce init", "jce init+aad", "jce open" -> {
              boolean aad = !piece.equals("jce init");
              boolean open = piece.equals("jce open");
              for (int i = 0; i < ops; i++) {
                int n = next++ & MASK;
                byte[] s = sealed[n];
                cipher.init(Cipher.DECRYPT_MODE, keySpec, new GCMParameterSpec(128, s, PREFIX, 12));
                if (aad) {
                  cipher.updateAAD(ads[n]);
                }
                if (open) {
                  sink += cipher.doFinal(s, PREFIX + NONCE, s.length - PREFIX - NONCE).length;
                }
              }
            }
            case "tink key open" -> {
              for (int i = 0; i < ops; i++) {
                int n = next++ & MASK;
                sink += keyAead.decrypt(sealed[n], ads[n]).length;
              }
            }
            case "tink keyset open" -> {
              for (int i = 0; i < ops; i++) {
                int n = next++ & MASK;
                sink += keysetAead.decrypt(sealed[n], ads[n]).length;
              }
            }
            case "encryption open" -> {
              for (int i = 0; i < ops; i++) {
                int n = next++ & MASK;
                sink += opener.open(sealed[n], ads[n]).length;
              }
            }
            case "sealer open" -> {
              for (int i = 0; i < ops; i++) {
                int n = next++ & MASK;
                sink += openSealer.openValue("bench", keys[n], sealed[n]).length;
              }
            }
            case "sealer open+copy" -> {
              for (int i = 0; i < ops; i++) {
                int n = next++ & MASK;
                byte[] s = stored[n];
                byte[] payload = Arrays.copyOfRange(s, HEADER, s.length);
                sink += openSealer.openValue("bench", keys[n], payload).length;
              }
            }
            case "nonce" -> {
              for (int i = 0; i < ops; i++) {
                sink += com.google.crypto.tink.subtle.Random.randBytes(NONCE)[0];
              }
            }
            case "tink key seal" -> {
              for (int i = 0; i < ops; i++) {
                sink += keyAead.encrypt(value, ads[next++ & MASK]).length;
              }
            }
            case "tink keyset seal" -> {
              for (int i = 0; i < ops; i++) {
                sink += keysetAead.encrypt(value, ads[next++ & MASK]).length;
              }
            }
            case "encryption seal" -> {
              for (int i = 0; i < ops; i++) {
                sink += sealing.seal(value, ads[next++ & MASK]).length;
              }
            }
            case "sealer seal" -> {
              for (int i = 0; i < ops; i++) {
                sink += sealSealer.sealValue("bench", keys[next++ & MASK], value).length;
              }
            }
            case "frame copy" -> {
              for (int i = 0; i < ops; i++) {
                byte[] s = sealed[next++ & MASK];
                byte[] framed = new byte[HEADER + s.length];
                System.arraycopy(s, 0, framed, HEADER, s.length);
                sink += framed.length;
              }
            }
            default -> throw new IllegalStateException("unknown piece " + piece);
          }
          long cpu = mx.getCurrentThreadCpuTime() - cpu0;
          long alloc = mx.getCurrentThreadAllocatedBytes() - alloc0;
          if (r >= warm) {
            samples
                .computeIfAbsent(piece, x -> new ArrayList<>())
                .add(new double[] {cpu / (double) ops, alloc / (double) ops});
          }
        }
      }
      System.out.println("(sink " + (sink & 1) + ")");
      System.out.println(
          "| piece | CPU ns/op (median) | CPU ns/op (mean ± sd) | allocated B/op (mean) |");
      System.out.println("|---|---:|---:|---:|");
      for (String piece : PIECES) {
        List<double[]> s = samples.get(piece);
        double mean = EncryptionCpuCost.mean(s, 0);
        System.out.printf(
            Locale.ROOT,
            "| %s | %.0f | %.0f ± %.0f | %.0f |%n",
            piece,
            EncryptionCpuCost.median(s, 0),
            mean,
            EncryptionCpuCost.sd(s, 0, mean),
            EncryptionCpuCost.mean(s, 1));
      }
    } finally {
      for (PersistenceRegistry r : registries.values()) {
        r.close();
      }
      EncryptionCpuCost.delete(dir);
    }
  }

  private static void check(byte[] opened, byte[] value, String who) {
    if (!Arrays.equals(opened, value)) {
      throw new IllegalStateException(who + " opened something else than was sealed");
    }
  }
}
