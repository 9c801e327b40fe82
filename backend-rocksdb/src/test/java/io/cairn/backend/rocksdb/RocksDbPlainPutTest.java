package io.cairn.backend.rocksdb;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.StorageBackend;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plain put (no TTL) builds its stored key and value before taking the key's stripe and sets
 * the version under it: every size must read back exactly (after reopen too), and one key's stored
 * version must be the highest one its puts returned.
 */
class RocksDbPlainPutTest {
  @TempDir Path dir;

  @Test
  void putsOfEverySizeOnOneThreadReadBackExactly() {
    byte[] key = "k".getBytes(java.nio.charset.StandardCharsets.UTF_8);
    int[] sizes = {100, 0, 4075, 4076, 1, 100_000, 3, 4075, 2};
    Random random = new Random(2);
    byte[][] values = new byte[sizes.length][];
    long[] versions = new long[sizes.length];
    try (StorageBackend be = Rocks.open(dir)) {
      KeyValueStore kv = be.keyValue("sizes");
      for (int i = 0; i < sizes.length; i++) {
        values[i] = new byte[sizes[i]];
        random.nextBytes(values[i]);
        versions[i] = kv.put(ByteBuffer.allocate(4).putInt(i).array(), values[i]);
        if (i > 0) {
          assertThat(versions[i]).isGreaterThan(versions[i - 1]);
        }
      }
      byte[] longKey = new byte[KeyValueStore.MAX_KEY_BYTES];
      random.nextBytes(longKey);
      long longKeyVersion = kv.put(longKey, values[0]);
      assertThat(kv.getEntry(longKey).orElseThrow().version()).isEqualTo(longKeyVersion);
      for (int i = 0; i < sizes.length; i++) {
        Entry e = kv.getEntry(ByteBuffer.allocate(4).putInt(i).array()).orElseThrow();
        assertThat(e.value()).as("value %d (%d bytes)", i, sizes[i]).isEqualTo(values[i]);
        assertThat(e.version()).isEqualTo(versions[i]);
        assertThat(e.expiresAtMillis()).isZero();
      }
    }
    try (StorageBackend be = Rocks.open(dir)) {
      KeyValueStore kv = be.keyValue("sizes");
      for (int i = 0; i < sizes.length; i++) {
        assertThat(kv.get(ByteBuffer.allocate(4).putInt(i).array())).isEqualTo(values[i]);
      }
      assertThat(kv.put(key, values[0])).isGreaterThan(versions[sizes.length - 1]);
    }
  }

  @Test
  void concurrentPutsOfFewKeysLeaveEachKeyAtItsHighestVersion() throws Exception {
    int threads = 8;
    int keys = 4;
    int putsPerThread = 2_000;
    record Put(int key, long version, byte[] value) {}
    try (StorageBackend be = Rocks.open(dir)) {
      KeyValueStore kv = be.keyValue("race");
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        List<Future<List<Put>>> futures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int thread = t;
          futures.add(
              pool.submit(
                  () -> {
                    List<Put> done = new ArrayList<>();
                    for (int i = 0; i < putsPerThread; i++) {
                      int key = (i + thread) % keys;
                      byte[] value =
                          ByteBuffer.allocate(8 + (i % 3) * 50).putInt(thread).putInt(i).array();
                      done.add(new Put(key, kv.put(new byte[] {(byte) key}, value), value));
                    }
                    return done;
                  }));
        }
        Put[] latest = new Put[keys];
        for (Future<List<Put>> f : futures) {
          for (Put p : f.get(2, TimeUnit.MINUTES)) {
            if (latest[p.key()] == null || p.version() > latest[p.key()].version()) {
              latest[p.key()] = p;
            }
          }
        }
        for (int k = 0; k < keys; k++) {
          Entry e = kv.getEntry(new byte[] {(byte) k}).orElseThrow();
          assertThat(e.version()).as("key %d", k).isEqualTo(latest[k].version());
          assertThat(e.value()).as("key %d", k).isEqualTo(latest[k].value());
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }
}
