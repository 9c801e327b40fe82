package io.cairn.persistence.spi;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.Durability;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * {@link VersionSequence} with a tiny block, many threads taking versions at once: every version is
 * handed out once, and each is below the bound stored in the engine when it is handed out (the
 * bound of its block was written first), also while other threads reserve the next blocks.
 */
class VersionSequenceTest {
  @Test
  void everyVersionIsUniqueAndBelowTheStoredBoundWhenHandedOut() throws Exception {
    MapEngine engine = new MapEngine();
    EngineBackend backend =
        (EngineBackend)
            EngineBackend.open(
                BackendContext.builder("seq", "seq").durability(Durability.NONE).build(),
                "seq",
                engine,
                EngineBackend.Options.builder(Durability.NONE).build());
    try {
      VersionSequence seq = VersionSequence.open(backend, 7);
      int threads = 4;
      int each = 5_000;
      Set<Long> seen = ConcurrentHashMap.newKeySet();
      ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
      CountDownLatch go = new CountDownLatch(1);
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      try {
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          done.add(
              pool.submit(
                  () -> {
                    go.await();
                    long last = 0;
                    for (int i = 0; i < each; i++) {
                      long v = seq.next();
                      long bound = storedBound(backend, engine);
                      if (v >= bound) {
                        errors.add("version " + v + " handed out at stored bound " + bound);
                      }
                      if (v <= last) {
                        errors.add("version " + v + " after " + last + " on one thread");
                      }
                      if (!seen.add(v)) {
                        errors.add("version " + v + " handed out twice");
                      }
                      last = v;
                    }
                    return null;
                  }));
        }
        go.countDown();
        for (Future<?> f : done) {
          f.get(60, TimeUnit.SECONDS);
        }
      } finally {
        pool.shutdownNow();
      }
      assertThat(errors).isEmpty();
      assertThat(seen).hasSize(threads * each);
      assertThat(engine.boundWrites).as("one bound write per block or fewer").isPositive();

      // a reopen continues above every version handed out
      VersionSequence again = VersionSequence.open(backend, 7);
      assertThat(again.next())
          .isGreaterThan(seen.stream().mapToLong(Long::longValue).max().orElseThrow());
    } finally {
      backend.close();
    }
  }

  private static long storedBound(EngineBackend b, MapEngine engine) {
    byte[] raw = engine.get(ExpiryIndex.META, VersionSequence.KEY);
    return b.frame
        .open(RecordFrame.SEQUENCE, ExpiryIndex.META, VersionSequence.KEY, raw, "bound")
        .getLong();
  }

  /** {@link TreeMapEngine} that checks every write of the version bound never lowers it. */
  private static final class MapEngine extends TreeMapEngine {
    volatile int boundWrites;

    @Override
    public synchronized void write(List<Write> batch, Durability durability) {
      for (Write w : batch) {
        if (w.store().equals(ExpiryIndex.META)
            && java.util.Arrays.equals(w.key(), VersionSequence.KEY)) {
          boundWrites++;
          byte[] stored = get(w.store(), w.key());
          long old = stored == null ? 0 : ByteBuffer.wrap(stored, 2, 8).getLong();
          if (ByteBuffer.wrap(w.value(), 2, 8).getLong() < old) {
            throw new IllegalStateException("the bound went down");
          }
        }
      }
      super.write(batch, durability);
    }
  }
}
