package io.cairn.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.ClosedException;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.StoreCorruptedException;
import io.cairn.queue.MessageIndex.Tracked;
import io.cairn.queue.MessageIndex.Waiter;
import io.cairn.tck.ManualClock;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The in-memory message index on its own: no backend, a list as the log and a manual clock, so
 * leases and redelivery timers are driven by advancing the clock rather than by waiting.
 */
class MessageIndexTest {
  private static final long LEASE_MS = 30_000;

  private final ManualClock clock = new ManualClock();
  private final List<byte[]> log = new ArrayList<>();
  private final ExecutorService pool = Executors.newCachedThreadPool();

  /** Offsets the reader leaves out, to simulate a damaged log. */
  private final List<Long> missing = new ArrayList<>();

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  private static QueueSettings settings(int maxAttempts, int truncateEvery) {
    return new QueueSettings(
        "q",
        "mem",
        Duration.ofMillis(LEASE_MS),
        maxAttempts,
        Duration.ofSeconds(1),
        Duration.ofMinutes(1),
        2, // prefetch: small, so the read-ahead is refilled from the log several times
        truncateEvery);
  }

  private MessageIndex index(int maxAttempts, int truncateEvery, int messages) {
    for (int i = 0; i < messages; i++) {
      log.add(Records.message(clock.millis(), ("m" + i).getBytes(StandardCharsets.UTF_8)));
    }
    MessageIndex index =
        new MessageIndex(
            "q", "mem", "queue.q", settings(maxAttempts, truncateEvery), clock, this::read);
    index.start(0, log.size());
    return index;
  }

  private List<LogRecord> read(long from, int max) {
    List<LogRecord> out = new ArrayList<>();
    for (long o = from; o < log.size() && out.size() < max; o++) {
      if (!missing.contains(o)) {
        out.add(new LogRecord(o, log.get((int) o)));
      }
    }
    return out;
  }

  /** Polls without waiting: what {@link MessageIndex#pollStep} takes now. */
  private static List<Tracked> takeNow(MessageIndex index, int max, List<Tracked> deads) {
    List<Tracked> picks = new ArrayList<>();
    Waiter w = index.pollStep(max, System.nanoTime(), picks, deads);
    assertThat(w).as("no commit hands out messages in these tests").isNull();
    return picks;
  }

  private static List<Long> offsets(List<Tracked> ts) {
    return ts.stream().map(t -> t.offset).toList();
  }

  private long leaseUntil() {
    return clock.millis() + LEASE_MS;
  }

  @Test
  void firstDeliveriesAreReadFromTheLogInOffsetOrder() {
    MessageIndex index = index(5, 100, 5);
    List<Tracked> picks = takeNow(index, 3, new ArrayList<>());
    assertThat(offsets(picks)).containsExactly(0L, 1L, 2L);
    assertThat(new String(picks.get(1).payload, StandardCharsets.UTF_8)).isEqualTo("m1");
    assertThat(picks).allMatch(t -> t.phase == MessageIndex.Phase.BUSY);
    index.leased(picks, leaseUntil());
    assertThat(picks).allMatch(t -> t.attempts == 1 && t.phase == MessageIndex.Phase.LEASED);

    MessageIndex.Counts c = index.counts();
    assertThat(c.depth()).isEqualTo(2);
    assertThat(c.inFlight()).isEqualTo(3);
    assertThat(offsets(takeNow(index, 10, new ArrayList<>()))).containsExactly(3L, 4L);
    assertThat(takeNow(index, 10, new ArrayList<>())).isEmpty();
  }

  @Test
  void anExpiredLeaseIsRedeliveredOnlyOnceTheClockPassesIt() {
    MessageIndex index = index(5, 100, 1);
    List<Tracked> first = takeNow(index, 1, new ArrayList<>());
    index.leased(first, leaseUntil());

    clock.advanceMillis(LEASE_MS - 1);
    assertThat(takeNow(index, 1, new ArrayList<>())).isEmpty();

    clock.advanceMillis(1);
    List<Tracked> again = takeNow(index, 1, new ArrayList<>());
    assertThat(offsets(again)).containsExactly(0L);
    index.leased(again, leaseUntil());
    assertThat(again.get(0).attempts).isEqualTo(2);
  }

