package io.cairn.tck;

import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.StorageBackend;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * A deterministic check that a transaction's writes become visible together, for backend tests that
 * can pause a commit at each of its steps (a test hook in the backend, or the transaction work
 * itself between two writes).
 *
 * <p>At every step the committing thread calls {@link #pause(String)}: it starts a reader on a new
 * thread, which reads the transaction's writes in the order they were made and reports which of
 * them it saw, and waits until that reader has either finished or parked (blocked on a lock the
 * commit holds): no sleeps, no timing. After the transaction returned, {@link #verify()} lets the
 * parked readers finish and checks that every reader saw all of the writes or none, that none saw
 * them before the commit point and that a reader after the transaction sees all.
 *
 * <p>Not thread-safe: {@code pause} is called by the one committing thread, {@code verify} after
 * it.
 */
public final class VisibilityProbe {
  private static final long TIMEOUT_SECONDS = 60;

  private record Reader(
      String step, Thread thread, CompletableFuture<List<Boolean>> seen, boolean finishedInPause) {}

  private static final byte[] A = "a".getBytes(StandardCharsets.UTF_8);
  private static final byte[] B = "b".getBytes(StandardCharsets.UTF_8);
  private static final byte[] OLD = "old".getBytes(StandardCharsets.UTF_8);
  private static final byte[] NEW = "new".getBytes(StandardCharsets.UTF_8);

  private final Supplier<List<Boolean>> read;
  private final List<Reader> readers = new ArrayList<>();
  private boolean committed;

  /**
   * @param read reads each write of the transaction, in the order the transaction made them, and
   *     returns for each whether it is visible; runs on reader threads
   */
  public VisibilityProbe(Supplier<List<Boolean>> read) {
    this.read = read;
  }

  /**
   * The usual scenario: a transaction that replaces key {@code a} of namespace {@code vis-first},
   * adds key {@code b} to {@code vis-second} and appends record 0 to log {@code vis-events} (run by
   * {@link #runTransaction}); the reader checks the four in that order.
   */
  public static VisibilityProbe forTwoNamespacesAndALog(StorageBackend backend) {
    KeyValueStore first = backend.keyValue("vis-first");
    KeyValueStore second = backend.keyValue("vis-second");
    LogStore log = backend.log("vis-events");
    first.put(A, OLD);
    return new VisibilityProbe(
        () ->
            List.of(
                Arrays.equals(first.get(A), NEW),
                second.get(B) != null,
                log.nextOffset() == 1,
                log.read(0, 1).size() == 1));
  }

  /**
   * Runs the scenario's transaction on {@code backend}, pausing after each of its writes (inside
   * the work) and once more after it returned. The backend's own commit hook adds the pauses within
   * the commit.
   */
  public void runTransaction(StorageBackend backend) {
    backend.inTransaction(
        tx -> {
          tx.keyValue("vis-first").put(A, NEW);
          pause("after the first put");
          tx.keyValue("vis-second").put(B, NEW);
          pause("after the second put");
          tx.log("vis-events").append(NEW);
          pause("after the append");
          return null;
        });
    committed();
    pause("after inTransaction returned");
  }

  /** Marks that the commit point has passed: later readers must see everything. */
  public void committed() {
    committed = true;
  }

  /**
   * Runs a reader now, while the committer is paused at {@code step}, and returns once it finished
   * or parked.
   */
  public void pause(String step) {
    CompletableFuture<List<Boolean>> seen = new CompletableFuture<>();
    Thread t =
        new Thread(
            () -> {
              try {
                seen.complete(read.get());
              } catch (Throwable e) {
                seen.completeExceptionally(e);
              }
            },
            "visibility-reader-" + step);
    t.setDaemon(true);
    t.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(TIMEOUT_SECONDS);
    while (!seen.isDone()) {
      Thread.State state = t.getState();
      if (state == Thread.State.WAITING
          || state == Thread.State.BLOCKED
          || state == Thread.State.TIMED_WAITING) {
        break; // parked on something the commit holds: it reads after the commit
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("reader at step '" + step + "' neither finished nor parked");
      }
      Thread.onSpinWait();
    }
    boolean finished = seen.isDone();
    if (finished && !committed) {
      List<Boolean> s = seen.join();
      assertThat(s)
          .as("a reader at step '%s', before the commit point, saw %s", step, s)
          .doesNotContain(true);
    }
    readers.add(new Reader(step, t, seen, finished));
  }

  /**
   * Waits for every reader and checks all-or-nothing for each, then reads once more: everything
   * must be visible once the transaction returned. Returns how many readers finished during their
   * pause (the rest parked until the commit).
   */
  public int verify() throws Exception {
    int finishedInPause = 0;
    for (Reader r : readers) {
      List<Boolean> s = r.seen().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      assertThat(s)
          .as(
              "reader started at step '%s' saw %s: a transaction's writes are seen all or none",
              r.step(), s)
          .containsOnly(s.get(0));
      if (r.finishedInPause()) {
        finishedInPause++;
      }
    }
    List<Boolean> after = read.get();
    assertThat(after).as("after the transaction returned").containsOnly(true);
    System.out.println(
        "[cairn-tck] visibility probe: "
            + readers.size()
            + " readers at "
            + readers.stream().map(Reader::step).toList()
            + ", "
            + finishedInPause
            + " finished while the commit was paused");
    return finishedInPause;
  }
}
