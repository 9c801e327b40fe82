package io.cairn.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.BackendClosedException;
import io.cairn.persistence.Capability;
import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.Transaction;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Contract of {@link StorageBackend#readTransaction} (backends with {@link
 * Capability#SNAPSHOT_READS}; the others must throw {@link UnsupportedOperationException}): a
 * reader sees one consistent snapshot across namespaces and a log while writers commit, it does not
 * block writers, writes on its thread throw, and its view belongs to its thread and its work.
 *
 * <p>The interleavings are forced with latches, not timing: the reader reads half of the data, lets
 * a writer commit, and reads the rest. The stress test ({@code -DreadTxStressTransfers=N}, default
 * 300 per writer) runs writers and readers freely and checks the invariants in every read
 * transaction.
 */
public abstract class ReadTransactionContract extends ContractSupport {
  /** System property: transfers per writer thread in the stress test. */
  public static final String STRESS_PROPERTY = "readTxStressTransfers";

  private static final long TIMEOUT_SECONDS = 60;
  private static final int ACCOUNTS = 40;
  private static final long START_BALANCE = 100;
  private static final String BANK = "rt-bank";
  private static final String META = "rt-meta";
  private static final String LEDGER = "rt-ledger";
  private static final byte[] TRANSFERS = bytes("transfers");

  private ExecutorService pool;

  @BeforeEach
  final void startReadTxPool() {
    pool = Executors.newFixedThreadPool(6);
  }

  @AfterEach
  final void stopReadTxPool() throws InterruptedException {
    pool.shutdownNow();
    assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).as("workers stopped").isTrue();
  }

  private void assumeSnapshotReads() {
    assumeCapability(Capability.SNAPSHOT_READS);
  }

  // ---- what a reader sees ----

  /**
   * The reader sums half of the accounts, lets a writer commit transfers that each move money from
   * that half to the other (and count themselves in another namespace and in a log), then sums the
   * other half: the total, the counter and the log must all be those of the snapshot.
   */
  @Test
  public void aReaderSeesOneSnapshotWhileAWriterCommitsInTheMiddle() throws Exception {
    assumeSnapshotReads();
    openBank();
    CountDownLatch halfway = new CountDownLatch(1);
    CountDownLatch committed = new CountDownLatch(1);
    Future<?> writer =
        pool.submit(
            () -> {
              await(halfway, "the reader to read half of the accounts");
              for (int i = 0; i < 5; i++) {
                transfer(i, ACCOUNTS / 2 + i, 7);
              }
              committed.countDown();
              return null;
            });
    long[] seen =
        backend()
            .readTransaction(
                view -> {
                  Transaction.KeyValueReader bank = view.keyValue(BANK);
                  long firstHalf = 0;
                  for (int a = 0; a < ACCOUNTS / 2; a++) {
                    firstHalf += balance(bank.get(account(a)));
                  }
                  long count = balance(view.keyValue(META).get(TRANSFERS));
                  long next = view.log(LEDGER).nextOffset();
                  halfway.countDown();
                  assertThat(
                          await(committed, "the writer to commit (is it blocked by the reader?)"))
                      .isTrue();
                  long secondHalf = 0;
                  for (int a = ACCOUNTS / 2; a < ACCOUNTS; a++) {
                    secondHalf += balance(bank.get(account(a)));
                  }
                  assertThat(firstHalf + secondHalf)
                      .as("sum of every account read in one read transaction")
                      .isEqualTo(ACCOUNTS * START_BALANCE);
                  assertThat(sumByScan(bank))
                      .as("sum by a scan")
                      .isEqualTo(ACCOUNTS * START_BALANCE);
                  assertThat(balance(view.keyValue(META).get(TRANSFERS)))
                      .as("the transfer counter")
                      .isEqualTo(count);
                  assertThat(view.log(LEDGER).nextOffset())
                      .as("the log's next offset")
                      .isEqualTo(next);
                  assertThat(view.log(LEDGER).read(0, 100)).hasSize((int) next);
                  return new long[] {count, next};
                });
    writer.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    assertThat(seen).containsExactly(0, 0);
    long[] after =
        backend()
            .readTransaction(
                view -> {
                  assertThat(sumByScan(view.keyValue(BANK))).isEqualTo(ACCOUNTS * START_BALANCE);
                  assertThat(view.keyValue(BANK).get(account(0))).isEqualTo(longBytes(93));
                  return new long[] {
                    balance(view.keyValue(META).get(TRANSFERS)), view.log(LEDGER).nextOffset()
                  };
                });
    assertThat(after).as("a new read transaction sees the commits").containsExactly(5, 5);
  }

  /**
   * While a read transaction is open, single writes, putAll, appendAll, truncateBefore and a
   * transaction commit on another thread (the reader waits for them on a latch: a blocked writer
   * would fail the test after the timeout, not hang it); the reader still sees the snapshot.
   */
  @Test
  public void writersCommitWhileAReadTransactionIsOpen() throws Exception {
    assumeSnapshotReads();
    KeyValueStore kv = backend().keyValue("rt-open");
    LogStore log = backend().log("rt-open");
    kv.put(bytes("k"), bytes("v1"));
    log.appendAll(List.of(bytes("r0"), bytes("r1")));
    CountDownLatch open = new CountDownLatch(1);
    CountDownLatch written = new CountDownLatch(1);
    Future<?> writer =
        pool.submit(
            () -> {
              await(open, "the read transaction to open");
              kv.put(bytes("k"), bytes("v2"));
              kv.put(bytes("new"), bytes("n"));
              kv.putAll(List.of(new KeyValue(bytes("p1"), bytes("x")), kv(bytes("p2"), "y")));
              log.append(bytes("r2"));
              log.appendAll(List.of(bytes("r3"), bytes("r4")));
              log.truncateBefore(1);
              backend()
                  .inTransaction(
                      tx -> {
                        tx.keyValue("rt-open").delete(bytes("k"));
                        return tx.log("rt-open").append(bytes("r5"));
                      });
              written.countDown();
              return null;
            });
    backend()
        .readTransaction(
            view -> {
              Transaction.KeyValueReader r = view.keyValue("rt-open");
              assertThat(r.get(bytes("k"))).isEqualTo(bytes("v1"));
              open.countDown();
              assertThat(await(written, "every write to commit while the read transaction is open"))
                  .as("writers were not blocked by the open read transaction")
                  .isTrue();
              assertThat(r.get(bytes("k"))).as("the snapshot's value").isEqualTo(bytes("v1"));
              assertThat(r.get(bytes("new"))).isNull();
              assertThat(r.get(bytes("p1"))).isNull();
              assertThat(keys(r)).containsExactly("k");
              Transaction.LogReader l = view.log("rt-open");
              assertThat(l.firstOffset()).isZero();
              assertThat(l.nextOffset()).isEqualTo(2);
              assertThat(l.read(0, 10)).extracting(LogRecord::offset).containsExactly(0L, 1L);
              return null;
            });
    writer.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    assertThat(kv.get(bytes("k"))).isNull();
    assertThat(log.firstOffset()).isEqualTo(1);
    assertThat(log.nextOffset()).isEqualTo(6);
    backend()
        .readTransaction(
            view -> {
              assertThat(keys(view.keyValue("rt-open"))).containsExactly("new", "p1", "p2");
              assertThat(view.log("rt-open").firstOffset()).isEqualTo(1);
              assertThat(view.log("rt-open").read(0, 10))
                  .extracting(LogRecord::offset)
                  .containsExactly(1L, 2L, 3L, 4L, 5L);
              return null;
            });
  }

  /**
   * A scan inside a read transaction is a snapshot across pages (1,000 entries: more than any
   * bundled backend's page or batch), although every entry changes, some go and others appear while
   * it runs.
   */
  @Test
  public void aScanInsideAReadTransactionIsASnapshot() throws Exception {
    assumeSnapshotReads();
    KeyValueStore kv = backend().keyValue("rt-scan");
    int n = 1000;
    List<KeyValue> initial = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      initial.add(new KeyValue(longBytes(2L * i), longBytes(i)));
    }
    kv.putAll(initial);
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch rewritten = new CountDownLatch(1);
    Future<?> writer =
        pool.submit(
            () -> {
              await(started, "the scan to start");
              List<KeyValue> changed = new ArrayList<>();
              for (int i = 0; i < n; i++) {
                changed.add(new KeyValue(longBytes(2L * i), longBytes(-i)));
                changed.add(new KeyValue(longBytes(2L * i + 1), longBytes(-i)));
              }
              kv.putAll(changed);
              for (int i = 0; i < n; i += 3) {
                kv.delete(longBytes(2L * i));
              }
              rewritten.countDown();
              return null;
            });
    int count =
        backend()
            .readTransaction(
                view -> {
                  int seen = 0;
                  try (CloseableIterator<Entry> it = view.keyValue("rt-scan").scan(null, null)) {
                    for (; seen < 10; seen++) {
                      check(it.next(), seen);
                    }
                    started.countDown();
                    assertThat(await(rewritten, "the writer to rewrite the namespace")).isTrue();
                    while (it.hasNext()) {
                      check(it.next(), seen++);
                    }
                  }
                  return seen;
                });
    writer.get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    assertThat(count).as("entries in the snapshot").isEqualTo(n);
  }

  private static void check(Entry e, int i) {
    assertThat(e.key()).as("key %d of the snapshot", i).isEqualTo(longBytes(2L * i));
    assertThat(e.value()).as("value of key %d in the snapshot", i).isEqualTo(longBytes(i));
  }

  /** Expiry inside a read transaction is judged at the instant of the snapshot. */
  @Test
  public void expiryIsJudgedAtTheSnapshotInstant() {
    assumeSnapshotReads();
    KeyValueStore kv = backend().keyValue("rt-ttl");
    kv.put(bytes("short"), bytes("s"), Duration.ofSeconds(10));
    kv.put(bytes("long"), bytes("l"), Duration.ofHours(1));
    clock().advance(Duration.ofSeconds(5));
    backend()
        .readTransaction(
            view -> {
              clock().advance(Duration.ofSeconds(20)); // "short" expires now, after the snapshot
              Transaction.KeyValueReader r = view.keyValue("rt-ttl");
              assertThat(r.get(bytes("short"))).as("live at the snapshot").isEqualTo(bytes("s"));
              assertThat(keys(r)).containsExactly("long", "short");
              return null;
            });
    assertThat(kv.get(bytes("short"))).as("expired for a read after the snapshot").isNull();
    backend()
        .readTransaction(
            view -> {
              assertThat(keys(view.keyValue("rt-ttl"))).containsExactly("long");
              return null;
            });
  }

  /**
   * Writers and readers run freely: in every read transaction the accounts sum to the total (by
   * point reads and by a scan) and the transfer counter equals the number of records in the log.
   */
  @Test
  public void invariantsHoldInEveryReadTransactionWhileWritersRun() throws Exception {
    assumeSnapshotReads();
    openBank();
    int transfers = Integer.getInteger(STRESS_PROPERTY, 300);
    int writers = 2;
    AtomicBoolean writing = new AtomicBoolean(true);
    AtomicLong checks = new AtomicLong();
    AtomicLong sawProgress = new AtomicLong();
    List<Future<?>> futures = new ArrayList<>();
    AtomicLong done = new AtomicLong();
    for (int w = 0; w < writers; w++) {
      Random random = new Random(seed() + w);
      futures.add(
          pool.submit(
              () -> {
                try {
                  for (int i = 0; i < transfers; i++) {
                    int from = random.nextInt(ACCOUNTS);
                    int to = (from + 1 + random.nextInt(ACCOUNTS - 1)) % ACCOUNTS;
                    transfer(from, to, 1 + random.nextInt(5));
                  }
                } finally {
                  if (done.incrementAndGet() == writers) {
                    writing.set(false);
                  }
                }
                return null;
              }));
    }
    for (int r = 0; r < 2; r++) {
      futures.add(
          pool.submit(
              () -> {
                boolean last = false;
                while (!last) {
                  last = !writing.get(); // one more pass after the writers finished
                  backend()
                      .readTransaction(
                          view -> {
                            Transaction.KeyValueReader bank = view.keyValue(BANK);
                            long sum = 0;
                            for (int a = 0; a < ACCOUNTS; a++) {
                              sum += balance(bank.get(account(a)));
                            }
                            assertThat(sum).as("sum of point reads").isEqualTo(total());
                            assertThat(sumByScan(bank)).as("sum by a scan").isEqualTo(total());
                            long count = balance(view.keyValue(META).get(TRANSFERS));
                            Transaction.LogReader ledger = view.log(LEDGER);
                            assertThat(ledger.nextOffset())
                                .as("log records against the transfer counter")
                                .isEqualTo(count);
                            assertThat(readAll(ledger)).hasSize((int) count);
                            if (count > 0 && count < (long) writers * transfers) {
                              sawProgress.incrementAndGet();
                            }
                            return null;
                          });
                  checks.incrementAndGet();
                }
                return null;
              }));
    }
    for (Future<?> f : futures) {
      f.get(TIMEOUT_SECONDS * 2, TimeUnit.SECONDS);
    }
    System.out.println(
        "[cairn-tck] read-transaction stress: "
            + checks.get()
            + " read transactions, "
            + sawProgress.get()
            + " of them in the middle of the writers' run");
    assertThat(checks.get()).isGreaterThanOrEqualTo(2);
    long count = backend().readTransaction(view -> balance(view.keyValue(META).get(TRANSFERS)));
    assertThat(count).isEqualTo((long) writers * transfers);
  }

  // ---- read only, threads, errors ----

  /** Every write on the reader's thread throws IllegalStateException and writes nothing. */
  @Test
  public void writesInsideAReadTransactionThrowAndWriteNothing() {
    assumeSnapshotReads();
    KeyValueStore kv = backend().keyValue("rt-ro");
    LogStore log = backend().log("rt-ro");
    long version = kv.put(bytes("k"), bytes("v"));
    log.append(bytes("r0"));
    backend()
        .readTransaction(
            view -> {
              List<Runnable> writes =
                  List.of(
                      () -> kv.put(bytes("k"), bytes("w")),
                      () -> kv.put(bytes("k"), bytes("w"), Duration.ofMinutes(1)),
                      () -> kv.compareAndSet(bytes("k"), version, bytes("w"), null),
                      () -> kv.compareAndDelete(bytes("k"), version),
                      () -> kv.delete(bytes("k")),
                      () -> kv.putAll(List.of(new KeyValue(bytes("k"), bytes("w")))),
                      () -> log.append(bytes("w")),
                      () -> log.appendAll(List.of(bytes("w"))),
                      () -> log.truncateBefore(1),
                      () -> backend().snapshots("rt-ro").save(1, new byte[] {1}),
                      () -> backend().compact(io.cairn.persistence.Progress.NONE),
                      () ->
                          backend()
                              .inTransaction(
                                  tx -> tx.keyValue("rt-ro").put(bytes("k"), bytes("w"))),
                      () -> backend().readTransaction(inner -> null));
              for (Runnable write : writes) {
                assertThatThrownBy(write::run)
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("readTransaction()");
              }
              return null;
            });
    assertThat(kv.getEntry(bytes("k")).orElseThrow().version()).isEqualTo(version);
    assertThat(kv.get(bytes("k"))).isEqualTo(bytes("v"));
    assertThat(log.nextOffset()).isEqualTo(1);
    assertThat(log.firstOffset()).isZero();
    assertThat(backend().snapshots("rt-ro").list()).isEmpty();
    // and the thread is a writer again afterwards
    kv.put(bytes("k"), bytes("after"));
    assertThat(kv.get(bytes("k"))).isEqualTo(bytes("after"));
  }

  /** A read transaction from inside transaction work would not see the transaction's writes. */
  @Test
  public void aReadTransactionInsideATransactionThrows() {
    assumeSnapshotReads();
    assertThatThrownBy(
            () ->
                backend()
                    .inTransaction(
                        tx -> {
                          tx.keyValue("rt-nest").put(bytes("k"), bytes("v"));
                          return backend().readTransaction(view -> null);
                        }))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("readTransaction()");
    assertThat(backend().keyValue("rt-nest").get(bytes("k")))
        .as("the transaction aborted")
        .isNull();
  }

  /**
   * The view works only on the thread running the work and only while it runs; scan iterators left
   * open are closed when it ends; the work's result and exceptions come back unchanged.
   */
  @Test
  public void theViewBelongsToItsThreadAndItsWork() throws Exception {
    assumeSnapshotReads();
    backend().keyValue("rt-thread").put(bytes("k"), bytes("v"));
    backend().log("rt-thread").append(bytes("r"));
    AtomicReference<Transaction.ReadView> leaked = new AtomicReference<>();
    AtomicReference<Transaction.KeyValueReader> leakedReader = new AtomicReference<>();
    AtomicReference<CloseableIterator<Entry>> leakedScan = new AtomicReference<>();
    String result =
        backend()
            .readTransaction(
                view -> {
                  leaked.set(view);
                  leakedReader.set(view.keyValue("rt-thread"));
                  CloseableIterator<Entry> it = view.keyValue("rt-thread").scan(null, null);
                  leakedScan.set(it);
                  Future<?> other = pool.submit(() -> leakedReader.get().get(bytes("k")));
                  assertThatThrownBy(() -> other.get(TIMEOUT_SECONDS, TimeUnit.SECONDS))
                      .hasCauseInstanceOf(IllegalStateException.class);
                  Future<?> otherLog = pool.submit(() -> view.log("rt-thread").nextOffset());
                  assertThatThrownBy(() -> otherLog.get(TIMEOUT_SECONDS, TimeUnit.SECONDS))
                      .hasCauseInstanceOf(IllegalStateException.class);
                  return new String(view.keyValue("rt-thread").get(bytes("k")));
                });
    assertThat(result).isEqualTo("v");
    assertThatThrownBy(() -> leakedReader.get().get(bytes("k")))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> leaked.get().log("rt-thread"))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> leakedScan.get().hasNext()).isInstanceOf(IllegalStateException.class);
    IllegalArgumentException thrown = new IllegalArgumentException("from the work");
    assertThatThrownBy(
            () ->
                backend()
                    .readTransaction(
                        view -> {
                          throw thrown;
                        }))
        .isSameAs(thrown);
    assertThat(backend().keyValue("rt-thread").get(bytes("k"))).isEqualTo(bytes("v"));
  }

  /** Arguments are checked as for the stores. */
  @Test
  public void argumentsAreChecked() {
    assumeSnapshotReads();
    assertThatThrownBy(() -> backend().readTransaction(null))
        .isInstanceOf(NullPointerException.class);
    backend()
        .readTransaction(
            view -> {
              assertThatThrownBy(() -> view.keyValue("bad name!"))
                  .isInstanceOf(IllegalArgumentException.class);
              assertThatThrownBy(() -> view.log(null)).isInstanceOf(IllegalArgumentException.class);
              assertThatThrownBy(() -> view.keyValue("rt-args").get(null))
                  .isInstanceOf(NullPointerException.class);
              assertThatThrownBy(() -> view.keyValue("rt-args").get(new byte[0]))
                  .isInstanceOf(IllegalArgumentException.class);
              assertThatThrownBy(() -> view.log("rt-args").read(-1, 10))
                  .isInstanceOf(IllegalArgumentException.class);
              assertThatThrownBy(() -> view.log("rt-args").read(0, 0))
                  .isInstanceOf(IllegalArgumentException.class);
              assertThat(view.keyValue("rt-args").get(bytes("absent"))).isNull();
              assertThat(view.log("rt-args").nextOffset()).isZero();
              assertThat(view.log("rt-args").read(0, 10)).isEmpty();
              return null;
            });
  }

  /**
   * A backend closed while a read transaction is open: its reads return snapshot data or throw
   * {@link BackendClosedException}, and close returns once the work ended (it may wait for it).
   * After close, readTransaction throws {@link BackendClosedException}.
   */
  @Test
  public void closeWhileAReadTransactionIsOpen() throws Exception {
    assumeSnapshotReads();
    StorageBackend backend = backend();
    backend.keyValue("rt-close").put(bytes("k"), bytes("v"));
    CountDownLatch open = new CountDownLatch(1);
    AtomicReference<Future<?>> closer = new AtomicReference<>();
    String outcome =
        backend.readTransaction(
            view -> {
              Transaction.KeyValueReader r = view.keyValue("rt-close");
              assertThat(r.get(bytes("k"))).isEqualTo(bytes("v"));
              open.countDown();
              closer.set(pool.submit(this::closeRegistry));
              for (int i = 0; i < 2000; i++) {
                try {
                  assertThat(r.get(bytes("k"))).isEqualTo(bytes("v"));
                } catch (BackendClosedException e) {
                  return "closed";
                }
                if (closer.get().isDone()) {
                  // close returned while the work runs: the next read must fail
                  assertThatThrownBy(() -> r.get(bytes("k")))
                      .isInstanceOf(BackendClosedException.class);
                  return "closed";
                }
              }
              return "waited"; // close waits for the work (allowed)
            });
    closer.get().get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    assertThat(outcome).isIn("closed", "waited");
    assertThatThrownBy(() -> backend.readTransaction(view -> null))
        .isInstanceOf(BackendClosedException.class);
  }

  /** Without the capability, readTransaction throws UnsupportedOperationException. */
  @Test
  public void withoutTheCapabilityReadTransactionIsUnsupported() {
    Assumptions.assumeFalse(
        capabilities().contains(Capability.SNAPSHOT_READS),
        "the backend declares SNAPSHOT_READS; its read transactions are tested above");
    AtomicBoolean ran = new AtomicBoolean();
    assertThatThrownBy(
            () ->
                backend()
                    .readTransaction(
                        view -> {
                          ran.set(true);
                          return null;
                        }))
        .isInstanceOf(UnsupportedOperationException.class)
        .hasMessageContaining("SNAPSHOT_READS");
    assertThat(ran).as("the work never runs").isFalse();
  }

  // ---- helpers ----

  private void openBank() {
    List<KeyValue> accounts = new ArrayList<>();
    for (int a = 0; a < ACCOUNTS; a++) {
      accounts.add(new KeyValue(account(a), longBytes(START_BALANCE)));
    }
    backend().keyValue(BANK).putAll(accounts);
    backend().keyValue(META).put(TRANSFERS, longBytes(0));
  }

  /** Moves {@code amount} from account {@code from} to {@code to}, counted and logged. */
  private void transfer(int from, int to, long amount) {
    backend()
        .inTransaction(
            tx -> {
              Transaction.KeyValueWriter bank = tx.keyValue(BANK);
              long a = balance(bank.getEntry(account(from)).orElseThrow().value());
              long b = balance(bank.getEntry(account(to)).orElseThrow().value());
              bank.put(account(from), longBytes(a - amount));
              bank.put(account(to), longBytes(b + amount));
              Transaction.KeyValueWriter meta = tx.keyValue(META);
              long count = balance(meta.getEntry(TRANSFERS).orElseThrow().value());
              meta.put(TRANSFERS, longBytes(count + 1));
              return tx.log(LEDGER).append(bytes(from + "->" + to + ":" + amount));
            });
  }

  private static long total() {
    return ACCOUNTS * START_BALANCE;
  }

  private static long sumByScan(Transaction.KeyValueReader bank) {
    long sum = 0;
    int n = 0;
    try (CloseableIterator<Entry> it = bank.scan(null, null)) {
      while (it.hasNext()) {
        sum += balance(it.next().value());
        n++;
      }
    }
    assertThat(n).as("accounts seen by the scan").isEqualTo(ACCOUNTS);
    return sum;
  }

  private static List<LogRecord> readAll(Transaction.LogReader log) {
    List<LogRecord> out = new ArrayList<>();
    long next = log.firstOffset();
    while (true) {
      List<LogRecord> page = log.read(next, 100);
      if (page.isEmpty()) {
        return out;
      }
      out.addAll(page);
      next = page.get(page.size() - 1).offset() + 1;
    }
  }

  private static List<String> keys(Transaction.KeyValueReader r) {
    List<String> out = new ArrayList<>();
    try (CloseableIterator<Entry> it = r.scan(null, null)) {
      it.forEachRemaining(
          e -> out.add(new String(e.key(), java.nio.charset.StandardCharsets.UTF_8)));
    }
    return out;
  }

  private static boolean await(CountDownLatch latch, String what) {
    try {
      boolean ok = latch.await(TIMEOUT_SECONDS, TimeUnit.SECONDS);
      if (!ok) {
        throw new AssertionError("Waited " + TIMEOUT_SECONDS + " s for " + what);
      }
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("Interrupted waiting for " + what, e);
    }
  }

  private static KeyValue kv(byte[] key, String value) {
    return new KeyValue(key, bytes(value));
  }

  private static byte[] account(int a) {
    return bytes(String.format("acct-%03d", a));
  }

  private static long balance(byte[] value) {
    return value == null ? 0 : ByteBuffer.wrap(value).getLong();
  }

  private static byte[] longBytes(long v) {
    return ByteBuffer.allocate(8).putLong(v).array();
  }
}
