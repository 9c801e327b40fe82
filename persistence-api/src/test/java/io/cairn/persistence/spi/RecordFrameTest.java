package io.cairn.persistence.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.StoreCorruptedException;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.function.Function;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.Test;

/**
 * The frame's checksum is an on-disk format: a store that holds its encoded prefix ({@link
 * RecordFrame.Store}) must write and accept exactly the bytes the layout in {@link RecordFrame}'s
 * comment describes, as every record written before did.
 */
class RecordFrameTest {
  private static final Function<byte[], String> WHERE = k -> "key " + new String(k);
  private final RecordFrame frame = new RecordFrame("b", false); // the engine has no checksums
  private final StoreId id = new StoreId(StoreKind.KEY_VALUE, "nämespace"); // not ASCII: UTF-8
  private final byte[] key = "k1".getBytes(StandardCharsets.UTF_8);
  private final byte[] body = {1, 2, 3, 4, 5};

  @Test
  void aStoresPrefixFramesTheBytesTheLayoutDescribes() {
    byte[] framed = write(RecordFrame.Store.of(id));

    assertThat(framed).isEqualTo(write(id)).isEqualTo(byLayout());
    assertThat(opened(frame.open(RecordFrame.KV, RecordFrame.Store.of(id), key, framed, WHERE)))
        .isEqualTo(opened(frame.open(RecordFrame.KV, id, key, framed, WHERE)))
        .isEqualTo(body);
  }

  @Test
  void aRecordCopiedToAnotherStoreFailsItsChecksum() {
    byte[] framed = write(RecordFrame.Store.of(id));
    RecordFrame.Store other = RecordFrame.Store.of(new StoreId(StoreKind.KEY_VALUE, "nämespacf"));
    RecordFrame.Store log = RecordFrame.Store.of(new StoreId(StoreKind.LOG, id.name()));

    for (RecordFrame.Store s : new RecordFrame.Store[] {other, log}) {
      assertThatThrownBy(() -> frame.open(RecordFrame.KV, s, key, framed, WHERE))
          .isInstanceOf(StoreCorruptedException.class)
          .hasMessageContaining("key k1")
          .hasMessageContaining("fails its CRC-32C");
    }
  }

  private static byte[] opened(ByteBuffer body) {
    byte[] out = new byte[body.remaining()];
    body.get(out);
    return out;
  }

  private byte[] write(RecordFrame.Store store) {
    ByteBuffer b = frame.begin(RecordFrame.KV, body.length).put(body);
    return frame.end(b, store, key);
  }

  private byte[] write(StoreId store) {
    ByteBuffer b = frame.begin(RecordFrame.KV, body.length).put(body);
    return frame.end(b, store, key);
  }

  /** Tag, flags (CRC), body, CRC-32C over kind, name, 0, key length (2 bytes), key, tag..body. */
  private byte[] byLayout() {
    byte[] head = new byte[2 + body.length];
    head[0] = RecordFrame.KV;
    head[1] = 1;
    System.arraycopy(body, 0, head, 2, body.length);
    CRC32C c = new CRC32C();
    c.update(id.kind().ordinal());
    c.update(id.name().getBytes(StandardCharsets.UTF_8));
    c.update(0);
    c.update(key.length >>> 8);
    c.update(key.length);
    c.update(key);
    c.update(head);
    byte[] out = Arrays.copyOf(head, head.length + 4);
    ByteBuffer.wrap(out, head.length, 4).putInt((int) c.getValue());
    return out;
  }
}
