package io.cairn.cache;

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
 * @param tags the entry's tags (empty: none)
 * @param generations each tag's generation at write time, same order
 * @param value the value codec's bytes
 */
record StoredValue(String[] tags, long[] generations, byte[] value) {
  static final int MAX_TAGS = 32;
  static final int MAX_TAG_BYTES = 256;
  private static final byte M0 = (byte) 0xCA;
  private static final byte M1 = (byte) 0x7A;
  static final String[] NO_TAGS = new String[0];
  private static final long[] NO_GENERATIONS = new long[0];

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

  byte[] encode() {
    byte[][] names = new byte[tags.length][];
    int size = 3 + value.length;
    for (int i = 0; i < tags.length; i++) {
      names[i] = tags[i].getBytes(StandardCharsets.UTF_8);
      size += 2 + names[i].length + 8;
    }
    ByteBuffer b = ByteBuffer.allocate(size);
    b.put(M0).put(M1).put((byte) tags.length);
    for (int i = 0; i < tags.length; i++) {
      b.putShort((short) names[i].length).put(names[i]).putLong(generations[i]);
    }
    b.put(value);
    return b.array();
  }

  /** Parses stored bytes; throws {@link IllegalArgumentException} if they are not this format. */
  static StoredValue decode(byte[] bytes) {
    if (bytes.length < 3 || bytes[0] != M0 || bytes[1] != M1) {
      throw new IllegalArgumentException("not a cache entry (no format marker)");
    }
    int count = bytes[2] & 0xFF;
    if (count == 0) {
      // the common case, on every tier hit: one copy, no buffer or tag arrays
      return new StoredValue(NO_TAGS, NO_GENERATIONS, Arrays.copyOfRange(bytes, 3, bytes.length));
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
    byte[] value = new byte[b.remaining()];
    b.get(value);
    return new StoredValue(tags, gens, value);
  }

  /** Encoded size of an untagged value of {@code n} bytes. */
  static int untaggedSize(int n) {
    return 3 + n;
  }
}
