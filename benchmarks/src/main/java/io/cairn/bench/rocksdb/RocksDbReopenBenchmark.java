package io.cairn.bench.rocksdb;

import io.cairn.backend.rocksdb.RocksDbBackendProvider;
import io.cairn.persistence.Durability;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.spi.BackendContext;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.rocksdb.RocksDBException;
import org.rocksdb.WriteBatch;
import org.rocksdb.WriteOptions;

/**
 * Open plus close of a RocksDB database holding {@code entries} key-value entries (16-byte keys,
 * 100-byte values, random and distinct per entry so compression does not shrink the files), single
 * shot: Cairn's backend opened through its provider (as the registry does, without the registry's
 * configuration parsing) at the default {@code durability = normal}, beside {@code RocksDB.open} of
 * bare rocksdbjni with the same tuning ({@link RawRocks}).
 *
 * <p>The data is built once per parameter pair in {@code <-Dcairn.bench.dir or the temp
 * directory>/cairn-reopen/<impl>-<entries>-v2} and kept for later runs (a 10M build takes minutes;
 * its duration is printed); a {@code .built} file beside it marks a finished build, so an
 * interrupted one is rebuilt. Delete the directory to rebuild. Each trial runs in a fresh JVM (one
 * fork per parameter pair); the warm-up shots absorb the per-JVM first open (native library, class
 * loading), so the measured shots are the open a running service pays for each backend it opens.
 *
 * <pre>
 * flock /tmp/bench.lock java -Dcairn.bench.dir=/work/reopen-data -jar benchmarks/target/benchmarks.jar \
 *     'io.cairn.bench.rocksdb.RocksDbReopenBenchmark' -p entries=100000,1000000,10000000 -f 1 \
 *     -rf json -rff rocksdb-reopen.json
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 5)
@Measurement(iterations = 8)
public class RocksDbReopenBenchmark {
  /** Implementations; the ratio report divides by the first one not named CAIRN_*. */
  public enum Impl {
    CAIRN_ROCKSDB,
    RAW_ROCKSDB
  }

  @Param Impl impl;

  @Param({"100000", "1000000", "10000000"})
  long entries;

  Path dir;

  @Setup(Level.Trial)
  public void build() throws IOException {
    // Not RawRocks.benchRoot() (the same directory): loading RawRocks loads rocksdbjni's library
    // by rocksdbjni's own loader, which would spare the CAIRN trials' first shot Cairn's loader.
    Path root =
        Path.of(System.getProperty("cairn.bench.dir", System.getProperty("java.io.tmpdir")))
            .resolve("cairn-reopen");
    Files.createDirectories(root);
    // "-v2": values distinct per entry (v1 used one value for all, which LZ4 shrank to a tenth)
    String name = impl.name().toLowerCase(java.util.Locale.ROOT) + "-" + entries + "-v2";
    dir = root.resolve(name);
    Path built = root.resolve(name + ".built");
    if (Files.exists(built)) {
      return;
    }
    RawRocks.deleteTree(dir);
    long started = System.nanoTime();
    Random random = new Random(42);
    if (impl == Impl.CAIRN_ROCKSDB) {
      try (StorageBackend backend = openCairn(dir)) {
        KeyValueStore store = backend.keyValue("bench");
        List<KeyValue> batch = new ArrayList<>(10_000);
        for (long i = 0; i < entries; i++) {
          byte[] value = new byte[100];
          random.nextBytes(value);
          batch.add(new KeyValue(RocksDbThreadsBenchmark.key(i), value));
          if (batch.size() == 10_000) {
            store.putAll(batch);
            batch.clear();
          }
        }
        store.putAll(batch);
      }
    } else {
      try (RawRocks raw = new RawRocks(dir, false, false);
          WriteOptions unsynced = new WriteOptions();
          WriteBatch batch = new WriteBatch()) {
        byte[] value = new byte[100];
        for (long i = 0; i < entries; i++) {
          random.nextBytes(value);
          batch.put(RocksDbThreadsBenchmark.key(i), value);
          if (batch.count() == 10_000) {
            raw.db.write(unsynced, batch);
            batch.clear();
          }
        }
        raw.db.write(unsynced, batch);
      } catch (RocksDBException e) {
        throw new IllegalStateException(e);
      }
    }
    Files.writeString(built, "built\n");
    System.out.printf(
        "%nbuilt %s (%d entries) in %.1f s%n", dir, entries, (System.nanoTime() - started) / 1e9);
  }

  static StorageBackend openCairn(Path dir) {
    return new RocksDbBackendProvider()
        .open(
            BackendContext.builder("bench", "rocksdb")
                .dataDir(dir)
                .durability(Durability.NORMAL)
                .build());
  }

  @Benchmark
  public void openAndClose() {
    if (impl == Impl.CAIRN_ROCKSDB) {
      try (StorageBackend backend = openCairn(dir)) {
        backend.keyValue("bench");
      }
    } else {
      new RawRocks(dir, false, false).close();
    }
  }
}
