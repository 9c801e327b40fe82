package io.cairn.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.Transaction;
import io.cairn.persistence.VersionConflictException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Contract of {@link io.cairn.persistence.StorageBackend#inTransaction}: writes to several
 * namespaces and logs commit together or not at all, the work reads its own writes, versions and
 * offsets returned inside are final, and an exception (including a compare-and-set conflict) aborts
 * everything and propagates unchanged. Extend and implement {@link #backendConfig()}.
 */
public abstract class TransactionContract extends ContractSupport {

  private KeyValueStore orders() {
    return backend().keyValue("tck-orders");
  }

  private KeyValueStore index() {
    return backend().keyValue("tck-index");
  }

  private LogStore events() {
    return backend().log("tck-events");
  }

  @Test
  public void writesToSeveralNamespacesAndALogCommitTogether() {
    events().append(bytes("before"));
    long[] inside = new long[4];
    String result =
        backend()
            .inTransaction(
                tx -> {
                  inside[0] = tx.keyValue("tck-orders").put(bytes("o1"), bytes("order one"));
                  inside[1] = tx.keyValue("tck-index").put(bytes("customer/7/o1"), bytes("o1"));
                  inside[2] = tx.log("tck-events").append(bytes("created o1"));
                  inside[3] = tx.log("tck-events").appendAll(List.of(bytes("e-a"), bytes("e-b")));
                  return "done";
                });
    assertThat(result).isEqualTo("done");
    assertThat(inside[0]).isPositive();
    assertThat(inside[1]).isPositive();
    assertThat(inside[2]).as("offset returned inside the transaction").isEqualTo(1);
    assertThat(inside[3]).isEqualTo(2);

    assertThat(orders().getEntry(bytes("o1")).orElseThrow().version()).isEqualTo(inside[0]);
    assertThat(index().get(bytes("customer/7/o1"))).isEqualTo(bytes("o1"));
    List<LogRecord> records = events().read(0, 10);
    assertThat(records).extracting(LogRecord::offset).containsExactly(0L, 1L, 2L, 3L);
    assertThat(records.get(1).payload()).isEqualTo(bytes("created o1"));
    assertThat(records.get(3).payload()).isEqualTo(bytes("e-b"));
    assertThat(events().nextOffset()).isEqualTo(4);
  }

  @Test
  public void exceptionInWorkCommitsNothingAndPropagatesUnchanged() {
    orders().put(bytes("keep"), bytes("original"));
    orders().put(bytes("gone?"), bytes("still here"));
    events().append(bytes("e0"));
    long versionBefore = orders().getEntry(bytes("keep")).orElseThrow().version();
    IllegalStateException boom = new IllegalStateException("work failed on purpose");

    Throwable thrown =
        catchThrowable(
            () ->
                backend()
                    .inTransaction(
                        tx -> {
                          tx.keyValue("tck-orders").put(bytes("keep"), bytes("changed"));
                          tx.keyValue("tck-orders").put(bytes("new"), bytes("x"));
                          tx.keyValue("tck-orders").delete(bytes("gone?"));
                          tx.keyValue("tck-index").put(bytes("i"), bytes("x"));
                          assertThat(tx.log("tck-events").append(bytes("e1"))).isEqualTo(1);
                          tx.log("tck-events").appendAll(List.of(bytes("e2"), bytes("e3")));
                          throw boom;
                        }));
    assertThat(thrown).as("the work's exception, unchanged").isSameAs(boom);

    Entry keep = orders().getEntry(bytes("keep")).orElseThrow();
    assertThat(keep.value()).isEqualTo(bytes("original"));
    assertThat(keep.version()).isEqualTo(versionBefore);
    assertThat(orders().get(bytes("new"))).isNull();
    assertThat(orders().get(bytes("gone?"))).isEqualTo(bytes("still here"));
    assertThat(index().get(bytes("i"))).isNull();
    assertThat(events().nextOffset()).as("aborted appends consume no offsets").isEqualTo(1);
    assertThat(events().read(0, 10)).hasSize(1);
    assertThat(events().append(bytes("e1 for real"))).isEqualTo(1);
  }

  @Test
  public void workReadsItsOwnWrites() {
    orders().put(bytes("existing"), bytes("old"));
    long existingVersion = orders().getEntry(bytes("existing")).orElseThrow().version();
    backend()
        .inTransaction(
            tx -> {
              Transaction.KeyValueWriter w = tx.keyValue("tck-orders");
              assertThat(w.getEntry(bytes("existing")).orElseThrow().value())
                  .isEqualTo(bytes("old"));
              long v1 = w.put(bytes("fresh"), bytes("1"));
              assertThat(v1).isPositive();
              Entry seen = w.getEntry(bytes("fresh")).orElseThrow();
              assertThat(seen.value()).isEqualTo(bytes("1"));
              assertThat(seen.version()).isEqualTo(v1);
              long v2 = w.put(bytes("fresh"), bytes("2"));
              assertThat(v2).isGreaterThan(v1);
              assertThat(w.getEntry(bytes("fresh")).orElseThrow().value()).isEqualTo(bytes("2"));

              long ve = w.put(bytes("existing"), bytes("new"));
              assertThat(ve).isGreaterThan(existingVersion);
              assertThat(w.delete(bytes("existing"))).isTrue();
              assertThat(w.getEntry(bytes("existing"))).isEmpty();
              assertThat(w.delete(bytes("existing"))).isFalse();

              Transaction.LogWriter log = tx.log("tck-events");
              assertThat(log.nextOffset()).isZero();
              assertThat(log.append(bytes("a"))).isZero();
              assertThat(log.nextOffset()).isEqualTo(1);
              assertThat(log.appendAll(List.of(bytes("b"), bytes("c")))).isEqualTo(1);
              assertThat(log.nextOffset()).isEqualTo(3);
              return null;
            });
    assertThat(orders().get(bytes("fresh"))).isEqualTo(bytes("2"));
    assertThat(orders().get(bytes("existing"))).isNull();
    assertThat(events().nextOffset()).isEqualTo(3);
  }

  @Test
  public void versionsReturnedInsideAreFinal() {
    orders().put(bytes("k"), bytes("0"));
    long[] v = new long[1];
    backend()
        .inTransaction(
            tx -> {
              v[0] = tx.keyValue("tck-orders").put(bytes("k"), bytes("1"));
              return null;
            });
    assertThat(orders().getEntry(bytes("k")).orElseThrow().version()).isEqualTo(v[0]);
    assertThat(orders().compareAndSet(bytes("k"), v[0], bytes("2"), null)).isGreaterThan(v[0]);
  }

  @Test
  public void compareAndSetInsideSucceedsOnTheCurrentVersion() {
    long v = orders().put(bytes("c"), bytes("1"));
    long next =
        backend()
            .inTransaction(
                tx -> {
                  long n = tx.keyValue("tck-orders").compareAndSet(bytes("c"), v, bytes("2"), null);
                  long fresh =
                      tx.keyValue("tck-orders").compareAndSet(bytes("d"), 0, bytes("new"), null);
                  assertThat(fresh).isPositive();
                  return n;
                });
    assertThat(next).isGreaterThan(v);
    assertThat(orders().getEntry(bytes("c")).orElseThrow().version()).isEqualTo(next);
    assertThat(orders().get(bytes("d"))).isEqualTo(bytes("new"));
  }

  @Test
  public void compareAndSetConflictAbortsTheWholeTransaction() {
    long v1 = orders().put(bytes("c"), bytes("1"));
    long v2 = orders().put(bytes("c"), bytes("2"));
    events().append(bytes("e0"));

    VersionConflictException conflict =
        catchThrowableOfType(
            VersionConflictException.class,
            () ->
                backend()
                    .inTransaction(
                        tx -> {
                          tx.keyValue("tck-index").put(bytes("side effect"), bytes("x"));
                          tx.log("tck-events").append(bytes("e1"));
                          return tx.keyValue("tck-orders")
                              .compareAndSet(bytes("c"), v1, bytes("stale"), null);
                        }));
    assertThat(conflict).as("the conflict must propagate").isNotNull();
    assertThat(conflict.expectedVersion()).isEqualTo(v1);
    assertThat(conflict.actualVersion()).isEqualTo(v2);
    assertThat(index().get(bytes("side effect"))).isNull();
    assertThat(orders().get(bytes("c"))).isEqualTo(bytes("2"));
    assertThat(events().nextOffset()).isEqualTo(1);
  }

  @Test
  public void compareAndSetInsideSeesTheTransactionsOwnVersion() {
    backend()
        .inTransaction(
            tx -> {
              Transaction.KeyValueWriter w = tx.keyValue("tck-orders");
              long v = w.put(bytes("k"), bytes("1"));
              long v2 = w.compareAndSet(bytes("k"), v, bytes("2"), null);
              assertThat(v2).isGreaterThan(v);
              VersionConflictException stale =
                  catchThrowableOfType(
                      VersionConflictException.class,
                      () -> w.compareAndSet(bytes("k"), v, bytes("3"), null));
              assertThat(stale).isNotNull();
              assertThat(stale.actualVersion()).isEqualTo(v2);
              return null;
            });
    assertThat(orders().get(bytes("k"))).isEqualTo(bytes("2"));
  }

  @Test
  public void ttlWrittenInATransactionExpires() {
    backend()
        .inTransaction(
            tx -> {
              tx.keyValue("tck-orders").put(bytes("t"), bytes("x"), Duration.ofSeconds(5));
              tx.keyValue("tck-orders").put(bytes("p"), bytes("y"), null);
              return null;
            });
    assertThat(orders().get(bytes("t"))).isEqualTo(bytes("x"));
    clock().advance(Duration.ofSeconds(6));
    assertThat(orders().get(bytes("t"))).isNull();
    assertThat(orders().get(bytes("p"))).isEqualTo(bytes("y"));
  }

  @Test
  public void expiredEntriesAreAbsentInsideTransactions() {
    orders().put(bytes("t"), bytes("x"), Duration.ofSeconds(5));
    clock().advance(Duration.ofSeconds(6));
    Optional<Entry> seen =
        backend().inTransaction(tx -> tx.keyValue("tck-orders").getEntry(bytes("t")));
    assertThat(seen).isEmpty();
    long v =
        backend()
            .inTransaction(
                tx -> tx.keyValue("tck-orders").compareAndSet(bytes("t"), 0, bytes("y"), null));
    assertThat(v).isPositive();
  }

  @Test
  public void emptyTransactionReturnsTheResult() {
    int result = backend().inTransaction(tx -> 42);
    assertThat(result).isEqualTo(42);
  }

  @Test
  public void afterAnAbortTheNextTransactionCommits() {
    catchThrowable(
        () ->
            backend()
                .inTransaction(
                    tx -> {
                      tx.log("tck-events").append(bytes("lost"));
                      throw new RuntimeException("abort");
                    }));
    long offset = backend().inTransaction(tx -> tx.log("tck-events").append(bytes("kept")));
    assertThat(offset).isZero();
    assertThat(events().read(0, 10)).hasSize(1);
    assertThat(events().read(0, 1).get(0).payload()).isEqualTo(bytes("kept"));
  }

  @Test
  public void badArgumentsInsideThrowAndAbort() {
    Throwable t =
        catchThrowable(
            () ->
                backend()
                    .inTransaction(
                        tx -> {
                          tx.keyValue("tck-orders").put(bytes("ok"), bytes("x"));
                          tx.keyValue("tck-orders").put(new byte[0], bytes("bad key"));
                          return null;
                        }));
    assertThat(t).isInstanceOf(IllegalArgumentException.class);
    assertThat(orders().get(bytes("ok"))).isNull();
  }

  // ---- the transaction rule: inside the work, write only through the view ----

  @Test
  public void directWritesInsideTheWorkAreRefusedAndTheTransactionAborts() {
    KeyValueStore direct = orders();
    LogStore directLog = events();
    var snaps = backend().snapshots("tck-snaps");
    orders().put(bytes("existing"), bytes("before"));
    List<ThrowingCall> writes =
        List.of(
            () -> direct.put(bytes("d"), bytes("direct")),
            () -> direct.put(bytes("d"), bytes("direct"), Duration.ofMinutes(1)),
            () -> direct.compareAndSet(bytes("d"), 0, bytes("direct"), null),
            () -> direct.delete(bytes("existing")),
            () -> direct.compareAndDelete(bytes("existing"), 1),
            () -> direct.putAll(List.of(new io.cairn.persistence.KeyValue(bytes("d"), bytes("x")))),
            direct::purgeExpired,
            () -> directLog.append(bytes("direct")),
            () -> directLog.appendAll(List.of(bytes("direct"))),
            () -> directLog.truncateBefore(1),
            () -> snaps.save(1, bytes("direct")),
            () -> snaps.delete(1),
            () -> snaps.retainLatest(1));
    for (int i = 0; i < writes.size(); i++) {
      ThrowingCall write = writes.get(i);
      int n = i;
      Throwable t =
          catchThrowable(
              () ->
                  backend()
                      .inTransaction(
                          tx -> {
                            tx.keyValue("tck-orders").put(bytes("in-tx-" + n), bytes("tx"));
                            write.call();
                            return null;
                          }));
      assertThat(t)
          .as("direct write #%d inside the work", i)
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("inTransaction")
          .hasMessageContaining("Nothing was written");
      assertThat(orders().get(bytes("in-tx-" + n)))
          .as("the transaction of direct write #%d was aborted", i)
          .isNull();
    }
    assertThat(orders().get(bytes("d"))).isNull();
    assertThat(orders().get(bytes("existing"))).isEqualTo(bytes("before"));
    assertThat(events().nextOffset()).isZero();
    assertThat(snaps.list()).isEmpty();
  }

  @Test
  public void aRefusedDirectWriteNamesTheStoreAndTheViewToUse() {
    KeyValueStore direct = orders();
    Throwable t =
        catchThrowable(() -> backend().inTransaction(tx -> direct.put(bytes("k"), bytes("v"))));
    assertThat(t)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("key-value namespace 'tck-orders'")
        .hasMessageContaining("tx.keyValue(\"tck-orders\")");
    LogStore log = events();
    assertThat(catchThrowable(() -> backend().inTransaction(tx -> log.append(bytes("x")))))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("log 'tck-events'")
        .hasMessageContaining("tx.log(\"tck-events\")");
  }

  @Test
  public void directWritesFromOtherThreadsDuringATransactionAreNotRefused() throws Exception {
    KeyValueStore direct = orders();
    java.util.concurrent.ExecutorService other =
        java.util.concurrent.Executors.newSingleThreadExecutor();
    try {
      java.util.concurrent.Future<Long> f =
          backend()
              .inTransaction(
                  tx -> {
                    tx.keyValue("tck-orders").put(bytes("tx"), bytes("1"));
                    // another thread's write is not part of this transaction: it waits or runs,
                    // but is not refused; do not wait for it here (it may wait for the commit)
                    return other.submit(() -> direct.put(bytes("other"), bytes("2")));
                  });
      assertThat(f.get(60, java.util.concurrent.TimeUnit.SECONDS)).isPositive();
      assertThat(orders().get(bytes("other"))).isEqualTo(bytes("2"));
      assertThat(orders().get(bytes("tx"))).isEqualTo(bytes("1"));
    } finally {
      other.shutdownNow();
    }
  }

  @Test
  public void directReadsInsideTheWorkSeeCommittedStateOnly() {
    orders().put(bytes("k"), bytes("committed"));
    events().append(bytes("committed"));
    KeyValueStore direct = orders();
    LogStore directLog = events();
    backend()
        .inTransaction(
            tx -> {
              tx.keyValue("tck-orders").put(bytes("k"), bytes("uncommitted"));
              tx.keyValue("tck-orders").put(bytes("new"), bytes("uncommitted"));
              tx.log("tck-events").append(bytes("uncommitted"));
              assertThat(tx.keyValue("tck-orders").getEntry(bytes("k")).orElseThrow().value())
                  .as("the view sees the transaction's own write")
                  .isEqualTo(bytes("uncommitted"));
              assertThat(direct.get(bytes("k")))
                  .as("a direct read inside the work sees committed state")
                  .isEqualTo(bytes("committed"));
              assertThat(direct.get(bytes("new"))).isNull();
              assertThat(directLog.nextOffset()).isEqualTo(1);
              assertThat(directLog.read(0, 10)).hasSize(1);
              return null;
            });
    assertThat(orders().get(bytes("k"))).isEqualTo(bytes("uncommitted"));
    assertThat(events().nextOffset()).isEqualTo(2);
  }

  @Test
  public void transactionsDoNotNest() {
    Throwable t =
        catchThrowable(
            () ->
                backend()
                    .inTransaction(
                        tx -> {
                          tx.keyValue("tck-orders").put(bytes("outer"), bytes("1"));
                          return backend().inTransaction(inner -> null);
                        }));
    assertThat(t).isInstanceOf(IllegalStateException.class).hasMessageContaining("do not nest");
    assertThat(orders().get(bytes("outer"))).isNull();
    long version =
        backend().inTransaction(tx -> tx.keyValue("tck-orders").put(bytes("a"), bytes("b")));
    assertThat(version).as("the backend works after the refused nesting").isPositive();
  }

  /** A write to try, for lists of operations. */
  @FunctionalInterface
  private interface ThrowingCall {
    void call();
  }
}
