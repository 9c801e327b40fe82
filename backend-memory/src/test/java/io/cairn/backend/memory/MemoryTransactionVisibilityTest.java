package io.cairn.backend.memory;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.Durability;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.Transaction;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.tck.VisibilityProbe;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Issue 20 item 2 on memory, deterministically: the transaction of {@link VisibilityProbe} (two
 * namespaces and a log) is paused after each of its writes (inside the work) and after each write
 * of its commit batch ({@link MemoryEngine#writeStepHook}: after each record is installed, before
 * the batch is published, i.e. between the commit's first and last change of the maps); a reader
 * started at each pause must see all of the writes or none. No sleeps: the probe waits until each
 * reader finished or parked.
 */
class MemoryTransactionVisibilityTest {
  private static final long TIMEOUT_SECONDS = 60;
  private static final byte[] A = "a".getBytes(StandardCharsets.UTF_8);
  private static final byte[] B = "b".getBytes(StandardCharsets.UTF_8);
  private static final byte[] NEW = "new".getBytes(StandardCharsets.UTF_8);

  private final MemoryEngine engine = new MemoryEngine();
  private final StorageBackend backend =
      MemoryBackendProvider.open(
          BackendContext.builder("mem", "memory").durability(Durability.NONE).build(), engine);
  private final ExecutorService pool = Executors.newSingleThreadExecutor();

  @AfterEach
  void close() throws InterruptedException {
    engine.writeStepHook = null;
    pool.shutdownNow();
    assertThat(pool.awaitTermination(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isTrue();
    backend.close();
  }

  /** Plain store reads, each its own point in time, started at every step. */
  @Test
  void aStoreReaderAtAnyStepOfACommitSeesAllOfItsWritesOrNone() throws Exception {
    VisibilityProbe probe = VisibilityProbe.forTwoNamespacesAndALog(backend);
    runWithHook(probe);
    // every reader finishes at once, none parks: the five started in the middle of the commit batch
    // read at the last published batch and see none of it (the probe checks that)
    assertThat(probe.verify()).isEqualTo(9);
  }

  /** A read transaction started at every step: its snapshot holds all of the commit or none. */
  @Test
  void aReadTransactionStartedAtAnyStepOfACommitSeesAllOfItsWritesOrNone() throws Exception {
    VisibilityProbe.forTwoNamespacesAndALog(backend); // the scenario's initial state
    VisibilityProbe probe = new VisibilityProbe(() -> backend.readTransaction(this::seen));
    runWithHook(probe);
    // taking a snapshot never waits for a batch being installed (the class comment of
    // MemoryEngine): all nine finish at once, those inside the commit seeing none of it
    assertThat(probe.verify()).isEqualTo(9);
  }

  /**
   * A read transaction open before the commit reads at every step of it — without waiting, as
   * snapshot reads take no lock — and sees none of it, also after it returned; one started after it
   * sees all.
   */
  @Test
  void aReadTransactionOpenDuringTheCommitSeesNoneOfItAndNeverWaits() throws Exception {
    VisibilityProbe.forTwoNamespacesAndALog(backend);
    BlockingQueue<Boolean> commands = new ArrayBlockingQueue<>(1); // true: read, false: end
    BlockingQueue<List<Boolean>> results = new ArrayBlockingQueue<>(1);
    Future<Integer> reader =
        pool.submit(
            () ->
                backend.readTransaction(
                    view -> {
                      int reads = 0;
                      try {
                        results.put(seen(view)); // the snapshot is taken: let the writer go
                        while (commands.take()) {
                          results.put(seen(view));
                          reads++;
                        }
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(e);
                      }
                      return reads;
                    }));
    assertThat(results.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS)).containsOnly(false);
    List<String> steps = new ArrayList<>();
    engine.writeStepHook =
        step -> {
          steps.add(step);
          assertThat(readNow(commands, results))
              .as("the open read transaction, at commit step '%s'", step)
              .containsOnly(false);
        };
    backend.inTransaction(
        tx -> {
          tx.keyValue("vis-first").put(A, NEW);
          tx.keyValue("vis-second").put(B, NEW);
          tx.log("vis-events").append(NEW);
          return null;
        });
    engine.writeStepHook = null;
    // 2 key-value entries, 1 log record, the log's position and (its first) the log's catalog entry
    assertThat(steps).hasSize(5);
    assertThat(readNow(commands, results)).as("after the commit").containsOnly(false);
    commands.put(false);
    assertThat(reader.get(TIMEOUT_SECONDS, TimeUnit.SECONDS)).isEqualTo(6);
    assertThat(backend.readTransaction(this::seen)).as("a new read transaction").containsOnly(true);
  }

  private void runWithHook(VisibilityProbe probe) {
    engine.writeStepHook = probe::pause;
    try {
      probe.runTransaction(backend);
    } finally {
      engine.writeStepHook = null;
    }
  }

  /** Asks the read transaction's thread to read, and waits for what it saw. */
  private static List<Boolean> readNow(
      BlockingQueue<Boolean> commands, BlockingQueue<List<Boolean>> results) {
    try {
      commands.put(true);
      List<Boolean> seen = results.poll(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      assertThat(seen).as("the read transaction answered (its reads must not wait)").isNotNull();
      return seen;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  /** The scenario's four writes, in order, as visible in {@code view}. */
  private List<Boolean> seen(Transaction.ReadView view) {
    Transaction.LogReader log = view.log("vis-events");
    return List.of(
        Arrays.equals(view.keyValue("vis-first").get(A), NEW),
        view.keyValue("vis-second").get(B) != null,
        log.nextOffset() == 1,
        log.read(0, 1).size() == 1);
  }
}