  @Test
  void atMaxAttemptsAnExpiredLeaseIsTakenForDeadLettering() {
    MessageIndex index = index(2, 100, 1);
    for (int attempt = 1; attempt <= 2; attempt++) {
      List<Tracked> picks = takeNow(index, 1, new ArrayList<>());
      assertThat(offsets(picks)).containsExactly(0L);
      index.leased(picks, leaseUntil());
      clock.advanceMillis(LEASE_MS);
    }
    List<Tracked> deads = new ArrayList<>();
    assertThat(takeNow(index, 1, deads)).isEmpty();
    assertThat(offsets(deads)).containsExactly(0L);

    index.deadLettered(deads);
    assertThat(index.counts().deadLetters()).isEqualTo(1);
    assertThat(index.counts().inFlight()).isZero();
  }

  @Test
  void aNackedMessageWaitsUntilItsVisibleTime() {
    MessageIndex index = index(5, 100, 1);
    index.leased(takeNow(index, 1, new ArrayList<>()), leaseUntil());
    Tracked claimed = index.claim(0, 1);
    assertThat(claimed).isNotNull();
    index.delayed(claimed, clock.millis() + 5_000);
    assertThat(index.counts().depth()).isEqualTo(1); // delayed counts as waiting

    clock.advanceMillis(4_999);
    assertThat(takeNow(index, 1, new ArrayList<>())).isEmpty();
    clock.advanceMillis(1);
    assertThat(offsets(takeNow(index, 1, new ArrayList<>()))).containsExactly(0L);
  }

  @Test
  void aLostLeaseCannotBeClaimed() {
    MessageIndex index = index(5, 100, 1);
    index.leased(takeNow(index, 1, new ArrayList<>()), leaseUntil());
    assertThat(index.claim(0, 2)).as("wrong attempt").isNull();
    assertThat(index.claim(7, 1)).as("unknown message").isNull();

    clock.advanceMillis(LEASE_MS);
    index.leased(takeNow(index, 1, new ArrayList<>()), leaseUntil()); // attempt 2
    assertThat(index.claim(0, 1)).as("the expired first attempt").isNull();
    Tracked t = index.claim(0, 2);
    assertThat(t).isNotNull();
    assertThat(index.claim(0, 2)).as("already claimed").isNull();

    index.unclaim(t); // its commit failed: leased again, claimable again
    assertThat(index.claim(0, 2)).isSameAs(t);
  }

  @Test
  void acksMoveTheFloorAndTruncationIsDueAfterTruncateEvery() {
    MessageIndex index = index(5, 2, 3);
    index.leased(takeNow(index, 3, new ArrayList<>()), leaseUntil());

    assertThat(index.acked(index.claim(1, 1))).as("not the lowest").isFalse();
    assertThat(index.beginTruncation(false)).as("floor still 0").isNull();
    assertThat(index.acked(index.claim(0, 1))).as("floor 0 -> 2").isTrue();

    MessageIndex.Truncation tr = index.beginTruncation(false);
    assertThat(tr).isNotNull();
    assertThat(tr.from()).isZero();
    assertThat(tr.to()).isEqualTo(2);
    assertThat(index.beginTruncation(true)).as("never twice at once").isNull();
    index.floorStored(tr.to());
    index.endTruncation();
    assertThat(index.beginTruncation(true)).as("nothing more is finished").isNull();

    assertThat(index.acked(index.claim(2, 1))).as("1 past the stored floor < 2").isFalse();
    MessageIndex.Truncation forced = index.beginTruncation(true);
    assertThat(forced.from()).isEqualTo(2);
    assertThat(forced.to()).isEqualTo(3);
  }

  @Test
  void aFailedCommitMakesTheMessagesDueAgainUnchanged() {
    MessageIndex index = index(5, 100, 2);
    List<Tracked> picks = takeNow(index, 2, new ArrayList<>());
    index.revert(picks, clock.millis());
    List<Tracked> again = takeNow(index, 2, new ArrayList<>());
    assertThat(offsets(again)).containsExactlyInAnyOrder(0L, 1L);
    assertThat(again).allMatch(t -> t.attempts == 0);
  }

