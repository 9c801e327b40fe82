package io.cairn.pekko;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StoreCorruptedException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The journal layout's rules, on both backends, without an actor system. */
class JournalStoreTest {
  @TempDir Path dir;

  private PersistenceRegistry open(String type) {
    return PersistenceRegistry.open(TestConfigs.plugins(type, dir, "normal"));
  }

  private static JournalStore.Event event(String pid, long seq, String payload) {
    return new JournalStore.Event(
        pid,
        seq,
        1000 + seq,
        "writer",
        "",
        List.of(),
        null,
        new Serde.Serialized(20, "m", payload.getBytes(StandardCharsets.UTF_8)));
  }

  private static List<String> payloads(JournalStore store, String pid, long from, long to) {
    List<String> out = new ArrayList<>();
    store.replay(
        pid,
        from,
        to,
        Long.MAX_VALUE,
        e -> out.add(e.seqNr() + ":" + new String(e.payload().bytes(), StandardCharsets.UTF_8)));
    return out;
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "rocksdb"})
  void aRepeatedSequenceNumberFailsTheWholeWriteAndOverwritesNothing(String type) {
    try (PersistenceRegistry r = open(type)) {
      JournalStore store = new JournalStore(r.backend("main"), "j");
      store.write(List.of(List.of(event("a", 1, "one"), event("a", 2, "two"))));
      // a second writer for "a" (or a stale one) writes 2 again, next to a good event of "b"
      assertThatThrownBy(
              () ->
                  store.write(
                      List.of(List.of(event("b", 1, "b-one")), List.of(event("a", 2, "TWO")))))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("persistenceId 'a', sequence number 2")
          .hasMessageContaining("highest already written (2)");
      assertThat(payloads(store, "a", 1, Long.MAX_VALUE)).containsExactly("1:one", "2:two");
      assertThat(payloads(store, "b", 1, Long.MAX_VALUE)).isEmpty(); // all or nothing
      assertThat(store.highest("b")).isZero();
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "rocksdb"})
  void highestSequenceNumberSurvivesDeletingEverythingAndARestart(String type) {
    try (PersistenceRegistry r = open(type)) {
      JournalStore store = new JournalStore(r.backend("main"), "j");
      for (long i = 1; i <= 2500; i += 100) { // more than one delete page
        List<JournalStore.Event> batch = new ArrayList<>();
        for (long s = i; s < i + 100; s++) {
          batch.add(event("p", s, "e" + s));
        }
        store.write(List.of(batch));
      }
      store.write(List.of(List.of(event("p-other", 1, "x")))); // a neighbour id is untouched
      store.deleteTo("p", 1200);
      assertThat(payloads(store, "p", 0, Long.MAX_VALUE))
          .hasSize(1300)
          .first()
          .isEqualTo("1201:e1201");
      store.deleteTo("p", Long.MAX_VALUE);
      assertThat(payloads(store, "p", 0, Long.MAX_VALUE)).isEmpty();
      assertThat(store.highest("p")).isEqualTo(2500);
      assertThat(payloads(store, "p-other", 0, Long.MAX_VALUE)).containsExactly("1:x");
    }
    try (PersistenceRegistry r = open(type)) {
      JournalStore store = new JournalStore(r.backend("main"), "j");
      assertThat(store.highest("p")).isEqualTo(2500);
      assertThat(store.persistenceIds(null, 10)).containsExactly("p", "p-other");
      assertThat(store.persistenceIds("p", 10)).containsExactly("p-other");
      assertThatThrownBy(() -> store.write(List.of(List.of(event("p", 2500, "again")))))
          .isInstanceOf(IllegalStateException.class);
      store.write(List.of(List.of(event("p", 2501, "next"))));
      assertThat(payloads(store, "p", 0, Long.MAX_VALUE)).containsExactly("2501:next");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "rocksdb"})
  void rangesAndLimitsFollowSequenceNumbersNotInsertionOrderOfIds(String type) {
    try (PersistenceRegistry r = open(type)) {
      JournalStore store = new JournalStore(r.backend("main"), "j");
      // "a" and "a\u0000..." share a byte prefix; the length prefix keeps their ranges apart
      store.write(List.of(List.of(event("a", 1, "a1"), event("a", 256, "a256"))));
      store.write(List.of(List.of(event("a\u0000\u0000", 1, "other"))));
      assertThat(payloads(store, "a", 1, Long.MAX_VALUE)).containsExactly("1:a1", "256:a256");
      assertThat(payloads(store, "a", 2, 256)).containsExactly("256:a256");
      assertThat(payloads(store, "a", 2, 255)).isEmpty();
      assertThat(store.read("a", 1, Long.MAX_VALUE, 1)).hasSize(1);
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite", "rocksdb"})
  void aDamagedRecordIsReportedWithWhereNotReturned(String type) {
    try (PersistenceRegistry r = open(type)) {
      JournalStore store = new JournalStore(r.backend("main"), "j");
      store.write(List.of(List.of(event("p", 1, "one"), event("p", 2, "two"))));
      byte[] key = Keys.seqKey(Keys.prefix(JournalStore.EVENT, Keys.pidBytes("p")), 2);
      byte[] good = r.backend("main").keyValue("j").get(key);
      byte[] truncated = java.util.Arrays.copyOf(good, good.length - 1);
      r.backend("main").keyValue("j").put(key, truncated);
      assertThatThrownBy(() -> payloads(store, "p", 1, Long.MAX_VALUE))
          .isInstanceOf(StoreCorruptedException.class)
          .hasMessageContaining("namespace 'j', persistenceId 'p', sequence number 2");
      byte[] newer = good.clone();
      newer[0] = 9;
      r.backend("main").keyValue("j").put(key, newer);
      assertThatThrownBy(() -> payloads(store, "p", 2, 2))
          .isInstanceOf(StoreCorruptedException.class)
          .hasMessageContaining("unknown record format 9");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite"})
  void negativeBoundsSelectNothing(String type) {
    try (PersistenceRegistry r = open(type)) {
      JournalStore store = new JournalStore(r.backend("main"), "j");
      store.write(List.of(List.of(event("p", 1, "one"), event("p", 2, "two"))));
      // big-endian -1 is 0xFF..FF: as an unsigned key bound it would span every sequence number
      assertThat(payloads(store, "p", -10, -2)).isEmpty();
      store.deleteTo("p", -2);
      assertThat(payloads(store, "p", 0, Long.MAX_VALUE)).containsExactly("1:one", "2:two");
    }
  }

  @ParameterizedTest
  @ValueSource(strings = {"sqlite"})
  void anOverlongPersistenceIdIsRejectedBeforeWriting(String type) {
    try (PersistenceRegistry r = open(type)) {
      JournalStore store = new JournalStore(r.backend("main"), "j");
      String pid = "x".repeat(Keys.MAX_PERSISTENCE_ID_BYTES + 1);
      assertThatThrownBy(() -> store.write(List.of(List.of(event(pid, 1, "one")))))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("persistenceId of 4086 UTF-8 bytes");
      String longest = "x".repeat(Keys.MAX_PERSISTENCE_ID_BYTES);
      store.write(List.of(List.of(event(longest, 1, "one"))));
      assertThat(payloads(store, longest, 1, 1)).containsExactly("1:one");
    }
  }
}
