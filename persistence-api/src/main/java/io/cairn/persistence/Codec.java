package io.cairn.persistence;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.Function;

/**
 * Turns typed values into bytes and back. Implementations must be thread-safe and deterministic:
 * equal values encode to equal bytes. A codec used for keys should preserve the order callers
 * expect from {@link KeyValueStore#scan}: {@link #int64()} does, and {@link #utf8()} sorts strings
 * by Unicode code point.
 *
 * <p>{@link #decode} throws {@link StoreCorruptedException} (or {@link IllegalArgumentException}
 * for encode) when bytes cannot be decoded; it never returns a half-decoded value.
 */
public interface Codec<T> {
  byte[] encode(T value);

  T decode(byte[] bytes);

  /**
   * Decodes {@code length} bytes of {@code bytes} from {@code offset}, for a caller whose encoded
   * value sits inside a larger array (a stored record with a header): a codec that can read in
   * place overrides this to spare the copy ({@link #utf8()} does). The default copies the range
   * (unless it is the whole array) and calls {@link #decode(byte[])}.
   *
   * @throws IndexOutOfBoundsException if the range is not inside {@code bytes}
   */
  default T decode(byte[] bytes, int offset, int length) {
    Objects.checkFromIndexSize(offset, length, bytes.length);
    return decode(
        offset == 0 && length == bytes.length
            ? bytes
            : Arrays.copyOfRange(bytes, offset, offset + length));
  }

  /** Identity codec. Arrays are passed through, not copied. */
  static Codec<byte[]> bytes() {
    return of(b -> b, b -> b);
  }

  /** UTF-8 strings; {@link #decode(byte[], int, int)} reads in place. */
  static Codec<String> utf8() {
    return new Codec<>() {
      @Override
      public byte[] encode(String value) {
        return Objects.requireNonNull(value, "value").getBytes(StandardCharsets.UTF_8);
      }

      @Override
      public String decode(byte[] bytes) {
        return new String(bytes, StandardCharsets.UTF_8);
      }

      @Override
      public String decode(byte[] bytes, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, bytes.length);
        return new String(bytes, offset, length, StandardCharsets.UTF_8);
      }
    };
  }

  /**
   * 64-bit integers as 8 bytes, big-endian with the sign bit flipped, so unsigned byte order equals
   * numeric order (negative numbers sort first).
   */
  static Codec<Long> int64() {
    return of(
        v -> ByteBuffer.allocate(8).putLong(v ^ Long.MIN_VALUE).array(),
        b -> {
          if (b.length != 8) {
            throw new StoreCorruptedException(
                "Cannot decode a 64-bit integer from " + b.length + " bytes (expected 8)");
          }
          return ByteBuffer.wrap(b).getLong() ^ Long.MIN_VALUE;
        });
  }

  /** A codec from two functions. */
  static <T> Codec<T> of(Function<T, byte[]> encoder, Function<byte[], T> decoder) {
    Objects.requireNonNull(encoder, "encoder");
    Objects.requireNonNull(decoder, "decoder");
    return new Codec<>() {
      @Override
      public byte[] encode(T value) {
        return encoder.apply(Objects.requireNonNull(value, "value"));
      }

      @Override
      public T decode(byte[] bytes) {
        return decoder.apply(bytes);
      }
    };
  }
}