  @Test
  void restoredStateRecordsAreHonoured() {
    MessageIndex index = index(5, 100, 4);
    index.restore(0, new Records.State(Records.LEASED, 1, clock.millis() + 1_000));
    index.restore(1, new Records.State(Records.ACKED, 1, 0));
    index.restore(2, new Records.State(Records.READY, 2, clock.millis() + 2_000));

    // Only offset 3 was never delivered; the lease of 0 is honoured although its holder died.
    assertThat(offsets(takeNow(index, 10, new ArrayList<>()))).containsExactly(3L);
    clock.advanceMillis(1_000);
    assertThat(offsets(takeNow(index, 10, new ArrayList<>()))).containsExactly(0L);
    clock.advanceMillis(1_000);
    List<Tracked> ready = takeNow(index, 10, new ArrayList<>());
    assertThat(offsets(ready)).containsExactly(2L);
    assertThat(ready.get(0).attempts).isEqualTo(2);
    assertThat(ready.get(0).payload).as("loaded later by the log layer").isNull();
  }

  @Test
  void aGapInTheLogIsReportedAsCorruption() {
    MessageIndex index = index(5, 100, 3);
    missing.add(1L);
    assertThatThrownBy(() -> takeNow(index, 3, new ArrayList<>()))
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("returned offset 2 where 1 was expected");
  }

  @Test
  void appendsGoToTheReadAheadWithoutReadingTheLog() {
    MessageIndex index = index(5, 100, 0);
    Tracked[] appended = {
      Tracked.appended(0, clock.millis(), new byte[] {1}),
      Tracked.appended(1, clock.millis(), new byte[] {2})
    };
    index.appended(0, appended);
    // The log list is empty: a read would return nothing and be reported as corruption.
    List<Tracked> picks = takeNow(index, 5, new ArrayList<>());
    assertThat(picks).containsExactly(appended);
  }

  @Test
  void aWaitingPollerIsHandedTheAppendsOfTheNextCommit() throws Exception {
    MessageIndex index = index(5, 100, 0);
    Future<Waiter> poller =
        pool.submit(
            () -> {
              List<Tracked> picks = new ArrayList<>();
              long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
              return index.pollStep(3, deadline, picks, new ArrayList<>());
            });
    MessageIndex.Assignment a = null;
    long giveUp = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
    while (a == null && System.nanoTime() < giveUp) {
      a = index.assignWaiters(2); // null until the poller waits
      if (a == null) {
        Thread.sleep(5);
      }
    }
    assertThat(a).as("the poller registered as a waiter").isNotNull();
    assertThat(a.served).hasSize(1);
    assertThat(a.fromBatch).containsExactly(2);
    assertThat(a.leaseUntil).isEqualTo(clock.millis() + LEASE_MS);

    // What the committing leader does inside the transaction, then the commit succeeds.
    Waiter w = a.served.get(0);
    w.picks.add(Tracked.appended(0, clock.millis(), new byte[] {1}));
    w.picks.add(Tracked.appended(1, clock.millis(), new byte[] {2}));
    a.handedFromBatch = 2;
    index.handoffCommitted(a);

    Waiter served = poller.get(1, TimeUnit.MINUTES);
    assertThat(served).isSameAs(w);
    assertThat(served.isDone()).isTrue();
    assertThat(offsets(served.picks)).containsExactly(0L, 1L);
    assertThat(served.picks).allMatch(t -> t.attempts == 1);
    assertThat(index.knownEnd()).isEqualTo(2);
    assertThat(index.counts().inFlight()).isEqualTo(2);
    assertThat(takeNow(index, 5, new ArrayList<>())).as("both handed out, none left").isEmpty();
  }

  @Test
  void pollingAClosedIndexFailsAndCloseWakesAWaitingPoller() throws Exception {
    MessageIndex index = index(5, 100, 0);
    Future<Waiter> poller =
        pool.submit(
            () ->
                index.pollStep(
                    1,
                    System.nanoTime() + TimeUnit.MINUTES.toNanos(1),
                    new ArrayList<>(),
                    new ArrayList<>()));
    Thread.sleep(100); // usually waiting by now; if not, it meets the closed index at once
    index.close();
    assertThatThrownBy(() -> poller.get(1, TimeUnit.MINUTES))
        .hasCauseInstanceOf(ClosedException.class);
    assertThatThrownBy(() -> index.claim(0, 1)).isInstanceOf(ClosedException.class);
    assertThat(index.assignWaiters(1)).isNull();
  }
}
