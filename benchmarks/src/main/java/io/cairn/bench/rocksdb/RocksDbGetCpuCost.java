package io.cairn.bench.rocksdb;

/**
 * A diagnostic, not a JMH benchmark: {@link RocksDbPutCpuCost}'s twin for gets. The calling
 * thread's CPU time per get of a present key, Cairn's RocksDB backend beside raw rocksdbjni ({@link
 * RawRocks}), in interleaved rounds in one JVM (the order of the targets rotates every round), so a
 * load that steals the CPU slows both sides alike and thread CPU time does not count the time a
 * thread waits for the CPU. {@code durability = none}, 16-byte keys over 100,000 preloaded keys
 * read in a pseudo-random order, 100-byte values, as {@link RocksDbThreadsBenchmark#get}.
 *
 * <pre>
 * flock /tmp/bench.lock java -cp benchmarks/target/benchmarks.jar \
 *   io.cairn.bench.rocksdb.RocksDbGetCpuCost 30 50000 cairn raw
 * </pre>
 *
 * Arguments: rounds (the first fifth are warm-up, not reported), gets per target per round, targets
 * ({@code cairn}: the backend through its provider; {@code cairn-registry}: through the registry
 * with its per-operation timer; {@code raw}). It runs {@link RocksDbPutCpuCost}'s measurement for
 * gets; both use only classes every benchmarks jar since main 3b92ff8 has, so they can run against
 * an older jar with both compiled classes ahead of it ({@code -cp probe-dir:OLD.jar}). Prints per
 * target the median and quartiles of the rounds' CPU ns per get, and the median over rounds of each
 * Cairn target's ratio to raw in the same round.
 */
public final class RocksDbGetCpuCost {
  private RocksDbGetCpuCost() {}

  public static void main(String[] args) {
    RocksDbPutCpuCost.run("get", args);
  }
}
