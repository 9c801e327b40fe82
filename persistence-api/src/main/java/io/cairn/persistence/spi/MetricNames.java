package io.cairn.persistence.spi;

/**
 * Metric and health-check names that cannot collide. Every owner publishes under {@code
 * cairn.<collection>.<name>} — {@code cairn.backends.<backend>}, {@code cairn.queues.<queue>},
 * {@code cairn.caches.<cache>}, {@code cairn.route-tables.<table>}, the Raft groups' section — and
 * a backend's per-store metrics under {@code cairn.backends.<backend>.<kind>.<store>}. Names may
 * contain dots ({@code [A-Za-z0-9._-]}), which would let two owners reach one metric name (backend
 * {@code a} with per-store metrics for store {@code kv}, and backend {@code a.kv}, would share the
 * timer {@code cairn.backends.a.kv.kv.get}). So a name used as one element of a metric name has its
 * dots replaced by {@code ':'}, a character no backend, store or subsystem name may contain: the
 * mapping is one-to-one, and each element stays one element for reporters that split on dots. Names
 * without dots (the usual case) are unchanged.
 */
public final class MetricNames {
  private MetricNames() {}

  /** {@code name} as one element of a metric name: dots become {@code ':'}. */
  public static String element(String name) {
    return name.replace('.', ':');
  }
}
