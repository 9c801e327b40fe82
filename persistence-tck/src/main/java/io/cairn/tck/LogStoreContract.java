package io.cairn.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.BackendClosedException;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Contract of {@link LogStore}: gap-free offsets from 0, atomic consecutive batches, bounded reads,
 * truncation without offset reuse, argument checks and use after close. Extend and implement {@link
 * #backendConfig()}.
 */
public abstract class LogStoreContract extends ContractSupport {

  /** The log most tests use. */
  protected LogStore log() {
    return backend().log("tck-log");
  }

  @Test
  public void newLogIsEmptyAtOffsetZero() {
    LogStore log = log();
    assertThat(log.name()).isEqualTo("tck-log");
    assertThat(log.firstOffset()).isZero();
    assertThat(log.nextOffset()).isZero();
    assertThat(log.read(0, 10)).isEmpty();
  }

  @Test
  public void appendsGetGapFreeOffsetsFromZero() {
    for (int i = 0; i < 20; i++) {
      assertThat(log().append(bytes("r" + i))).isEqualTo(i);
      assertThat(log().nextOffset()).isEqualTo(i + 1);
    }
    List<LogRecord> all = log().read(0, 100);
    assertThat(all).hasSize(20);
    for (int i = 0; i < 20; i++) {
      assertThat(all.get(i).offset()).isEqualTo(i);
      assertThat(all.get(i).payload()).isEqualTo(bytes("r" + i));
    }
    assertThat(log().firstOffset()).isZero();
  }

  @Test
  public void eachRecordCarriesItsAppendTimeFromTheBackendClock() {
    long before = clock().millis();
    log().append(bytes("first"));
    long after = clock().millis();
    clock().advance(java.time.Duration.ofSeconds(5));
    long beforeBatch = clock().millis();
    log().appendAll(List.of(bytes("a"), bytes("b")));
    long afterBatch = clock().millis();
    clock().advance(java.time.Duration.ofSeconds(5));
    long beforeTx = clock().millis();
    backend().inTransaction(tx -> tx.log("tck-log").append(bytes("tx")));
    long afterTx = clock().millis();

    List<LogRecord> all = log().read(0, 10);
    assertThat(all).hasSize(4);
    assertThat(all.get(0).appendedAtMillis()).isBetween(before, after);
    assertThat(all.get(1).appendedAtMillis()).isBetween(beforeBatch, afterBatch);
    assertThat(all.get(2).appendedAtMillis()).isBetween(beforeBatch, afterBatch);
    assertThat(all.get(3).appendedAtMillis())
        .as("appended in a transaction")
        .isBetween(beforeTx, afterTx);
    assertThat(all).allMatch(LogRecord::hasAppendTime);
    if (capabilities().contains(io.cairn.persistence.Capability.SNAPSHOT_READS)) {
      assertThat(
              backend()
                  .readTransaction(tx -> tx.log("tck-log").read(3, 1))
                  .get(0)
                  .appendedAtMillis())
          .as("read through a read transaction")
          .isBetween(beforeTx, afterTx);
    }
  }

  @Test
  public void appendAllGetsConsecutiveOffsetsAndReturnsTheFirst() {
    log().append(bytes("single"));
    long first = log().appendAll(List.of(bytes("a"), bytes("b"), bytes("c")));
    assertThat(first).isEqualTo(1);
    assertThat(log().nextOffset()).isEqualTo(4);
    assertThat(log().append(bytes("after"))).isEqualTo(4);
    assertThat(payloads(log().read(0, 10))).containsExactly("single", "a", "b", "c", "after");
    assertThat(log().read(0, 10)).extracting(LogRecord::offset).containsExactly(0L, 1L, 2L, 3L, 4L);
  }

  @Test
  public void appendAllOfNothingReturnsNextOffsetAndWritesNothing() {
    log().append(bytes("x"));
    assertThat(log().appendAll(List.of())).isEqualTo(1);
    assertThat(log().nextOffset()).isEqualTo(1);
    assertThat(log().read(0, 10)).hasSize(1);
  }

  @Test
  public void emptyPayloadIsARecord() {
    assertThat(log().append(new byte[0])).isZero();
    List<LogRecord> read = log().read(0, 1);
    assertThat(read).hasSize(1);
    assertThat(read.get(0).payload()).isEmpty();
  }

  @Test
  public void payloadsAreCopied() {
    byte[] p = bytes("payload");
    log().append(p);
    p[0] = 'X';
    LogRecord r = log().read(0, 1).get(0);
    assertThat(r.payload()).isEqualTo(bytes("payload"));
    r.payload()[0] = 'Y';
    assertThat(log().read(0, 1).get(0).payload()).isEqualTo(bytes("payload"));
  }

  @Test
  public void readIsBoundedByMaxRecordsAndStartsAtFrom() {
    appendNumbered(10);
    assertThat(log().read(0, 3)).extracting(LogRecord::offset).containsExactly(0L, 1L, 2L);
    assertThat(log().read(4, 2)).extracting(LogRecord::offset).containsExactly(4L, 5L);
    assertThat(log().read(8, 100)).extracting(LogRecord::offset).containsExactly(8L, 9L);
    assertThat(log().read(9, 1)).extracting(LogRecord::offset).containsExactly(9L);
    assertThat(log().read(10, 5)).as("at the end").isEmpty();
    assertThat(log().read(1_000, 5)).as("past the end").isEmpty();
  }

  @Test
  public void pagedReplayReturnsEveryRecordOnceInOrder() {
    long first = log().appendAll(numbered(0, 500));
    assertThat(first).isZero();
    appendNumbered(500, 1000);
    long next = log().firstOffset();
    int seen = 0;
    while (true) {
      List<LogRecord> page = log().read(next, 64);
      if (page.isEmpty()) {
        break;
      }
      assertThat(page.size()).isLessThanOrEqualTo(64);
      for (LogRecord r : page) {
        assertThat(r.offset()).isEqualTo(next);
        assertThat(r.payload()).isEqualTo(bytes("n" + next));
        next++;
        seen++;
      }
    }
    assertThat(seen).isEqualTo(1000);
    assertThat(next).isEqualTo(log().nextOffset());
  }

  @Test
  public void maxRecordsMustBePositive() {
    appendNumbered(3);
    assertThatThrownBy(() -> log().read(0, 0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> log().read(0, -1)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  public void nullPayloadsAreRejectedBeforeWriting() {
    assertThatThrownBy(() -> log().append(null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> log().appendAll(null)).isInstanceOf(NullPointerException.class);
    List<byte[]> withNull = new ArrayList<>();
    withNull.add(bytes("ok"));
    withNull.add(null);
    assertThatThrownBy(() -> log().appendAll(withNull)).isInstanceOf(NullPointerException.class);
    assertThat(log().nextOffset()).as("nothing may be appended").isZero();
    assertThat(log().read(0, 10)).isEmpty();
  }

  @Test
  public void truncateBeforeDiscardsOlderRecordsAndReportsHowMany() {
    appendNumbered(10);
    assertThat(log().truncateBefore(4)).isEqualTo(4);
    assertThat(log().firstOffset()).isEqualTo(4);
    assertThat(log().nextOffset()).isEqualTo(10);
    assertThat(log().read(0, 100)).extracting(LogRecord::offset).startsWith(4L).hasSize(6);
    assertThat(log().read(2, 1)).extracting(LogRecord::offset).containsExactly(4L);
    assertThat(log().read(4, 1).get(0).payload()).isEqualTo(bytes("n4"));
    assertThat(log().truncateBefore(4)).as("again at the same offset").isZero();
    assertThat(log().truncateBefore(2)).as("below the first offset").isZero();
    assertThat(log().firstOffset()).isEqualTo(4);
  }

  @Test
  public void offsetsAreNotReusedAfterTruncation() {
    appendNumbered(5);
    log().truncateBefore(3);
    assertThat(log().append(bytes("n5"))).isEqualTo(5);
    assertThat(log().appendAll(List.of(bytes("n6"), bytes("n7")))).isEqualTo(6);
    assertThat(log().read(0, 100))
        .extracting(LogRecord::offset)
        .containsExactly(3L, 4L, 5L, 6L, 7L);
  }

  @Test
  public void truncateBeyondTheEndClampsToNextOffset() {
    appendNumbered(6);
    assertThat(log().truncateBefore(1_000)).isEqualTo(6);
    assertThat(log().firstOffset()).isEqualTo(6);
    assertThat(log().nextOffset()).isEqualTo(6);
    assertThat(log().read(0, 10)).isEmpty();
    assertThat(log().append(bytes("n6"))).as("offsets continue, never reused").isEqualTo(6);
    assertThat(log().firstOffset()).isEqualTo(6);
    assertThat(log().read(0, 10)).extracting(LogRecord::offset).containsExactly(6L);
  }

  @Test
  public void truncatingAnEmptyLogRemovesNothing() {
    assertThat(log().truncateBefore(10)).isZero();
    assertThat(log().firstOffset()).isZero();
    assertThat(log().nextOffset()).isZero();
    assertThat(log().append(bytes("x"))).isZero();
  }

  @Test
  public void logsAreIndependent() {
    LogStore a = backend().log("tck-a");
    LogStore b = backend().log("tck-b");
    a.append(bytes("a0"));
    a.append(bytes("a1"));
    assertThat(b.append(bytes("b0"))).isZero();
    assertThat(payloads(a.read(0, 10))).containsExactly("a0", "a1");
    assertThat(payloads(b.read(0, 10))).containsExactly("b0");
    assertThat(backend().log("tck-a").nextOffset()).isEqualTo(2);
  }

  @Test
  public void invalidLogNamesAreRejected() {
    assertThatThrownBy(() -> backend().log("bad/name"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> backend().log("")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> backend().log(null)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  public void largePayloadRoundTrips() {
    byte[] big = new byte[1 << 20];
    random().nextBytes(big);
    assertThat(log().append(big)).isZero();
    assertThat(log().read(0, 1).get(0).payload()).isEqualTo(big);
  }

  @Test
  public void everyOperationThrowsBackendClosedAfterClose() {
    LogStore log = log();
    log.append(bytes("x"));
    backend().close();
    assertThatThrownBy(() -> log.append(bytes("y"))).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> log.appendAll(List.of(bytes("y"))))
        .isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> log.read(0, 10)).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(log::firstOffset).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(log::nextOffset).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> log.truncateBefore(1)).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> backend().log("tck-other")).isInstanceOf(BackendClosedException.class);
  }

  // ---- helpers ----

  /** Appends records {@code n0..n(count-1)} one by one. */
  protected void appendNumbered(int count) {
    appendNumbered(0, count);
  }

  /** Appends records {@code n<from>..n<to-1>} one by one, checking each offset. */
  protected void appendNumbered(int from, int to) {
    for (int i = from; i < to; i++) {
      assertThat(log().append(bytes("n" + i))).isEqualTo(i);
    }
  }

  /** Payloads {@code n<from>..n<to-1>}. */
  protected static List<byte[]> numbered(int from, int to) {
    List<byte[]> out = new ArrayList<>();
    for (int i = from; i < to; i++) {
      out.add(bytes("n" + i));
    }
    return out;
  }

  /** Payloads as UTF-8 strings. */
  protected static List<String> payloads(List<LogRecord> records) {
    List<String> out = new ArrayList<>();
    for (LogRecord r : records) {
      out.add(new String(r.payload(), java.nio.charset.StandardCharsets.UTF_8));
    }
    return out;
  }
}
