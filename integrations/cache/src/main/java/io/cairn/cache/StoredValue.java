package io.cairn.cache;

import io.cairn.persistence.Codec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collection;

/**
 * The bytes a persistent tier stores for one cache entry: the entry's tags, each with the tag's
 * generation in that tier when the entry was written, then the value codec's bytes.
 *
 * <pre>
 *   magic    2 bytes  0xCA 0x7A
 *   count    1 byte   number of tags (0-{@value #MAX_TAGS})
 *   per tag  2 bytes  UTF-8 length n (1-{@value #MAX_TAG_BYTES}), n bytes UTF-8, 8 bytes generation
 *   value    the rest: the value codec's bytes
 * </pre>
 *
 * An entry is live in a tier only while every one of its tags still has the generation recorded
 * here in that tier's tag table ({@link TagTable}): {@code invalidateTag} moves the generation, so
 * the entries carrying the tag turn invisible at once in every tier, across restarts, without a
 * scan. Bytes that do not parse (an older format, or damage the store's own checksum did not catch)
 * make {@link #decode} throw {@link IllegalArgumentException}; the cache then drops that entry and
 * treats it as a miss (a cache entry can always be loaded again).
 *
 * <p>A decoded entry keeps the bytes it was read from and the value's offset in them: the value is
 * decoded in place ({@link #decodeValue}, no copy on a tier hit) and an untagged entry copied into
 * another tier is written as it was read ({@link #encode} returns those bytes).
 */
final class StoredValue {
  static final int MAX_TAGS = 32;
  static final int MAX_TAG_BYTES = 256;
  private static final byte M0 = (byte) 0xCA;
  private static final byte M1 = (byte) 0x7A;

  /** Bytes before the value of an untagged entry: the marker and a tag count of 0. */
  private static final int UNTAGGED_HEADER = 3;

  static final String[] NO_TAGS = new String[0];
  private static final long[] NO_GENERATIONS = new long[0];

  private final String[] tags; // the entry's tags (empty: none)
  private final long[] generations; // each tag's generation at write time, same order
  private final byte[] bytes; // the value is bytes[offset..]
  private final int offset;

  /** An entry to write: {@code value} is the value codec's bytes (not copied). */
  StoredValue(String[] tags, long[] generations, byte[] value) {
    this(tags, generations, value, 0);
  }

  private StoredValue(String[] tags, long[] generations, byte[] bytes, int offset) {
    this.tags = tags;
    this.generations = generations;
    this.bytes = bytes;
    this.offset = offset;
  }

  String[] tags() {
    return tags;
  }

  long[] generations() {
    return generations;
  }

  /** Length of the value codec's bytes. */
  int valueLength() {
    return bytes.length - offset;
  }

  /** The value codec's bytes (a copy when they sit inside the stored form). */
  byte[] value() {
    return offset == 0 ? bytes : Arrays.copyOfRange(bytes, offset, bytes.length);
  }

  /** The value, decoded in place by {@code codec}. */
  <V> V decodeValue(Codec<V> codec) {
    return codec.decode(bytes, offset, bytes.length - offset);
  }

  /** Checks caller-supplied tags; returns them as an array (empty for none). */
  static String[] checkTags(Collection<String> tags) {
    if (tags == null || tags.isEmpty()) {
      return NO_TAGS;
    }
    if (tags.size() > MAX_TAGS) {
      throw new IllegalArgumentException(
          "an entry can carry at most " + MAX_TAGS + " tags, got " + tags.size());
    }
    String[] out = tags.stream().distinct().toArray(String[]::new);
    for (String t : out) {
      if (t == null || t.isEmpty()) {
        throw new IllegalArgumentException("a tag must be a non-empty string, got " + tags);
      }
      if (t.getBytes(StandardCharsets.UTF_8).length > MAX_TAG_BYTES) {
        throw new IllegalArgumentException(
            "tag '" + t.substring(0, 32) + "...' is longer than " + MAX_TAG_BYTES + " UTF-8 bytes");
      }
    }
    return out;
  }

  /**
   * The stored form. An untagged entry that was read from a tier is returned as read (the same
   * array, not a copy: a store never keeps or changes the arrays it is given).
   */
  byte[] encode() {
    if (tags.length == 0 && offset == UNTAGGED_HEADER) {
      return bytes;
    }
    int n = valueLength();
    byte[][] names = new byte[tags.length][];
    int size = 3 + n;
    for (int i = 0; i < tags.length; i++) {
      names[i] = tags[i].getBytes(StandardCharsets.UTF_8);
      size += 2 + names[i].length + 8;
    }
    ByteBuffer b = ByteBuffer.allocate(size);
    b.put(M0).put(M1).put((byte) tags.length);
    for (int i = 0; i < tags.length; i++) {
      b.putShort((short) names[i].length).put(names[i]).putLong(generations[i]);
    }
    b.put(bytes, offset, n);
    return b.array();
  }

  /** Parses stored bytes; throws {@link IllegalArgumentException} if they are not this format. */
  static StoredValue decode(byte[] bytes) {
    if (bytes.length < 3 || bytes[0] != M0 || bytes[1] != M1) {
      throw new IllegalArgumentException("not a cache entry (no format marker)");
    }
    int count = bytes[2] & 0xFF;
    if (count == 0) {
      // the common case, on every tier hit: no copy, no buffer or tag arrays
      return new StoredValue(NO_TAGS, NO_GENERATIONS, bytes, UNTAGGED_HEADER);
    }
    if (count > MAX_TAGS) {
      throw new IllegalArgumentException("cache entry claims " + count + " tags");
    }
    ByteBuffer b = ByteBuffer.wrap(bytes, 3, bytes.length - 3);
    String[] tags = count == 0 ? NO_TAGS : new String[count];
    long[] gens = new long[count];
    try {
      for (int i = 0; i < count; i++) {
        int n = b.getShort() & 0xFFFF;
        if (n == 0 || n > MAX_TAG_BYTES) {
          throw new IllegalArgumentException("cache entry has a tag of " + n + " bytes");
        }
        byte[] name = new byte[n];
        b.get(name);
        tags[i] = new String(name, StandardCharsets.UTF_8);
        gens[i] = b.getLong();
      }
    } catch (java.nio.BufferUnderflowException e) {
      throw new IllegalArgumentException("cache entry truncated in its tags", e);
    }
    return new StoredValue(tags, gens, bytes, b.position());
  }

  /** Encoded size of an untagged value of {@code n} bytes. */
  static int untaggedSize(int n) {
    return 3 + n;
  }
}
