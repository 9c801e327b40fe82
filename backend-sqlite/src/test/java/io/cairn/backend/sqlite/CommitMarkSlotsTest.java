package io.cairn.backend.sqlite;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StoreCorruptedException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commit mark's two slots ({@link WalGuard}, format 2): a slot torn by a kill during its copy
 * leaves the other, one commit older, in charge; both damaged is a damaged mark; an earlier Cairn's
 * one-slot format 1 is still read, and rewritten as format 2 by the next open.
 */
class CommitMarkSlotsTest {
  private static final String SETTINGS =
      "durability = full, sweeper-interval = 0s, wal-autocheckpoint-pages = 100000";
  private static final int SLOT = 64;

  @TempDir Path live;
  @TempDir Path image;

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private Path mark() {
    return image.resolve("cairn.db-mark");
  }

  /** Puts acknowledged at full, then the files copied as a kill would leave them. */
  private void crashImage(int writes) throws Exception {
    try (PersistenceRegistry r = TestBackends.open(live, SETTINGS)) {
      KeyValueStore kv = r.backend("main").keyValue("data");
      for (int i = 0; i < writes; i++) {
        kv.put(b("key-" + i), b("value-" + i));
      }
      try (Stream<Path> files = Files.list(live)) {
        for (Path f : files.toList()) {
          String n = f.getFileName().toString();
          if (n.startsWith("cairn.db")) {
            Files.copy(f, image.resolve(n));
          }
        }
      }
    }
  }

  private static int sequence(byte[] mark, int slot) {
    return ByteBuffer.wrap(mark).getInt(slot + 44);
  }

  private static WalGuard.Mark read(Path file, List<String> notes) throws Exception {
    return WalGuard.readMark(file, notes);
  }

  @Test
  void theSlotsAlternateAndTheHigherSequenceIsCurrent() throws Exception {
    crashImage(40);
    byte[] m = Files.readAllBytes(mark());
    assertThat(m).hasSize(2 * SLOT);
    int first = sequence(m, 0);
    int second = sequence(m, SLOT);
    assertThat(Math.abs(first - second)).as("consecutive writes go to the two slots").isEqualTo(1);
    WalGuard.Mark current = read(mark(), new ArrayList<>());
    assertThat(current.sequence()).isEqualTo(Math.max(first, second));
    assertThat(current.mxFrame()).isGreaterThan(0);
    assertThat(current.clean()).isFalse();
  }

  @Test
  void aSlotTornByAKillLeavesTheOtherInCharge() throws Exception {
    crashImage(40);
    byte[] m = Files.readAllBytes(mark());
    WalGuard.Mark before = read(mark(), new ArrayList<>());
    int torn = sequence(m, 0) > sequence(m, SLOT) ? 0 : SLOT;
    // a copy interrupted half way: the slot's second half still holds zeros
    java.util.Arrays.fill(m, torn + 24, torn + SLOT, (byte) 0);
    Files.write(mark(), m);
    List<String> notes = new ArrayList<>();
    WalGuard.Mark after = read(mark(), notes);
    assertThat(notes).as("one torn slot is not a damaged mark").isEmpty();
    assertThat(after.sequence()).isEqualTo(before.sequence() - 1);
    assertThat(after.mxFrame()).isLessThan(before.mxFrame()).isGreaterThan(0);
    // the older slot still knows of committed frames: a deleted WAL is refused
    Files.delete(image.resolve("cairn.db-wal"));
    assertThatThrownBy(() -> TestBackends.open(image, SETTINGS))
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("is missing")
        .hasMessageContaining("not yet copied into cairn.db");
  }

  @Test
  void bothSlotsDamagedIsADamagedMarkAndTheFramesDecide() throws Exception {
    crashImage(10);
    byte[] m = Files.readAllBytes(mark());
    m[SLOT / 2] ^= 1;
    m[SLOT + SLOT / 2] ^= 1;
    Files.write(mark(), m);
    List<String> notes = new ArrayList<>();
    assertThat(read(mark(), notes)).isNull();
    assertThat(notes).singleElement().asString().contains("is damaged");
    try (PersistenceRegistry r = TestBackends.open(image, SETTINGS)) {
      assertThat(r.backend("main").keyValue("data").get(b("key-9"))).isEqualTo(b("value-9"));
    }
    // the clean close wrote a valid slot again
    assertThat(read(mark(), new ArrayList<>())).isNotNull();
  }

  /** The 48 bytes an earlier Cairn wrote for {@code m} (format 1). */
  private static byte[] formatOne(WalGuard.Mark m) {
    ByteBuffer buf = ByteBuffer.allocate(48);
    buf.put(b("CRNM")).putInt(1).put(m.salts()).putInt((int) m.mxFrame());
    buf.putInt((int) m.nBackfill()).put(m.bootId()).putInt(m.clean() ? 1 : 0);
    CRC32C crc = new CRC32C();
    crc.update(buf.array(), 0, 44);
    buf.putInt((int) crc.getValue());
    return buf.array();
  }

  @Test
  void anEarlierFormatOneMarkIsStillReadAndItsCommitsProtected() throws Exception {
    crashImage(40);
    WalGuard.Mark current = read(mark(), new ArrayList<>());
    Files.write(mark(), formatOne(current));
    WalGuard.Mark one = read(mark(), new ArrayList<>());
    assertThat(one.mxFrame()).isEqualTo(current.mxFrame());
    assertThat(one.salts()).isEqualTo(current.salts());
    Files.delete(image.resolve("cairn.db-wal"));
    assertThatThrownBy(() -> TestBackends.open(image, SETTINGS))
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("not yet copied into cairn.db");
  }

  @Test
  void anOpenRewritesAFormatOneMarkAsFormatTwoBeforeTheFirstCommit() throws Exception {
    crashImage(40);
    WalGuard.Mark current = read(mark(), new ArrayList<>());
    Files.write(mark(), formatOne(current));
    try (PersistenceRegistry r = TestBackends.open(image, SETTINGS)) {
      // opened, nothing written yet: format 2 already, slot 0 holding the format-1 content
      byte[] m = Files.readAllBytes(mark());
      assertThat(m).hasSize(2 * SLOT);
      assertThat(ByteBuffer.wrap(m).getInt(4)).isEqualTo(2);
      WalGuard.Mark converted = read(mark(), new ArrayList<>());
      assertThat(converted.mxFrame()).isEqualTo(current.mxFrame());
      assertThat(converted.salts()).isEqualTo(current.salts());
      assertThat(r.backend("main").keyValue("data").get(b("key-39"))).isEqualTo(b("value-39"));
      r.backend("main").keyValue("data").put(b("after"), b("a"));
    }
    WalGuard.Mark closed = read(mark(), new ArrayList<>());
    assertThat(closed.clean()).isTrue();
    assertThat(closed.sequence()).isGreaterThan(0);
  }
}
