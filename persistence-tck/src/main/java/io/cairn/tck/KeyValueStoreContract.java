package io.cairn.tck;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.cairn.persistence.BackendClosedException;
import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.VersionConflictException;
import io.cairn.persistence.spi.Bytes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Contract of {@link KeyValueStore}: versions, compare-and-set, TTL on the backend's clock,
 * unsigned ordering, bounded and prefix scans, atomic batches, argument checks and use after close.
 * Extend and implement {@link #backendConfig()}.
 */
public abstract class KeyValueStoreContract extends ContractSupport {
  private static final Duration TEN_SECONDS = Duration.ofSeconds(10);

  /** The namespace most tests use. */
  protected KeyValueStore kv() {
    return backend().keyValue("tck-kv");
  }

  // ---- reads and versions ----

  @Test
  public void absentKeyReadsAsNullAndEmpty() {
    assertThat(kv().get(bytes("missing"))).isNull();
    assertThat(kv().getEntry(bytes("missing"))).isEmpty();
  }

  @Test
  public void putThenGetReturnsValueAndAPositiveVersion() {
    long v = kv().put(bytes("a"), bytes("1"));
    assertThat(v).isPositive();
    assertThat(kv().get(bytes("a"))).isEqualTo(bytes("1"));
    Entry e = kv().getEntry(bytes("a")).orElseThrow();
    assertThat(e.key()).isEqualTo(bytes("a"));
    assertThat(e.value()).isEqualTo(bytes("1"));
    assertThat(e.version()).isEqualTo(v);
    assertThat(e.expiresAtMillis()).isZero();
  }

  @Test
  public void everyWriteReturnsAStrictlyGreaterVersion() {
    long previous = 0;
    for (int i = 0; i < 50; i++) {
      long v = kv().put(bytes("k"), bytes("v" + i));
      assertThat(v).as("version of write %d", i).isGreaterThan(previous);
      assertThat(kv().getEntry(bytes("k")).orElseThrow().version()).isEqualTo(v);
      previous = v;
    }
    assertThat(kv().get(bytes("k"))).isEqualTo(bytes("v49"));
  }

  @Test
  public void emptyValueIsAValue() {
    kv().put(bytes("empty"), new byte[0]);
    assertThat(kv().get(bytes("empty"))).isNotNull().isEmpty();
    assertThat(kv().getEntry(bytes("empty"))).isPresent();
  }

  @Test
  public void storeCopiesArraysInAndOut() {
    byte[] key = bytes("key");
    byte[] value = bytes("value");
    kv().put(key, value);
    key[0] = 'X';
    value[0] = 'X';
    assertThat(kv().get(bytes("key"))).isEqualTo(bytes("value"));
    byte[] read = kv().get(bytes("key"));
    read[0] = 'Y';
    assertThat(kv().get(bytes("key"))).isEqualTo(bytes("value"));
  }

  @Test
  public void namespacesAreIndependent() {
    KeyValueStore a = backend().keyValue("tck-a");
    KeyValueStore b = backend().keyValue("tck-b");
    a.put(bytes("k"), bytes("in-a"));
    assertThat(b.get(bytes("k"))).isNull();
    assertThat(b.put(bytes("k"), bytes("in-b"))).isPositive();
    assertThat(a.get(bytes("k"))).isEqualTo(bytes("in-a"));
    assertThat(a.name()).isEqualTo("tck-a");
    assertThat(backend().keyValue("tck-a").get(bytes("k"))).isEqualTo(bytes("in-a"));
  }

  @Test
  public void largestKeyIsAccepted() {
    byte[] key = new byte[KeyValueStore.MAX_KEY_BYTES];
    Arrays.fill(key, (byte) 0xAB);
    kv().put(key, bytes("big key"));
    assertThat(kv().get(key)).isEqualTo(bytes("big key"));
  }

  // ---- delete ----

  @Test
  public void deleteRemovesAndReportsWhetherSomethingLiveWasThere() {
    kv().put(bytes("d"), bytes("1"));
    kv().put(bytes("d"), bytes("2"));
    assertThat(kv().delete(bytes("d"))).isTrue();
    assertThat(kv().get(bytes("d"))).isNull();
    assertThat(kv().delete(bytes("d"))).isFalse();
    assertThat(kv().delete(bytes("never"))).isFalse();
  }

  @Test
  public void deletedKeyHasVersionZeroAndCanBeCreatedAgain() {
    kv().put(bytes("r"), bytes("1"));
    kv().put(bytes("r"), bytes("2"));
    kv().delete(bytes("r"));
    assertThat(versionOf(kv().getEntry(bytes("r")))).isZero();
    long v = kv().compareAndSet(bytes("r"), 0, bytes("3"), null);
    assertThat(v).isPositive();
    assertThat(kv().getEntry(bytes("r")).orElseThrow().version()).isEqualTo(v);
  }

  @Test
  public void compareAndDeleteChecksTheVersion() {
    long v = kv().put(bytes("cd"), bytes("1"));
    VersionConflictException conflict =
        catchThrowableOfType(
            VersionConflictException.class, () -> kv().compareAndDelete(bytes("cd"), v + 7));
    assertThat(conflict).isNotNull();
    assertThat(conflict.expectedVersion()).isEqualTo(v + 7);
    assertThat(conflict.actualVersion()).isEqualTo(v);
    assertThat(kv().get(bytes("cd"))).isEqualTo(bytes("1"));

    kv().compareAndDelete(bytes("cd"), v);
    assertThat(kv().get(bytes("cd"))).isNull();
  }

  @Test
  public void compareAndDeleteOfAbsentKeyConflicts() {
    VersionConflictException conflict =
        catchThrowableOfType(
            VersionConflictException.class, () -> kv().compareAndDelete(bytes("none"), 0));
    assertThat(conflict).isNotNull();
    assertThat(conflict.actualVersion()).isZero();
    assertThatThrownBy(() -> kv().compareAndDelete(bytes("none"), 3))
        .isInstanceOf(VersionConflictException.class);
    assertThat(kv().get(bytes("none"))).isNull();
  }

  // ---- compare-and-set ----

  @Test
  public void compareAndSetWithZeroCreatesAnAbsentKey() {
    long v = kv().compareAndSet(bytes("c"), 0, bytes("first"), null);
    assertThat(v).isPositive();
    assertThat(kv().get(bytes("c"))).isEqualTo(bytes("first"));
  }

  @Test
  public void compareAndSetWithCurrentVersionReplaces() {
    long v1 = kv().put(bytes("c"), bytes("1"));
    long v2 = kv().compareAndSet(bytes("c"), v1, bytes("2"), null);
    assertThat(v2).isGreaterThan(v1);
    assertThat(kv().getEntry(bytes("c")).orElseThrow().version()).isEqualTo(v2);
    assertThat(kv().get(bytes("c"))).isEqualTo(bytes("2"));
  }

  @Test
  public void compareAndSetConflictCarriesActualVersionAndWritesNothing() {
    long v1 = kv().put(bytes("c"), bytes("1"));
    long v2 = kv().put(bytes("c"), bytes("2"));

    VersionConflictException stale =
        catchThrowableOfType(
            VersionConflictException.class,
            () -> kv().compareAndSet(bytes("c"), v1, bytes("stale"), null));
    assertThat(stale).as("CAS with a stale version must conflict").isNotNull();
    assertThat(stale.expectedVersion()).isEqualTo(v1);
    assertThat(stale.actualVersion()).isEqualTo(v2);

    VersionConflictException exists =
        catchThrowableOfType(
            VersionConflictException.class,
            () -> kv().compareAndSet(bytes("c"), 0, bytes("create"), null));
    assertThat(exists).as("CAS expecting absence on a live key must conflict").isNotNull();
    assertThat(exists.actualVersion()).isEqualTo(v2);

    VersionConflictException future =
        catchThrowableOfType(
            VersionConflictException.class,
            () -> kv().compareAndSet(bytes("c"), v2 + 100, bytes("future"), null));
    assertThat(future).isNotNull();
    assertThat(future.actualVersion()).isEqualTo(v2);

    Entry e = kv().getEntry(bytes("c")).orElseThrow();
    assertThat(e.value()).isEqualTo(bytes("2"));
    assertThat(e.version()).isEqualTo(v2);
  }

  @Test
  public void compareAndSetOnAbsentKeyWithNonZeroVersionConflictsWithActualZero() {
    VersionConflictException conflict =
        catchThrowableOfType(
            VersionConflictException.class,
            () -> kv().compareAndSet(bytes("nope"), 1, bytes("x"), null));
    assertThat(conflict).isNotNull();
    assertThat(conflict.actualVersion()).isZero();
    assertThat(kv().get(bytes("nope"))).isNull();
  }

  @Test
  public void compareAndSetCanSetATtl() {
    kv().compareAndSet(bytes("ct"), 0, bytes("x"), TEN_SECONDS);
    assertThat(kv().getEntry(bytes("ct")).orElseThrow().expiresAtMillis())
        .isEqualTo(clock().millis() + TEN_SECONDS.toMillis());
    clock().advance(TEN_SECONDS.plusMillis(1));
    assertThat(kv().get(bytes("ct"))).isNull();
  }

  // ---- TTL ----

  @Test
  public void ttlEntryIsVisibleBeforeExpiryAndInvisibleAtOnceAfter() {
    long start = clock().millis();
    kv().put(bytes("t"), bytes("v"), TEN_SECONDS);
    assertThat(kv().getEntry(bytes("t")).orElseThrow().expiresAtMillis())
        .isEqualTo(start + TEN_SECONDS.toMillis());

    clock().advance(TEN_SECONDS.minusMillis(1));
    assertThat(kv().get(bytes("t"))).isEqualTo(bytes("v"));

    clock().advance(Duration.ofMillis(2));
    assertThat(kv().get(bytes("t"))).as("expired entry must be invisible at once").isNull();
    assertThat(kv().getEntry(bytes("t"))).isEmpty();
    assertThat(scanAll(kv())).isEmpty();
    assertThat(kv().delete(bytes("t")))
        .as("deleting an expired entry removes nothing live")
        .isFalse();
  }

  @Test
  public void expiredKeysAreHiddenFromScansAmongLiveOnes() {
    kv().put(bytes("a"), bytes("live"));
    kv().put(bytes("b"), bytes("short"), Duration.ofSeconds(1));
    kv().put(bytes("c"), bytes("long"), Duration.ofHours(1));
    clock().advance(Duration.ofSeconds(2));
    assertThat(keysOf(scanAll(kv()))).containsExactly("a", "c");
    assertThat(keysOf(drain(kv().scanPrefix(bytes("b"))))).isEmpty();
  }

  @Test
  public void compareAndSetTreatsExpiredKeyAsAbsent() {
    long v = kv().put(bytes("e"), bytes("old"), TEN_SECONDS);
    clock().advance(TEN_SECONDS.plusSeconds(1));

    VersionConflictException conflict =
        catchThrowableOfType(
            VersionConflictException.class,
            () -> kv().compareAndSet(bytes("e"), v, bytes("stale"), null));
    assertThat(conflict).as("CAS on the expired version must conflict").isNotNull();
    assertThat(conflict.actualVersion()).isZero();

    assertThat(kv().compareAndSet(bytes("e"), 0, bytes("new"), null)).isPositive();
    Entry e = kv().getEntry(bytes("e")).orElseThrow();
    assertThat(e.value()).isEqualTo(bytes("new"));
    assertThat(e.expiresAtMillis()).isZero();
  }

  @Test
  public void putAfterExpiryCreatesAFreshEntry() {
    kv().put(bytes("e"), bytes("1"), TEN_SECONDS);
    kv().put(bytes("e"), bytes("2"), TEN_SECONDS);
    clock().advance(Duration.ofMinutes(1));
    assertThat(versionOf(kv().getEntry(bytes("e")))).isZero();
    long v = kv().put(bytes("e"), bytes("3"));
    assertThat(v).isPositive();
    assertThat(kv().getEntry(bytes("e")).orElseThrow().expiresAtMillis()).isZero();
  }

  @Test
  public void writeWithoutTtlClearsEarlierTtl() {
    kv().put(bytes("t"), bytes("1"), TEN_SECONDS);
    kv().put(bytes("t"), bytes("2"));
    assertThat(kv().getEntry(bytes("t")).orElseThrow().expiresAtMillis()).isZero();
    clock().advance(Duration.ofDays(1));
    assertThat(kv().get(bytes("t"))).isEqualTo(bytes("2"));
  }

  @Test
  public void ttlMustBePositive() {
    assertThatThrownBy(() -> kv().put(bytes("t"), bytes("v"), Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> kv().put(bytes("t"), bytes("v"), Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> kv().compareAndSet(bytes("t"), 0, bytes("v"), Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> kv().put(bytes("t"), bytes("v"), KeyValueStore.MAX_TTL.plusDays(1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(kv().get(bytes("t"))).isNull();
  }

  /**
   * The one rule for a {@code null} TTL: "no expiry", the same on the store's {@code put}, its
   * {@code compareAndSet} and the transaction view's {@code put} and {@code compareAndSet}.
   */
  @Test
  public void aNullTtlMeansNoExpiryEverywhere() {
    kv().put(bytes("a"), bytes("1"), TEN_SECONDS);
    assertThat(kv().put(bytes("a"), bytes("2"), null)).isPositive();
    long v = kv().getEntry(bytes("b")).map(e -> e.version()).orElse(0L);
    kv().compareAndSet(bytes("b"), v, bytes("3"), null);
    backend()
        .inTransaction(
            tx -> {
              tx.keyValue(kv().name()).put(bytes("c"), bytes("4"), null);
              tx.keyValue(kv().name()).compareAndSet(bytes("d"), 0, bytes("5"), null);
              return null;
            });
    for (String k : new String[] {"a", "b", "c", "d"}) {
      assertThat(kv().getEntry(bytes(k)).orElseThrow().expiresAtMillis())
          .as("expiry of %s written with a null TTL", k)
          .isZero();
    }
    clock().advance(Duration.ofDays(365));
    assertThat(kv().get(bytes("a"))).isEqualTo(bytes("2"));
    assertThat(kv().get(bytes("d"))).isEqualTo(bytes("5"));
  }

  @Test
  public void purgeExpiredRemovesOnlyExpiredEntries() {
    for (int i = 0; i < 30; i++) {
      kv().put(bytes("exp-" + i), bytes("x"), Duration.ofSeconds(5));
    }
    for (int i = 0; i < 10; i++) {
      kv().put(bytes("live-" + i), bytes("y"));
    }
    kv().put(bytes("later"), bytes("z"), Duration.ofHours(1));
    assertThat(kv().purgeExpired()).as("nothing has expired yet").isZero();

    clock().advance(Duration.ofSeconds(6));
    assertThat(kv().purgeExpired()).isEqualTo(30);
    assertThat(kv().purgeExpired()).isZero();
    assertThat(kv().approximateCount()).isEqualTo(11);
    assertThat(scanAll(kv())).hasSize(11);
    assertThat(kv().get(bytes("later"))).isEqualTo(bytes("z"));
  }

  // ---- ordering and scans ----

  @Test
  public void scanOrdersKeysByUnsignedBytes() {
    List<byte[]> keys =
        List.of(
            raw(0xFF),
            raw(0x80),
            raw(0x00),
            raw(0x7F),
            raw(0x01),
            raw(0x80, 0x00),
            raw(0x7F, 0xFF),
            raw(0xFF, 0xFF),
            raw(0x00, 0x00),
            raw(0xC3, 0xA9));
    for (byte[] k : keys) {
      kv().put(k, k);
    }
    List<Entry> scanned = scanAll(kv());
    List<String> order = new ArrayList<>();
    for (Entry e : scanned) {
      order.add(Bytes.toDisplay(e.key()));
      assertThat(e.value()).isEqualTo(e.key());
    }
    assertThat(order)
        .containsExactly(
            "0x00", "0x0000", "0x01", "0x7f", "0x7fff", "0x80", "0x8000", "0xc3a9", "0xff",
            "0xffff");
  }

  @Test
  public void scanHonoursBoundsInclusiveFromExclusiveTo() {
    for (String k : List.of("a", "b", "c", "d", "e")) {
      kv().put(bytes(k), bytes(k.toUpperCase()));
    }
    assertThat(keysOf(drain(kv().scan(bytes("b"), bytes("d"))))).containsExactly("b", "c");
    assertThat(keysOf(drain(kv().scan(null, bytes("c"))))).containsExactly("a", "b");
    assertThat(keysOf(drain(kv().scan(bytes("c"), null)))).containsExactly("c", "d", "e");
    assertThat(keysOf(drain(kv().scan(bytes("bb"), bytes("dd"))))).containsExactly("c", "d");
    assertThat(keysOf(drain(kv().scan(bytes("d"), bytes("d"))))).isEmpty();
    assertThat(keysOf(drain(kv().scan(bytes("e"), bytes("a"))))).isEmpty();
    assertThat(keysOf(drain(kv().scan(bytes("f"), null)))).isEmpty();
  }

  @Test
  public void scanBoundsUseUnsignedOrder() {
    kv().put(raw(0x10), bytes("low"));
    kv().put(raw(0x90), bytes("high"));
    kv().put(raw(0xF0), bytes("top"));
    List<Entry> fromHigh = drain(kv().scan(raw(0x80), null));
    assertThat(fromHigh).extracting(e -> Bytes.toDisplay(e.key())).containsExactly("0x90", "0xf0");
    List<Entry> belowHigh = drain(kv().scan(null, raw(0x80)));
    assertThat(belowHigh).extracting(e -> Bytes.toDisplay(e.key())).containsExactly("0x10");
  }

  @Test
  public void scanReturnsEntriesWithVersions() {
    kv().put(bytes("v"), bytes("1"));
    long v2 = kv().put(bytes("v"), bytes("2"));
    List<Entry> all = scanAll(kv());
    assertThat(all).hasSize(1);
    assertThat(all.get(0).version()).isEqualTo(v2);
    assertThat(all.get(0).value()).isEqualTo(bytes("2"));
  }

  @Test
  public void scanPrefixReturnsExactlyTheKeysWithThePrefix() {
    for (String k : List.of("ab", "abc", "abd", "ac", "a", "b", "ab\u00ff")) {
      kv().put(bytes(k), bytes("x"));
    }
    assertThat(keysOf(drain(kv().scanPrefix(bytes("ab")))))
        .containsExactly("ab", "abc", "abd", "ab\u00ff");
    assertThat(keysOf(drain(kv().scanPrefix(bytes("zz"))))).isEmpty();
  }

  @Test
  public void scanPrefixOfAllFfBytesIsUnboundedAbove() {
    kv().put(raw(0xFE), bytes("no"));
    kv().put(raw(0xFF), bytes("yes"));
    kv().put(raw(0xFF, 0x00), bytes("yes"));
    kv().put(raw(0xFF, 0xFF, 0xFF), bytes("yes"));
    List<Entry> hits = drain(kv().scanPrefix(raw(0xFF)));
    assertThat(hits)
        .extracting(e -> Bytes.toDisplay(e.key()))
        .containsExactly("0xff", "0xff00", "0xffffff");
  }

  @Test
  public void scanCanBeClosedEarlyAndStreamsManyEntries() {
    int n = 2_000;
    List<KeyValue> batch = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      batch.add(new KeyValue(bytes(String.format("k%05d", i)), bytes("v" + i)));
    }
    kv().putAll(batch);
    try (CloseableIterator<Entry> it = kv().scan(null, null)) {
      for (int i = 0; i < 10; i++) {
        assertThat(it.next().key()).isEqualTo(bytes(String.format("k%05d", i)));
      }
    }
    int count = 0;
    String previous = "";
    try (CloseableIterator<Entry> it = kv().scan(null, null)) {
      while (it.hasNext()) {
        String k = new String(it.next().key(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(k).isGreaterThan(previous);
        previous = k;
        count++;
      }
    }
    assertThat(count).isEqualTo(n);
  }

  @Test
  public void nextPastTheEndThrowsNoSuchElement() {
    kv().put(bytes("only"), bytes("x"));
    try (CloseableIterator<Entry> it = kv().scan(null, null)) {
      it.next();
      assertThat(it.hasNext()).isFalse();
      assertThatThrownBy(it::next).isInstanceOf(java.util.NoSuchElementException.class);
    }
  }

  // ---- batches ----

  @Test
  public void putAllWritesEveryEntryAndLaterDuplicateWins() {
    kv().put(bytes("x"), bytes("old"));
    long vx = kv().getEntry(bytes("x")).orElseThrow().version();
    kv().putAll(
            List.of(
                new KeyValue(bytes("x"), bytes("new")),
                new KeyValue(bytes("y"), bytes("first")),
                new KeyValue(bytes("z"), bytes("z")),
                new KeyValue(bytes("y"), bytes("second"))));
    assertThat(kv().get(bytes("x"))).isEqualTo(bytes("new"));
    assertThat(kv().getEntry(bytes("x")).orElseThrow().version()).isGreaterThan(vx);
    assertThat(kv().get(bytes("y"))).isEqualTo(bytes("second"));
    assertThat(kv().getEntry(bytes("y")).orElseThrow().version()).isPositive();
    assertThat(kv().get(bytes("z"))).isEqualTo(bytes("z"));
    assertThat(kv().getEntry(bytes("z")).orElseThrow().version()).isPositive();
    assertThat(keysOf(scanAll(kv()))).containsExactly("x", "y", "z");
  }

  @Test
  public void putAllClearsTtl() {
    kv().put(bytes("t"), bytes("1"), TEN_SECONDS);
    kv().putAll(List.of(new KeyValue(bytes("t"), bytes("2"))));
    clock().advance(Duration.ofHours(1));
    assertThat(kv().get(bytes("t"))).isEqualTo(bytes("2"));
  }

  @Test
  public void putAllOfNothingIsFine() {
    kv().putAll(List.of());
    assertThat(scanAll(kv())).isEmpty();
  }

  @Test
  public void putAllWithOneBadEntryWritesNothing() {
    kv().put(bytes("keep"), bytes("original"));
    List<KeyValue> bad =
        List.of(
            new KeyValue(bytes("keep"), bytes("changed")),
            new KeyValue(bytes("new"), bytes("x")),
            new KeyValue(new byte[0], bytes("empty key")));
    assertThatThrownBy(() -> kv().putAll(bad)).isInstanceOf(IllegalArgumentException.class);
    List<KeyValue> tooLong =
        List.of(
            new KeyValue(bytes("new"), bytes("x")),
            new KeyValue(new byte[KeyValueStore.MAX_KEY_BYTES + 1], bytes("long key")));
    assertThatThrownBy(() -> kv().putAll(tooLong)).isInstanceOf(IllegalArgumentException.class);
    List<KeyValue> withNull = new ArrayList<>();
    withNull.add(new KeyValue(bytes("new"), bytes("x")));
    withNull.add(null);
    assertThatThrownBy(() -> kv().putAll(withNull)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> kv().putAll(null)).isInstanceOf(NullPointerException.class);

    assertThat(kv().get(bytes("keep"))).isEqualTo(bytes("original"));
    assertThat(kv().get(bytes("new"))).isNull();
    assertThat(keysOf(scanAll(kv()))).containsExactly("keep");
  }

  // ---- argument checks ----

  @Test
  public void badArgumentsThrowBeforeWriting() {
    assertThatThrownBy(() -> kv().put(null, bytes("v"))).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> kv().put(bytes("k"), null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> kv().put(new byte[0], bytes("v")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> kv().put(new byte[KeyValueStore.MAX_KEY_BYTES + 1], bytes("v")))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> kv().get(null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> kv().getEntry(new byte[0]))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> kv().delete(null)).isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> kv().compareAndSet(null, 0, bytes("v"), null))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> kv().compareAndSet(bytes("k"), 0, null, null))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> kv().compareAndSet(bytes("k"), -1, bytes("v"), null))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(scanAll(kv())).as("no bad call may write anything").isEmpty();
  }

  @Test
  public void oversizedValueIsRejectedBeforeWriting() {
    byte[] huge = new byte[KeyValueStore.MAX_VALUE_BYTES + 1];
    assertThatThrownBy(() -> kv().put(bytes("big"), huge))
        .isInstanceOf(IllegalArgumentException.class);
    assertThat(kv().get(bytes("big"))).isNull();
  }

  @Test
  public void invalidNamespaceNamesAreRejected() {
    assertThatThrownBy(() -> backend().keyValue("")).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> backend().keyValue("has space"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> backend().keyValue("-leading"))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> backend().keyValue("x".repeat(129)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> backend().keyValue(null)).isInstanceOf(IllegalArgumentException.class);
    assertThat(backend().keyValue("ok.name_1-2").name()).isEqualTo("ok.name_1-2");
  }

  // ---- close ----

  @Test
  public void everyOperationThrowsBackendClosedAfterClose() {
    KeyValueStore store = kv();
    store.put(bytes("a"), bytes("1"));
    store.put(bytes("b"), bytes("2"));
    CloseableIterator<Entry> open = store.scan(null, null);
    backend().close();

    assertThatThrownBy(() -> store.get(bytes("a"))).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> store.getEntry(bytes("a"))).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> store.put(bytes("a"), bytes("x")))
        .isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> store.put(bytes("a"), bytes("x"), TEN_SECONDS))
        .isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> store.compareAndSet(bytes("a"), 1, bytes("x"), null))
        .isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> store.delete(bytes("a"))).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> store.compareAndDelete(bytes("a"), 1))
        .isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> store.putAll(List.of(new KeyValue(bytes("c"), bytes("3")))))
        .isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> drain(store.scan(null, null)))
        .isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(store::purgeExpired).isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> drain(open))
        .as("an iterator opened before close")
        .isInstanceOf(BackendClosedException.class);
    assertThatThrownBy(() -> backend().keyValue("tck-other"))
        .isInstanceOf(BackendClosedException.class);
  }

  // ---- helpers ----

  /** All live entries of {@code store}, in scan order. */
  protected static List<Entry> scanAll(KeyValueStore store) {
    return drain(store.scan(null, null));
  }

  /** Reads {@code it} to the end and closes it. */
  protected static List<Entry> drain(CloseableIterator<Entry> it) {
    try (it) {
      List<Entry> out = new ArrayList<>();
      while (it.hasNext()) {
        out.add(it.next());
      }
      return out;
    }
  }

  /** Keys as UTF-8 strings (for readable assertions). */
  protected static List<String> keysOf(List<Entry> entries) {
    List<String> out = new ArrayList<>();
    for (Entry e : entries) {
      out.add(new String(e.key(), java.nio.charset.StandardCharsets.UTF_8));
    }
    return out;
  }

  /** Convenience for tests that need the entry's version or nothing. */
  protected static long versionOf(Optional<Entry> e) {
    return e.map(Entry::version).orElse(0L);
  }
}
