package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.BackendClosedException;
import io.cairn.persistence.Durability;
import io.cairn.persistence.StorageEngineException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The reader pool's contract: bounded, reused, waits then names exhaustion, closes everything. */
class ReaderPoolTest {
  @TempDir Path dir;

  private final AtomicInteger opens = new AtomicInteger();

  private ReaderPool pool(int max, Duration wait) {
    Path db = dir.resolve(SqliteDatabase.DB_FILE);
    SqliteSettings settings =
        SqliteSettings.of(
            com.typesafe.config.ConfigFactory.load().getConfig("cairn.backend-defaults.sqlite"),
            "test");
    return new ReaderPool(
        () -> {
          opens.incrementAndGet();
          return SqliteDatabase.open(db, settings, Durability.NORMAL, false);
        },
        max,
        wait,
        new SqliteErrors("main", "sqlite backend 'main'", db, () -> false));
  }

  private void createDatabase() {
    TestBackends.direct(dir, "", Durability.NORMAL).close();
  }

  @Test
  void concurrentReadersShareAtMostMaxConnections() throws Exception {
    createDatabase();
    ReaderPool pool = pool(2, Duration.ofSeconds(30));
    ExecutorService threads = Executors.newFixedThreadPool(8);
    CountDownLatch start = new CountDownLatch(1);
    List<Future<?>> done = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      done.add(
          threads.submit(
              () -> {
                start.await();
                for (int i = 0; i < 200; i++) {
                  long v = pool.read("get", "kv:x", c -> c.queryLong("SELECT 7"));
                  assertThat(v).isEqualTo(7);
                }
                return null;
              }));
    }
    start.countDown();
    for (Future<?> f : done) {
      f.get(120, TimeUnit.SECONDS);
    }
    threads.shutdown();
    assertThat(opens.get()).isBetween(1, 2);
    pool.close();
    assertThatThrownBy(() -> pool.read("get", "kv:x", c -> 1))
        .isInstanceOf(BackendClosedException.class);
  }

  @Test
  void exhaustedPoolWaitsThenNamesTheLimit() throws Exception {
    createDatabase();
    ReaderPool pool = pool(1, Duration.ofMillis(200));
    CountDownLatch held = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Thread holder =
        new Thread(
            () ->
                pool.snapshot(
                    r -> {
                      held.countDown();
                      try {
                        release.await();
                      } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                      }
                      return null;
                    }));
    holder.start();
    assertThat(held.await(60, TimeUnit.SECONDS)).isTrue();
    assertThatThrownBy(() -> pool.read("get", "kv:x", c -> 1))
        .isInstanceOf(StorageEngineException.class)
        .hasMessageContaining("all 1 reader connections stayed busy")
        .hasMessageContaining("Raise `readers`");
    release.countDown();
    holder.join(60_000);
    // the connection came back and is reused
    long v = pool.read("get", "kv:x", c -> c.queryLong("SELECT 1"));
    assertThat(v).isEqualTo(1);
    assertThat(opens.get()).isEqualTo(1);
    pool.close();
  }

  @Test
  void aFailingOpenGivesItsPermitBack() throws Exception {
    // no database directory: every open fails, and each failure must not use up the one permit
    dir = dir.resolve("missing/deeper");
    ReaderPool pool = pool(1, Duration.ofMillis(100));
    for (int i = 0; i < 3; i++) {
      assertThatThrownBy(() -> pool.read("get", "kv:x", c -> 1))
          .isInstanceOf(io.cairn.persistence.PersistenceException.class)
          .hasMessageNotContaining("stayed busy");
    }
    pool.close();
  }

  @Test
  void aBorrowTakesTheConnectionReleasedLast() throws Exception {
    // Nested reads hold three connections at once; they come back innermost first. The next
    // borrow must take the one released last (the outermost), so a lone reader keeps reusing
    // one warm connection instead of rotating through every connection ever opened.
    createDatabase();
    ReaderPool pool = pool(4, Duration.ofSeconds(30));
    Conn[] held = new Conn[3];
    pool.read(
        "get",
        "kv:x",
        c0 -> {
          held[0] = c0;
          return pool.read(
              "get",
              "kv:x",
              c1 -> {
                held[1] = c1;
                return pool.read("get", "kv:x", c2 -> held[2] = c2);
              });
        });
    assertThat(opens.get()).isEqualTo(3);
    for (int i = 0; i < 5; i++) {
      Conn next = pool.read("get", "kv:x", c -> c);
      assertThat(next).as("borrow %d", i).isSameAs(held[0]);
    }
    assertThat(opens.get()).isEqualTo(3);
    pool.close();
  }

  @Test
  void aThreadTakesBackTheConnectionItReleasedLast() throws Exception {
    // Thread one holds connection A while thread two opens and releases B; then one releases A,
    // so A is the idle connection released last. Thread two's next read must still get B (its
    // own, warm in its CPU's caches) and thread one's must get A, as with a connection per thread.
    createDatabase();
    ReaderPool pool = pool(4, Duration.ofSeconds(30));
    ExecutorService one = Executors.newSingleThreadExecutor();
    ExecutorService two = Executors.newSingleThreadExecutor();
    CountDownLatch holding = new CountDownLatch(1);
    CountDownLatch twoDone = new CountDownLatch(1);
    try {
      Future<Conn> a =
          one.submit(
              () ->
                  pool.read(
                      "get",
                      "kv:x",
                      c -> {
                        holding.countDown();
                        await(twoDone);
                        return c;
                      }));
      holding.await(10, TimeUnit.SECONDS);
      Conn b = two.submit(() -> pool.read("get", "kv:x", c -> c)).get(10, TimeUnit.SECONDS);
      twoDone.countDown();
      assertThat(a.get(10, TimeUnit.SECONDS)).isNotSameAs(b);
      assertThat(opens.get()).isEqualTo(2);

      for (int i = 0; i < 3; i++) {
        assertThat(two.submit(() -> pool.read("get", "kv:x", c -> c)).get(10, TimeUnit.SECONDS))
            .as("thread two, read %d", i)
            .isSameAs(b);
        assertThat(one.submit(() -> pool.read("get", "kv:x", c -> c)).get(10, TimeUnit.SECONDS))
            .as("thread one, read %d", i)
            .isSameAs(a.get());
      }
      assertThat(opens.get()).isEqualTo(2);
    } finally {
      one.shutdownNow();
      two.shutdownNow();
      pool.close();
    }
  }

  @Test
  void closeClosesIdleConnectionsAtOnceAndBorrowedOnesWhenTheyComeBack() throws Exception {
    createDatabase();
    ReaderPool pool = pool(4, Duration.ofSeconds(30));
    Conn[] held = new Conn[2];
    pool.read(
        "get",
        "kv:x",
        outer -> {
          held[0] = outer;
          pool.read("get", "kv:x", inner -> held[1] = inner); // inner is idle again after this
          pool.close();
          assertThat(held[1].jdbc().isClosed()).as("idle connection at close").isTrue();
          assertThat(outer.jdbc().isClosed()).as("borrowed connection before release").isFalse();
          return null;
        });
    assertThat(held[0].jdbc().isClosed()).as("borrowed connection after release").isTrue();
    assertThatThrownBy(() -> pool.read("get", "kv:x", c -> 1))
        .isInstanceOf(BackendClosedException.class);
  }

  @Test
  void aSnapshotWhoseRollbackFailedFreesItsConnectionForAFreshOne() throws Exception {
    createDatabase();
    ReaderPool pool = pool(1, Duration.ofMillis(500));
    Conn[] first = new Conn[1];
    pool.snapshot(
        r ->
            r.read(
                "get",
                "kv:x",
                c -> {
                  first[0] = c;
                  c.exec("ROLLBACK"); // the pool's own ROLLBACK then fails: no transaction
                  return null;
                }));
    assertThat(first[0].jdbc().isClosed()).isTrue();
    Conn next = pool.read("get", "kv:x", c -> c);
    assertThat(next).isNotSameAs(first[0]);
    assertThat(next.jdbc().isClosed()).isFalse();
    assertThat(opens.get()).isEqualTo(2);
    pool.close();
  }

  /**
   * The engine's snapshot (issue 12 port): a pin keeps its connection until closed, also across a
   * pool close (which must not close a connection under an open read); closing it then closes the
   * connection, once however often it is closed; reads after its close are refused.
   */
  @Test
  void aPinKeepsItsConnectionUntilClosedAndItsCloseAfterThePoolsClosesTheConnection()
      throws Exception {
    createDatabase();
    ReaderPool pool = pool(1, Duration.ofMillis(200));
    ReaderPool.Pinned pin = pool.pin();
    Conn held = pin.read("get", "kv:x", c -> c);
    Conn again = pin.read("get", "kv:x", c -> c);
    assertThat(again).isSameAs(held);
    assertThatThrownBy(() -> pool.read("get", "kv:x", c -> 1))
        .as("the only connection is pinned")
        .isInstanceOf(StorageEngineException.class);
    pool.close();
    assertThat(held.jdbc().isClosed()).as("pinned at pool close").isFalse();
    pin.close();
    pin.close();
    assertThat(held.jdbc().isClosed()).as("given back after the pool closed").isTrue();
    ReaderPool other = pool(1, Duration.ofMillis(200));
    ReaderPool.Pinned ended = other.pin();
    ended.close();
    assertThatThrownBy(() -> ended.read("get", "kv:x", c -> 1))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("has ended");
    int one = other.read("get", "kv:x", c -> 1);
    assertThat(one).as("its connection was given back").isEqualTo(1);
    other.close();
  }

  private static void await(CountDownLatch latch) {
    try {
      if (!latch.await(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the other thread did not finish its read in 10 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
