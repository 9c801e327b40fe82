package io.cairn.persistence.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.StoreCorruptedException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The canonical associated data and the one sealing point. */
class AssociatedDataTest {
  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void everyPlaceGetsItsOwnBytes() {
    List<byte[]> all =
        List.of(
            AssociatedData.forValue("b", "ns", b("k")),
            AssociatedData.forValue("b", "ns", b("k2")),
            AssociatedData.forValue("b", "ns2", b("k")),
            AssociatedData.forValue("c", "ns", b("k")),
            // no concatenation ambiguity: "ab"+"c" vs "a"+"bc"
            AssociatedData.forValue("ab", "c", b("k")),
            AssociatedData.forValue("a", "bc", b("k")),
            AssociatedData.forLogRecord("b", "ns", 0),
            AssociatedData.forLogRecord("b", "ns", 1),
            AssociatedData.forSnapshotChunk("b", "ns", 0, 0),
            AssociatedData.forSnapshotChunk("b", "ns", 0, 1),
            AssociatedData.forSnapshotChunk("b", "ns", 1, 0));
    Set<ByteBuffer> distinct = new HashSet<>();
    all.forEach(a -> distinct.add(ByteBuffer.wrap(a)));
    assertThat(distinct).hasSize(all.size());
    assertThat(AssociatedData.forValue("b", "ns", b("k")))
        .isEqualTo(AssociatedData.forValue("b", "ns", b("k")));
  }

  @Test
  void layoutVersionOneIsStable() {
    // a changed layout would make every encrypted store unreadable: pin the bytes
    assertThat(AssociatedData.forLogRecord("b", "l", 258))
        .isEqualTo(
            new byte[] {
              'c', 'a', 'i', 'r', 'n', '-', 'a', 'd', 1, 'L', 0, 1, 'b', 0, 1, 'l', 0, 0, 0, 0, 0,
              0, 1, 2
            });
  }

  @Test
  void valueAndChunkLayoutsAreStable() {
    // the builder writes into an exactly sized array: pin every kind so a size slip shows
    assertThat(AssociatedData.forValue("b", "ns", new byte[] {7, 8}))
        .isEqualTo(
            new byte[] {
              'c', 'a', 'i', 'r', 'n', '-', 'a', 'd', 1, 'K', 0, 1, 'b', 0, 2, 'n', 's', 0, 0, 0, 2,
              7, 8
            });
    assertThat(AssociatedData.forSnapshotChunk("bé", "s", 1, 2))
        .isEqualTo(
            new byte[] {
              'c',
              'a',
              'i',
              'r',
              'n',
              '-',
              'a',
              'd',
              1,
              'S',
              0,
              3,
              'b',
              (byte) 0xc3,
              (byte) 0xa9,
              0,
              1,
              's',
              0,
              0,
              0,
              0,
              0,
              0,
              0,
              1,
              0,
              0,
              0,
              2
            });
  }

  @Test
  void aFailedOpenIsStoreCorruptedNamingPlaceWithoutPlaintextOrKey() {
    Encryption refusing =
        new Encryption() {
          @Override
          public byte[] seal(byte[] plaintext, byte[] associatedData) {
            return plaintext.clone();
          }

          @Override
          public byte[] open(byte[] sealed, byte[] associatedData) {
            throw new IllegalStateException("tag mismatch");
          }
        };
    Sealer sealer = Sealer.of("main", refusing);
    assertThatThrownBy(() -> sealer.openValue("users", b("alice-secret-key"), b("x")))
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("Backend 'main'")
        .hasMessageContaining("namespace 'users'")
        .hasMessageContaining(Bytes.REDACTED)
        .hasMessageNotContaining("alice");
    assertThatThrownBy(() -> sealer.openPayload("events", 42, b("x")))
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("offset 42 of log 'events'");
    assertThatThrownBy(() -> sealer.openChunk("state", 7, 3, b("x")))
        .isInstanceOf(StoreCorruptedException.class)
        .hasMessageContaining("chunk 3 of snapshot 7 of snapshot set 'state'");
  }

  @Test
  void withoutEncryptionSealCopiesAndOpenPassesThrough() {
    Sealer none = Sealer.of("m", Encryption.NONE);
    byte[] v = b("v");
    byte[] sealed = none.sealValue("ns", b("k"), v);
    assertThat(sealed).isEqualTo(v).isNotSameAs(v);
    assertThat(none.openValue("ns", b("k"), sealed)).isSameAs(sealed);
  }

  @Test
  void theSealerGivesTheLayoutsBytesWhateverStoreItSealedForBefore() {
    List<byte[]> seen = new java.util.ArrayList<>();
    Encryption recording =
        new Encryption() {
          @Override
          public byte[] seal(byte[] plaintext, byte[] associatedData) {
            seen.add(associatedData);
            return plaintext.clone();
          }

          @Override
          public byte[] open(byte[] sealed, byte[] associatedData) {
            seen.add(associatedData);
            return sealed.clone();
          }
        };
    Sealer sealer = Sealer.of("main", recording);
    for (String store : List.of("a", "b", "a", "a", "b")) {
      seen.clear();
      sealer.sealValue(store, b("k"), b("v"));
      sealer.openValue(store, b("k"), b("v"));
      sealer.sealPayload(store, 9, b("v"));
      sealer.openPayload(store, 9, b("v"));
      sealer.sealChunk(store, 3, 4, b("v"));
      sealer.openChunk(store, 3, 4, b("v"));
      byte[] value = AssociatedData.forValue("main", store, b("k"));
      byte[] log = AssociatedData.forLogRecord("main", store, 9);
      byte[] chunk = AssociatedData.forSnapshotChunk("main", store, 3, 4);
      assertThat(seen).containsExactly(value, value, log, log, chunk, chunk);
    }
  }
}
