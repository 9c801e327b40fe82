package io.cairn.routing;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The index's hash-probing longest-prefix search against a brute-force reference. */
class RouteIndexTest {
  private static final long SEED = 20261122L;

  @Test
  void probeKeysHashAndCompareLikeSubstrings() {
    Random random = new Random(SEED);
    for (int i = 0; i < 2000; i++) {
      String s = randomString(random, 12);
      int len = random.nextInt(s.length() + 1);
      String prefix = s.substring(0, len);
      RouteIndex.Key probe = new RouteIndex.Key(s, len, prefix.hashCode());
      assertThat(probe).as("seed %d", SEED).isEqualTo(RouteIndex.Key.of(prefix));
      assertThat(RouteIndex.Key.of(prefix)).isEqualTo(probe);
      assertThat(probe.hashCode()).isEqualTo(RouteIndex.Key.of(prefix).hashCode());
    }
  }

  @Test
  void longestPrefixMatchesBruteForceWithNonAsciiKeysAndRemovals() {
    Random random = new Random(SEED);
    RouteIndex index = new RouteIndex();
    Map<String, Route> reference = new HashMap<>();
    for (int round = 0; round < 3000; round++) {
      String key = randomString(random, 6);
      if (random.nextInt(4) == 0) {
        index.apply(key, null);
        reference.remove(key);
      } else {
        Route r = Route.of(key, "t" + round);
        index.apply(key, r);
        reference.put(key, r);
      }
      String query = randomString(random, 9);
      Route expected = null;
      for (Route r : reference.values()) {
        if (query.startsWith(r.key())
            && (expected == null || r.key().length() > expected.key().length())) {
          expected = r;
        }
      }
      assertThat(index.longestPrefix(query))
          .as("query %s, seed %d", query, SEED)
          .isEqualTo(expected);
      assertThat(index.get(key)).isEqualTo(reference.get(key));
    }
    assertThat(index.size()).isEqualTo(reference.size());
    assertThat(index.sorted()).containsExactlyInAnyOrderEntriesOf(reference);
  }

  private static String randomString(Random random, int maxLength) {
    String alphabet = "a/é\u4e2d\uD83D\uDE00";
    int n = random.nextInt(maxLength + 1);
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < n; i++) {
      sb.append(alphabet.charAt(random.nextInt(alphabet.length())));
    }
    return sb.toString();
  }
}
