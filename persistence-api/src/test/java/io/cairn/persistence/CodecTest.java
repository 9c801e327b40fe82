package io.cairn.persistence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link Codec#decode(byte[], int, int)}: a value decoded from inside a larger array. */
class CodecTest {
  private static final byte[] FRAMED = "##héllo!".getBytes(StandardCharsets.UTF_8);
  private static final int AT = 2;
  private static final int LENGTH = FRAMED.length - AT - 1; // "héllo" (6 UTF-8 bytes)

  @Test
  void utf8DecodesARangeInPlace() {
    assertThat(Codec.utf8().decode(FRAMED, AT, LENGTH)).isEqualTo("héllo");
    assertThat(Codec.utf8().decode(FRAMED, 0, 0)).isEmpty();
    assertThat(Codec.utf8().decode(FRAMED)).isEqualTo("##héllo!");
  }

  /** A codec that overrides only decode(byte[]) is handed exactly the range (a copy). */
  @Test
  void theDefaultHandsTheRangeToDecode() {
    List<byte[]> seen = new ArrayList<>();
    Codec<String> c =
        Codec.of(
            s -> s.getBytes(StandardCharsets.UTF_8),
            b -> {
              seen.add(b);
              return new String(b, StandardCharsets.UTF_8);
            });
    assertThat(c.decode(FRAMED, AT, LENGTH)).isEqualTo("héllo");
    assertThat(seen.get(0)).hasSize(LENGTH);
    assertThat(c.decode(FRAMED, 0, FRAMED.length)).isEqualTo("##héllo!");
    assertThat(seen.get(1)).as("the whole array is not copied").isSameAs(FRAMED);
    assertThat(Codec.bytes().decode(FRAMED, AT, LENGTH))
        .isEqualTo("héllo".getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void aRangeOutsideTheArrayThrows() {
    for (Codec<?> c : List.of(Codec.utf8(), Codec.bytes())) {
      assertThatThrownBy(() -> c.decode(FRAMED, AT, FRAMED.length))
          .isInstanceOf(IndexOutOfBoundsException.class);
      assertThatThrownBy(() -> c.decode(FRAMED, -1, 1))
          .isInstanceOf(IndexOutOfBoundsException.class);
    }
  }
}
