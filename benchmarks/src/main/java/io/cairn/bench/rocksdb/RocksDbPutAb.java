package io.cairn.bench.rocksdb;

import java.lang.management.ManagementFactory;
import java.net.MalformedURLException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.function.BiConsumer;

/**
 * A diagnostic, not a JMH benchmark: two builds of Cairn's RocksDB put in one JVM, so a change to
 * the put path is compared without the 1.5-2x that separate JVMs differ by
 * (RESULTS-rocksdb-port.md, 2026-12-07). Each variant is the running classpath with its {@code
 * io.cairn} classes loaded by a class loader of its own (child-first for {@code io.cairn.*} only;
 * rocksdbjni, its native library and every other library are shared), variant {@code base} with
 * nothing ahead of them and each other variant with a directory of compiled classes ahead (e.g.
 * {@code backend-rocksdb/target/classes} of the changed tree). Both write identical records (same
 * sizes, same keys in the same order each round), so their memtables fill and flush in the same
 * rounds, which separate JVMs beside raw do not (a source of their per-round spread).
 *
 * <pre>
 * flock /tmp/bench.lock java -cp benchmarks/target/benchmarks.jar \
 *   io.cairn.bench.rocksdb.RocksDbPutAb 40 50000 /path/to/changed/classes [more dirs]
 * </pre>
 *
 * Arguments: rounds (the first fifth are warm-up, not reported), puts per variant per round, then
 * one class directory per variant besides {@code base}. The order of the variants rotates every
 * round; each is the backend opened through its provider at {@code durability = none}, 16-byte keys
 * over 100,000 preloaded keys, 100-byte values (as {@link RocksDbPutCpuCost}). Prints per variant
 * the median and quartiles of the rounds' CPU ns per put (calling thread's CPU time), the median
 * bytes allocated per put, and the median over rounds of its CPU ratio to {@code base} in the same
 * round with quartiles.
 */
public final class RocksDbPutAb {
  private RocksDbPutAb() {}

  /**
   * Called through each variant's class loader: that variant's backend as a put (a shared JDK
   * type), also {@link AutoCloseable}.
   */
  public static BiConsumer<byte[], byte[]> open() {
    RocksDbKeyValueBenchmark.Kv kv =
        RocksDbKeyValueBenchmark.open(RocksDbKeyValueBenchmark.Impl.CAIRN_ROCKSDB_BARE, "none");
    final class Put implements BiConsumer<byte[], byte[]>, AutoCloseable {
      @Override
      public void accept(byte[] k, byte[] v) {
        kv.put(k, v);
      }

      @Override
      public void close() {
        kv.close();
      }
    }
    return new Put();
  }

  public static void main(String[] args) throws Exception {
    int rounds = Integer.parseInt(args[0]);
    int ops = Integer.parseInt(args[1]);
    List<String> names = new ArrayList<>();
    names.add("base");
    List<BiConsumer<byte[], byte[]>> puts = new ArrayList<>();
    puts.add(openIn(null));
    for (String dir : Arrays.asList(args).subList(2, args.length)) {
      names.add(dir);
      puts.add(openIn(Path.of(dir)));
    }
    byte[][] keySpace = RocksDbPutCpuCost.keySpace();
    int keys = keySpace.length;
    byte[] value = RocksDbPutCpuCost.value();
    for (BiConsumer<byte[], byte[]> put : puts) {
      for (byte[] k : keySpace) {
        put.accept(k, value);
      }
    }
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    int n = puts.size();
    int warm = rounds / 5;
    double[][] ns = new double[n][rounds - warm];
    double[][] bytes = new double[n][rounds - warm];
    long seed = 0x9E3779B97F4A7C15L;
    for (int r = 0; r < rounds; r++) {
      long roundSeed = seed;
      for (int j = 0; j < n; j++) {
        int t = (j + r) % n;
        BiConsumer<byte[], byte[]> put = puts.get(t);
        long x = roundSeed; // every variant puts the same keys in the same order this round
        long alloc0 = mx.getCurrentThreadAllocatedBytes();
        long cpu0 = mx.getCurrentThreadCpuTime();
        for (int i = 0; i < ops; i++) {
          x ^= x << 13;
          x ^= x >>> 7;
          x ^= x << 17;
          put.accept(keySpace[(int) ((x >>> 1) % keys)], value);
        }
        long cpu = mx.getCurrentThreadCpuTime() - cpu0;
        long allocated = mx.getCurrentThreadAllocatedBytes() - alloc0;
        seed = x;
        if (r >= warm) {
          ns[t][r - warm] = (double) cpu / ops;
          bytes[t][r - warm] = (double) allocated / ops;
        }
      }
    }
    for (int t = 0; t < n; t++) {
      System.out.println(
          RocksDbPutCpuCost.line(
              String.format(Locale.ROOT, "%-40s", names.get(t)),
              "put",
              ns[t],
              bytes[t],
              t > 0 ? ns[0] : null,
              "base"));
    }
    for (BiConsumer<byte[], byte[]> put : puts) {
      ((AutoCloseable) put).close();
    }
  }

  /**
   * {@link #open} through a new loader of this classpath's io.cairn classes, {@code first} ahead.
   */
  @SuppressWarnings("unchecked")
  private static BiConsumer<byte[], byte[]> openIn(Path first) throws Exception {
    List<URL> urls = new ArrayList<>();
    if (first != null) {
      urls.add(first.toUri().toURL());
    }
    for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
      urls.add(Path.of(entry).toUri().toURL());
    }
    ClassLoader loader = new CairnFirst(urls.toArray(URL[]::new));
    Thread current = Thread.currentThread();
    ClassLoader before = current.getContextClassLoader();
    current.setContextClassLoader(loader); // ServiceLoader look-ups find this variant's providers
    try {
      return (BiConsumer<byte[], byte[]>)
          loader.loadClass(RocksDbPutAb.class.getName()).getMethod("open").invoke(null);
    } finally {
      current.setContextClassLoader(before);
    }
  }

  /** Loads {@code io.cairn.*} itself (a variant's own copy), everything else from its parent. */
  private static final class CairnFirst extends URLClassLoader {
    CairnFirst(URL[] urls) throws MalformedURLException {
      super(urls, RocksDbPutAb.class.getClassLoader());
    }

    @Override
    protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
      if (!name.startsWith("io.cairn.")) {
        return super.loadClass(name, resolve);
      }
      synchronized (getClassLoadingLock(name)) {
        Class<?> c = findLoadedClass(name);
        if (c == null) {
          c = findClass(name);
        }
        if (resolve) {
          resolveClass(c);
        }
        return c;
      }
    }
  }
}
