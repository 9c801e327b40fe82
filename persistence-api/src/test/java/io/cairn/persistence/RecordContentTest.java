package io.cairn.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** {@link Entry}, {@link KeyValue} and {@link LogRecord}: equality by content, no bytes in text. */
class RecordContentTest {
  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void entriesAreEqualByContent() {
    Entry a = new Entry(b("key"), b("value"), 3, 0);
    Entry same = new Entry(b("key"), b("value"), 3, 0);
    assertThat(a).isEqualTo(same).hasSameHashCodeAs(same);
    assertThat(a).isNotEqualTo(new Entry(b("key"), b("other"), 3, 0));
    assertThat(a).isNotEqualTo(new Entry(b("kex"), b("value"), 3, 0));
    assertThat(a).isNotEqualTo(new Entry(b("key"), b("value"), 4, 0));
    assertThat(a).isNotEqualTo(new Entry(b("key"), b("value"), 3, 1));
    assertThat(a).isNotEqualTo(null).isNotEqualTo("key");
  }

  @Test
  void keyValuesAndLogRecordsAreEqualByContent() {
    assertThat(new KeyValue(b("k"), b("v")))
        .isEqualTo(new KeyValue(b("k"), b("v")))
        .hasSameHashCodeAs(new KeyValue(b("k"), b("v")))
        .isNotEqualTo(new KeyValue(b("k"), b("w")));
    assertThat(new LogRecord(7, b("p")))
        .isEqualTo(new LogRecord(7, b("p")))
        .hasSameHashCodeAs(new LogRecord(7, b("p")))
        .isNotEqualTo(new LogRecord(8, b("p")))
        .isNotEqualTo(new LogRecord(7, b("q")));
  }

  @Test
  void appendTimeIsMetadataOutsideEqualityAndMinusOneMeansNotRecorded() {
    LogRecord timed = new LogRecord(7, b("p"), 1000);
    assertThat(timed).isEqualTo(new LogRecord(7, b("p"), 2000)).isEqualTo(new LogRecord(7, b("p")));
    assertThat(timed.hashCode()).isEqualTo(new LogRecord(7, b("p")).hashCode());
    assertThat(timed.appendedAtMillis()).isEqualTo(1000);
    assertThat(timed.hasAppendTime()).isTrue();
    assertThat(new LogRecord(7, b("p")).appendedAtMillis()).isEqualTo(LogRecord.NOT_RECORDED);
    assertThat(new LogRecord(7, b("p")).hasAppendTime()).isFalse();
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> new LogRecord(7, b("p"), -2))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("-2");
  }

  @Test
  void toStringShowsSizesNeverBytes() {
    String secretKey = "customer-4711";
    String secret = "card=4111111111111111";
    String e = new Entry(b(secretKey), b(secret), 2, 99).toString();
    String kv = new KeyValue(b(secretKey), b(secret)).toString();
    String r = new LogRecord(5, b(secret)).toString();
    assertThat(e).isEqualTo("Entry[key=13 bytes, value=21 bytes, version=2, expiresAtMillis=99]");
    assertThat(kv).isEqualTo("KeyValue[key=13 bytes, value=21 bytes]");
    assertThat(r).isEqualTo("LogRecord[offset=5, payload=21 bytes, appendedAt=not recorded]");
    assertThat(new LogRecord(5, b(secret), 1234).toString())
        .isEqualTo("LogRecord[offset=5, payload=21 bytes, appendedAt=1234]");
    for (String s : new String[] {e, kv, r}) {
      assertThat(s).doesNotContain(secret).doesNotContain(secretKey).doesNotContain("4111");
    }
  }
}
