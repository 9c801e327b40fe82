package io.cairn.backend.rocksdb;

import static io.cairn.backend.rocksdb.Rocks.b;
import static io.cairn.backend.rocksdb.Rocks.s;
import static org.assertj.core.api.Assertions.assertThat;

import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.StorageBackend;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 20 item 2: a transaction's writes become visible to other threads together. A reader that
 * sees a transaction's key-value write must also see its log record.
 */
class RocksDbTransactionVisibilityTest {
  private static final long STRESS_MILLIS = Long.getLong("txVisibilityMillis", 3000);

  @TempDir Path dir;

  /**
   * Pauses the commit right after RocksDB made the batch readable and before the log's next offset
   * is published; a reader that sees the KV write at that moment must get the log record too.
   */
  @Test
  void aReaderThatSeesTheKvWriteSeesTheLogRecordEvenMidCommit() throws Exception {
    try (StorageBackend be = Rocks.open(dir)) {
      RocksDbBackend rb = (RocksDbBackend) be;
      KeyValueStore kv = be.keyValue("state");
      LogStore log = be.log("events");
      CountDownLatch written = new CountDownLatch(1);
      AtomicReference<Thread> reader = new AtomicReference<>();
      AtomicBoolean readerDone = new AtomicBoolean();
      AtomicBoolean kvSeen = new AtomicBoolean();
      rb.afterTransactionWrite =
          () -> {
            written.countDown();
            // Let the reader run now: wait until it has finished, or read the KV write and blocked.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!readerDone.get() && System.nanoTime() < deadline) {
              Thread t = kvSeen.get() ? reader.get() : null; // set before kvSeen
              if (t != null
                  && (t.getState() == Thread.State.WAITING
                      || t.getState() == Thread.State.TIMED_WAITING
                      || t.getState() == Thread.State.BLOCKED)) {
                break;
              }
              Thread.onSpinWait();
            }
          };
      CompletableFuture<List<LogRecord>> seen =
          CompletableFuture.supplyAsync(
              () -> {
                reader.set(Thread.currentThread());
                try {
                  assertThat(written.await(30, TimeUnit.SECONDS)).isTrue();
                  assertThat(kv.get(b("last"))).as("the batch is readable").isNotNull();
                  kvSeen.set(true);
                  return log.read(0, 10);
                } catch (InterruptedException e) {
                  throw new IllegalStateException(e);
                } finally {
                  readerDone.set(true);
                }
              });
      be.inTransaction(
          tx -> {
            tx.keyValue("state").put(b("last"), b("tx-0"));
            tx.log("events").append(b("tx-0"));
            return null;
          });
      rb.afterTransactionWrite = null;
      List<LogRecord> records = seen.get(30, TimeUnit.SECONDS);
      assertThat(records).hasSize(1);
      assertThat(s(records.get(0).payload())).isEqualTo("tx-0");
    }
  }

  /** One writer commits {kv last = i, log append i}; readers check the rule continuously. */
  @Test
  void stressReadersNeverSeeAKvWriteWithoutItsLogRecord() throws Exception {
    try (StorageBackend be = Rocks.open(dir)) {
      KeyValueStore kv = be.keyValue("state");
      LogStore log = be.log("events");
      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong checks = new AtomicLong();
      AtomicLong violations = new AtomicLong();
      AtomicReference<String> firstViolation = new AtomicReference<>();
      CompletableFuture<?> writer =
          CompletableFuture.runAsync(
              () -> {
                for (long i = 0; !stop.get(); i++) {
                  long n = i;
                  be.inTransaction(
                      tx -> {
                        tx.keyValue("state").put(b("last"), b(Long.toString(n)));
                        tx.log("events").append(b(Long.toString(n)));
                        return null;
                      });
                }
              });
      CompletableFuture<?>[] readers = new CompletableFuture<?>[2];
      for (int r = 0; r < readers.length; r++) {
        readers[r] =
            CompletableFuture.runAsync(
                () -> {
                  while (!stop.get()) {
                    byte[] last = kv.get(b("last"));
                    if (last == null) {
                      continue;
                    }
                    long i = Long.parseLong(s(last));
                    List<LogRecord> rec = log.read(i, 1);
                    long next = log.nextOffset();
                    checks.incrementAndGet();
                    if (rec.size() != 1 || rec.get(0).offset() != i || next <= i) {
                      violations.incrementAndGet();
                      firstViolation.compareAndSet(
                          null, "saw tx " + i + " in KV, log read " + rec + ", next " + next);
                    }
                  }
                });
      }
      Thread.sleep(STRESS_MILLIS);
      stop.set(true);
      writer.get(60, TimeUnit.SECONDS);
      CompletableFuture.allOf(readers).get(60, TimeUnit.SECONDS);
      System.out.println(
          "tx visibility stress: " + checks.get() + " checks, " + violations.get() + " violations");
      assertThat(checks.get()).as("readers made progress").isGreaterThan(100);
      assertThat(violations.get()).as(String.valueOf(firstViolation.get())).isZero();
    }
  }
}
