package io.cairn.tck;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StorageBackend;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Child-JVM main of {@link RestartContract#acknowledgedWritesSurviveAKilledProcess()}: opens the
 * registry from the HOCON file {@code args[0]}, performs {@link #write(StorageBackend)}, prints
 * {@value #ACKED} and then waits, never closing anything, until the parent kills it. Not part of
 * the TCK's API; public only so that a child JVM can run it.
 */
public final class KilledWriter {
  /** The line printed once every write of {@link #write} has returned. */
  public static final String ACKED = "ACKED";

  static final String STORE = "tck-killed";
  static final int KEYS = 50;
  static final int RECORDS = 40;
  static final long SNAPSHOT_SEED = 7;
  static final long SNAPSHOT_BYTES = 1024 * 1024 + 5;

  private KilledWriter() {}

  public static void main(String[] args) throws Exception {
    PersistenceRegistry registry =
        PersistenceRegistry.open(ConfigFactory.parseFile(Path.of(args[0]).toFile()));
    write(registry.backend(ContractSupport.BACKEND));
    System.out.println(ACKED);
    System.out.flush();
    System.in.read(); // the parent kills us; the registry is deliberately never closed
    Thread.sleep(Long.MAX_VALUE);
  }

  /** The writes whose acknowledgement the parent checks after the kill. */
  static void write(StorageBackend b) {
    var kv = b.keyValue(STORE);
    for (int i = 0; i < KEYS; i++) {
      kv.put(bytes("k" + i), bytes("v" + i));
    }
    kv.put(bytes("k0"), bytes("v0 again"));
    kv.delete(bytes("k1"));
    kv.put(bytes("ttl"), bytes("an hour"), Duration.ofHours(1));
    kv.putAll(
        List.of(
            new KeyValue(bytes("batch-a"), bytes("a")),
            new KeyValue(bytes("batch-b"), bytes("b"))));
    long v = kv.getEntry(bytes("k2")).orElseThrow().version();
    kv.compareAndSet(bytes("k2"), v, bytes("v2 cas"), null);
    var log = b.log(STORE);
    for (int i = 0; i < RECORDS; i++) {
      log.append(bytes("r" + i));
    }
    List<byte[]> batch = new ArrayList<>();
    for (int i = RECORDS; i < RECORDS + 5; i++) {
      batch.add(bytes("r" + i));
    }
    log.appendAll(batch);
    log.truncateBefore(3);
    b.snapshots(STORE).save(1, Fixtures.generatedStream(SNAPSHOT_SEED, SNAPSHOT_BYTES));
    b.inTransaction(
        tx -> {
          tx.keyValue(STORE).put(bytes("tx"), bytes("committed"));
          tx.log(STORE).append(bytes("tx record"));
          return null;
        });
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
