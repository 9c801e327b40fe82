package io.cairn.routing;

import java.math.BigInteger;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The in-memory lookup structure of a {@link RouteTable}: a {@link ConcurrentHashMap} from route
 * key to route for exact lookups, the same routes keyed by {@link Key} for prefix probes, and the
 * set of key lengths present. Single writer (the table's write lock), lock-free readers.
 *
 * <p>Longest-prefix resolution probes the map only with the prefixes of the query whose length is
 * the length of some stored key, longest first. To avoid building a substring per probe, a probe is
 * a {@link Key} view (string, length, hash) and the hash of each shorter prefix is derived from the
 * longer one: {@link String#hashCode()} is {@code h(n) = 31 * h(n-1) + c[n-1]} modulo 2^32, and 31
 * is odd and so invertible modulo 2^32, hence {@code h(n-1) = (h(n) - c[n-1]) * 31^-1}. A query
 * costs one pass over its characters plus one hash probe per distinct stored key length not longer
 * than it, until the first hit.
 */
final class RouteIndex {
  private static final int INV31 =
      BigInteger.valueOf(31).modInverse(BigInteger.ONE.shiftLeft(32)).intValue();

  /**
   * The first {@code len} characters of {@code s}, hashing like the equivalent {@link String}.
   * Stored keys use the whole string; probes use a prefix of the query.
   */
  static final class Key {
    final String s;
    final int len;
    final int hash;

    Key(String s, int len, int hash) {
      this.s = s;
      this.len = len;
      this.hash = hash;
    }

    static Key of(String s) {
      return new Key(s, s.length(), s.hashCode());
    }

    @Override
    public boolean equals(Object o) {
      if (!(o instanceof Key k) || k.len != len || k.hash != hash) {
        return false;
      }
      if (k.s == s) {
        return true;
      }
      // Whole strings (stored keys, exact lookups) compare with the String.equals intrinsic.
      return len == s.length() && len == k.s.length()
          ? s.equals(k.s)
          : s.regionMatches(0, k.s, 0, len);
    }

    @Override
    public int hashCode() {
      return hash;
    }

    @Override
    public String toString() {
      return s.substring(0, len);
    }
  }

  /** Immutable set of key lengths present, replaced when a length appears or disappears. */
  private static final class Lengths {
    final long[] bits;
    final int max;

    Lengths(long[] bits) {
      this.bits = bits;
      int m = -1;
      for (int i = bits.length - 1; i >= 0 && m < 0; i--) {
        if (bits[i] != 0) {
          m = i * 64 + 63 - Long.numberOfLeadingZeros(bits[i]);
        }
      }
      this.max = m;
    }

    boolean has(int len) {
      return (bits[len >>> 6] & (1L << len)) != 0;
    }
  }

  private final ConcurrentHashMap<Key, Route> map = new ConcurrentHashMap<>();
  // The same routes by plain String, so an exact lookup is one String-keyed probe, no allocation.
  private final ConcurrentHashMap<String, Route> exact = new ConcurrentHashMap<>();
  private final int[] countByLength = new int[Route.MAX_KEY_CHARS + 1]; // writer only
  private volatile Lengths lengths = new Lengths(new long[(Route.MAX_KEY_CHARS + 64) / 64]);

  /** The route stored under exactly {@code key}, or null. */
  Route get(String key) {
    return exact.get(key);
  }

  /** The route whose key is the longest prefix of {@code query}, or null. */
  Route longestPrefix(String query) {
    Lengths ls = lengths;
    int len = Math.min(query.length(), ls.max);
    if (len < 0) {
      return null;
    }
    int h = 0;
    for (int i = 0; i < len; i++) {
      h = 31 * h + query.charAt(i);
    }
    while (true) {
      if (ls.has(len)) {
        Route r = map.get(new Key(query, len, h));
        if (r != null) {
          return r;
        }
      }
      if (len == 0) {
        return null;
      }
      len--;
      h = (h - query.charAt(len)) * INV31;
    }
  }

  int size() {
    return map.size();
  }

  /** Stores or (with null) removes the route of {@code key}. Caller is the single writer. */
  void apply(String key, Route route) {
    Key k = Key.of(key);
    if (route == null) {
      exact.remove(key);
      if (map.remove(k) != null && --countByLength[key.length()] == 0) {
        flip(key.length(), false);
      }
    } else {
      // Prefix map first: a reader that finds a key by exact lookup finds it by prefix as well.
      boolean added = map.put(k, route) == null;
      exact.put(key, route);
      if (added && ++countByLength[key.length()] == 1) {
        flip(key.length(), true);
      }
    }
  }

  /** All routes sorted by key. Caller is the single writer (so the copy is of one version). */
  TreeMap<String, Route> sorted() {
    TreeMap<String, Route> out = new TreeMap<>();
    for (Map.Entry<Key, Route> e : map.entrySet()) {
      out.put(e.getKey().s, e.getValue());
    }
    return out;
  }

  private void flip(int len, boolean present) {
    long[] bits = lengths.bits.clone();
    if (present) {
      bits[len >>> 6] |= 1L << len;
    } else {
      bits[len >>> 6] &= ~(1L << len);
    }
    lengths = new Lengths(bits);
  }
}
