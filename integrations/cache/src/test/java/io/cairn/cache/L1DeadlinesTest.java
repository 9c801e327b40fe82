package io.cairn.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link L1Deadlines}: earliest expiry, due records, stale records bounded. */
class L1DeadlinesTest {

  @Test
  void nextIsTheEarliestExpiryAndPollTakesOnlyDueRecords() {
    L1Deadlines<String> d = new L1Deadlines<>();
    Map<String, Object> l1 = new HashMap<>();
    assertThat(d.next()).isEqualTo(Long.MAX_VALUE);
    Object a = new Object();
    Object b = new Object();
    l1.put("a", a);
    l1.put("b", b);
    d.add("b", b, 200, l1.size(), l1::get);
    d.add("a", a, 100, l1.size(), l1::get);
    assertThat(d.next()).isEqualTo(100);
    List<L1Deadlines.Due<String>> due = d.pollDue(150);
    assertThat(due).extracting(L1Deadlines.Due::key).containsExactly("a");
    assertThat(due.get(0).matches(a)).isTrue();
    assertThat(due.get(0).matches(b)).isFalse();
    assertThat(d.next()).as("unchanged until updateNext").isEqualTo(100);
    d.updateNext();
    assertThat(d.next()).isEqualTo(200);
    d.clear();
    assertThat(d.next()).isEqualTo(Long.MAX_VALUE);
    assertThat(d.size()).isZero();
  }

  @Test
  void staleRecordsAreDroppedOnceTheyOutnumberLiveOnes() {
    L1Deadlines<String> d = new L1Deadlines<>();
    Map<String, Object> l1 = new HashMap<>();
    int live = 10;
    for (int i = 0; i < 20_000; i++) {
      String key = "k" + (i % 50);
      Object v = new Object();
      l1.put(key, v); // replaces: the key's previous record is now stale
      while (l1.size() > live) {
        l1.remove(l1.keySet().iterator().next()); // "evicted": its records are stale
      }
      d.add(key, v, 1_000 + i, l1.size(), l1::get);
      assertThat(d.size()).isLessThanOrEqualTo(2 * live + L1Deadlines.SLACK + 1);
    }
    // every live copy still has its record
    List<L1Deadlines.Due<String>> all = d.pollDue(Long.MAX_VALUE - 1);
    for (Map.Entry<String, Object> e : l1.entrySet()) {
      assertThat(all).anyMatch(r -> r.key().equals(e.getKey()) && r.matches(e.getValue()));
    }
  }
}
