package io.cairn.backend.memory;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.Durability;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.spi.StorageEngine.Record;
import io.cairn.persistence.spi.StorageEngine.Write;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * A reader running beside multi-record batches (the shape of a put with a TTL: the entry, the
 * delete of its old expiry index record, the new index record) sees all of each batch or none of
 * it, both on the lock-free optimistic path and on the locked fallback, never a torn batch.
 */
class MemoryTornBatchTest {
  private static final StoreId STORE = new StoreId(StoreKind.KEY_VALUE, "torn");
  private static final int BATCHES = 200_000;

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static String s(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }

  /** Batch {@code g}: entry = g, delete index record g - 1, put index record g. */
  private static List<Write> batch(int g) {
    return List.of(
        new Write(STORE, b("entry"), b(Integer.toString(g))),
        new Write(STORE, b("index/" + (g - 1)), null),
        new Write(STORE, b("index/" + g), b("")));
  }

  @Test
  void readersNeverSeeATornBatch() throws Exception {
    MemoryEngine engine = new MemoryEngine();
    engine.write(batch(0), Durability.NONE);
    AtomicBoolean done = new AtomicBoolean();
    List<String> torn = new ArrayList<>();
    CompletableFuture<Void> reader =
        CompletableFuture.runAsync(
            () -> {
              while (!done.get() && torn.size() < 10) {
                List<Record> all = engine.range(STORE, new byte[0], null, Integer.MAX_VALUE);
                List<String> seen = new ArrayList<>();
                for (Record r : all) {
                  seen.add(s(r.key()) + (r.value().length == 0 ? "" : "=" + s(r.value())));
                }
                // whole batch g: exactly "entry=g" and "index/g"
                String g = seen.isEmpty() ? "?" : seen.get(0).substring("entry=".length());
                if (!seen.equals(List.of("entry=" + g, "index/" + g))) {
                  torn.add(seen.toString());
                }
              }
            });
    for (int g = 1; g <= BATCHES && !reader.isDone(); g++) {
      engine.write(batch(g), Durability.NONE);
    }
    done.set(true);
    reader.orTimeout(60, TimeUnit.SECONDS).join();
    assertThat(torn).as("ranges that saw part of a batch").isEmpty();
    assertThat(s(engine.get(STORE, b("entry")))).isEqualTo(Integer.toString(BATCHES));
  }
}
