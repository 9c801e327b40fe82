package io.cairn.persistence.spi;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.cairn.persistence.LogRecord;
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
 * The frame's checksum is an on-disk format: the frames written straight into an array ({@link
 * RecordFrame#entry}, {@link RecordFrame#logRecord}) and read by index ({@link
 * RecordFrame#bodyEnd}) must be exactly the bytes the layout in {@link RecordFrame}'s comment
 * describes, as written through {@link RecordFrame#begin} and every record written before.
 */
class RecordFrameTest {
  private static final Function<byte[], String> WHERE = k -> "key " + new String(k);
  private final RecordFrame frame = new RecordFrame("b", false); // the engine has no checksums
  private final StoreId id = new StoreId(StoreKind.KEY_VALUE, "nämespace"); // not ASCII: UTF-8
  private final byte[] key = "k1".getBytes(StandardCharsets.UTF_8);
  private final byte[] value = {1, 2, 3, 4, 5};

  @Test
  void anEntryFramesTheBytesTheLayoutDescribes() {
    byte[] framed = frame.entry(7, 9, value, RecordFrame.Store.of(id), key);
    byte[] body = ByteBuffer.allocate(16 + value.length).putLong(7).putLong(9).put(value).array();

    assertThat(framed).isEqualTo(throughBuffer(RecordFrame.KV, body, id)).isEqualTo(byLayout(body));
    int end = frame.bodyEnd(RecordFrame.KV, RecordFrame.Store.of(id), key, framed, WHERE);
    assertThat(RecordFrame.longAt(framed, RecordFrame.BODY)).isEqualTo(7);
    assertThat(RecordFrame.longAt(framed, RecordFrame.BODY + 8)).isEqualTo(9);
    assertThat(Arrays.copyOfRange(framed, RecordFrame.BODY + 16, end)).isEqualTo(value);
    assertThat(opened(frame.open(RecordFrame.KV, id, key, framed, WHERE))).isEqualTo(body);
  }

  @Test
  void aLogRecordIsFramedAsThroughABuffer() {
    StoreId log = new StoreId(StoreKind.LOG, "events");
    byte[] timedBody = ByteBuffer.allocate(8 + value.length).putLong(1234).put(value).array();

    assertThat(frame.logRecord(1234, value, log, key))
        .isEqualTo(throughBuffer(RecordFrame.LOG_TIMED, timedBody, log));
    assertThat(frame.logRecord(LogRecord.NOT_RECORDED, value, log, key))
        .isEqualTo(throughBuffer(RecordFrame.LOG, value, log));
  }

  @Test
  void aRecordCopiedToAnotherStoreFailsItsChecksum() {
    byte[] framed = frame.entry(7, 0, value, RecordFrame.Store.of(id), key);
    RecordFrame.Store other = RecordFrame.Store.of(new StoreId(StoreKind.KEY_VALUE, "nämespacf"));
    RecordFrame.Store log = RecordFrame.Store.of(new StoreId(StoreKind.LOG, id.name()));

    for (RecordFrame.Store s : new RecordFrame.Store[] {other, log}) {
      assertThatThrownBy(() -> frame.bodyEnd(RecordFrame.KV, s, key, framed, WHERE))
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

  private byte[] throughBuffer(byte tag, byte[] body, StoreId store) {
    ByteBuffer b = frame.begin(tag, body.length).put(body);
    return frame.end(b, store, key);
  }

  /** Tag, flags (CRC), body, CRC-32C over kind, name, 0, key length (2 bytes), key, tag..body. */
  private byte[] byLayout(byte[] body) {
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
