package io.cairn.persistence.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.BackendClosedException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class CallGuardTest {
  private final CallGuard guard = new CallGuard(() -> new BackendClosedException("main"));

  @Test
  void callsRunWhileOpenAndAreRefusedAfterClose() {
    guard.ensureOpen();
    guard.enter();
    guard.enter(); // nests on one thread
    guard.exit();
    guard.exit();
    assertThat(guard.isClosed()).isFalse();

    assertThat(guard.markClosed()).isTrue();
    assertThat(guard.markClosed()).as("the second close releases nothing").isFalse();
    assertThat(guard.isClosed()).isTrue();
    assertThatThrownBy(guard::ensureOpen)
        .isInstanceOf(BackendClosedException.class)
        .hasMessageContaining("'main'");
    assertThatThrownBy(guard::enter).isInstanceOf(BackendClosedException.class);
  }

  @Test
  void drainWaitsForTheCallInFlightThenReleasesWithNoCallRunning() throws Exception {
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch finish = new CountDownLatch(1);
    AtomicBoolean callRunning = new AtomicBoolean();
    Thread call =
        new Thread(
            () -> {
              guard.enter();
              try {
                callRunning.set(true);
                entered.countDown();
                finish.await(60, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              } finally {
                callRunning.set(false);
                guard.exit();
              }
            });
    call.start();
    assertThat(entered.await(60, TimeUnit.SECONDS)).isTrue();

    guard.markClosed();
    AtomicBoolean releasedDuringCall = new AtomicBoolean(true);
    Thread closer = new Thread(() -> guard.drain(() -> releasedDuringCall.set(callRunning.get())));
    closer.start();
    closer.join(300); // drain must still be waiting for the call
    assertThat(closer.isAlive()).as("drain waits for the call in flight").isTrue();
    assertThatThrownBy(guard::enter)
        .as("no new call starts while closing")
        .isInstanceOf(BackendClosedException.class);

    finish.countDown();
    closer.join(60_000);
    call.join(60_000);
    assertThat(closer.isAlive()).isFalse();
    assertThat(releasedDuringCall.get()).as("release ran after the call ended").isFalse();
  }

  @Test
  void drainRefusesMisuse() {
    assertThatThrownBy(() -> guard.drain(() -> {}))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("markClosed");
    guard.enter();
    try {
      assertThatThrownBy(guard::markClosed)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("wait for itself");
      assertThat(guard.isClosed()).as("a refused close leaves the backend open").isFalse();
      guard.ensureOpen();
    } finally {
      guard.exit();
    }
    assertThat(guard.markClosed()).isTrue();
    AtomicBoolean released = new AtomicBoolean();
    guard.drain(() -> released.set(true));
    assertThat(released).isTrue();
  }
}
