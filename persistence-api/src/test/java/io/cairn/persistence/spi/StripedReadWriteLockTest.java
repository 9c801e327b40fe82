package io.cairn.persistence.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/**
 * The contract of {@link StripedReadWriteLock}: the base's write gate and the RocksDB engine's
 * lifecycle lock.
 */
class StripedReadWriteLockTest {

  /** Many threads (spread over every stripe) hold the shared side at once. */
  @Test
  void sharedHoldersDoNotExcludeEachOther() throws Exception {
    StripedReadWriteLock lock = new StripedReadWriteLock();
    CountDownLatch allIn = new CountDownLatch(2 * StripedReadWriteLock.STRIPES);
    CountDownLatch release = new CountDownLatch(1);
    List<Thread> started = holdShared(lock, allIn, release);
    assertTrue(allIn.await(60, TimeUnit.SECONDS), "every reader entered together");
    release.countDown();
    for (Thread t : started) {
      t.join(60_000);
    }
  }

  /**
   * The exclusive side waits for every shared holder, whatever its stripe, and keeps new ones out
   * until released: the property close, restart and transactions rely on.
   */
  @Test
  void exclusiveWaitsForEverySharedHolderAndExcludesNewOnes() throws Exception {
    StripedReadWriteLock lock = new StripedReadWriteLock();
    CountDownLatch allIn = new CountDownLatch(2 * StripedReadWriteLock.STRIPES);
    CountDownLatch release = new CountDownLatch(1);
    List<Thread> holders = holdShared(lock, allIn, release);
    assertTrue(allIn.await(60, TimeUnit.SECONDS));
    AtomicBoolean exclusive = new AtomicBoolean();
    CountDownLatch gotIt = new CountDownLatch(1);
    CountDownLatch letGo = new CountDownLatch(1);
    Thread writer =
        new Thread(
            () -> {
              lock.lockExclusive();
              exclusive.set(true);
              gotIt.countDown();
              try {
                letGo.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              exclusive.set(false);
              lock.unlockExclusive();
            });
    writer.start();
    assertFalse(gotIt.await(200, TimeUnit.MILLISECONDS), "exclusive while readers hold it");
    release.countDown();
    assertTrue(gotIt.await(60, TimeUnit.SECONDS), "exclusive once the readers left");
    for (Thread t : holders) {
      t.join(60_000);
    }
    // New shared holders on any stripe wait until the exclusive side is released.
    int late = 2 * StripedReadWriteLock.STRIPES;
    CountDownLatch lateIn = new CountDownLatch(late);
    AtomicBoolean sawExclusive = new AtomicBoolean();
    List<Thread> lateReaders = new ArrayList<>();
    for (int i = 0; i < late; i++) {
      Thread t =
          new Thread(
              () -> {
                lock.lockShared();
                try {
                  if (exclusive.get()) {
                    sawExclusive.set(true);
                  }
                  lateIn.countDown();
                } finally {
                  lock.unlockShared();
                }
              });
      t.start();
      lateReaders.add(t);
    }
    assertFalse(lateIn.await(200, TimeUnit.MILLISECONDS), "a reader entered during exclusive");
    letGo.countDown();
    assertTrue(lateIn.await(60, TimeUnit.SECONDS));
    assertFalse(sawExclusive.get());
    writer.join(60_000);
    for (Thread t : lateReaders) {
      t.join(60_000);
    }
  }

  /** Reentrancy and the hold count the guard's insideCall() reads. */
  @Test
  void reentrantAndCountsTheCallersHolds() {
    StripedReadWriteLock lock = new StripedReadWriteLock();
    assertEquals(0, lock.sharedHoldCount());
    lock.lockShared();
    lock.lockShared();
    assertEquals(2, lock.sharedHoldCount());
    lock.unlockShared();
    lock.unlockShared();
    assertEquals(0, lock.sharedHoldCount());
    lock.lockExclusive();
    lock.lockExclusive();
    assertTrue(lock.heldExclusively());
    lock.lockShared(); // a transaction's own operations take the shared side
    assertEquals(1, lock.sharedHoldCount());
    lock.unlockShared();
    lock.unlockExclusive();
    assertTrue(lock.heldExclusively());
    lock.unlockExclusive();
    assertFalse(lock.heldExclusively());
  }

  /**
   * Starts one thread per count of {@code in}; each takes the shared side, counts down {@code in}
   * and holds it until {@code release} opens.
   */
  private static List<Thread> holdShared(
      StripedReadWriteLock lock, CountDownLatch in, CountDownLatch release) {
    List<Thread> started = new ArrayList<>();
    for (long i = in.getCount(); i > 0; i--) {
      Thread t =
          new Thread(
              () -> {
                lock.lockShared();
                try {
                  in.countDown();
                  release.await();
                } catch (InterruptedException e) {
                  Thread.currentThread().interrupt();
                } finally {
                  lock.unlockShared();
                }
              });
      t.start();
      started.add(t);
    }
    return started;
  }
}
