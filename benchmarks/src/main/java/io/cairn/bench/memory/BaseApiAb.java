package io.cairn.bench.memory;

import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.sql.Driver;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.ServiceLoader;

/**
 * Before/after CPU per key-value operation of two (or more) builds of persistence-api in ONE
 * process: each build's jar gets its own class loader (with the benchmarks jar and the third-party
 * example after it), its own {@link BasePutCpuCost.Probe} and backend, and their rounds alternate
 * (A B, B A, A B, ...), so a change of the machine's load between rounds falls on both sides alike.
 * Prints per build the median CPU ns per operation of the measured rounds, per later build the
 * median of its per-round ratio to the first build (the paired figure: noise common to a round
 * cancels), and the bytes the measuring thread allocated per operation (exact: load does not move
 * it).
 *
 * <pre>
 * java -cp benchmarks.jar io.cairn.bench.memory.BaseApiAb ENGINE WORK ROUNDS CLASSPATH_REST \
 *     LABEL=API_JAR LABEL=API_JAR...
 * </pre>
 *
 * ENGINE memory, thirdparty, or the type of a backend built on the base in the jars given (sqlite
 * on the port's benchmarks jar: put a directory of this class and BasePutCpuCost before that jar in
 * CLASSPATH_REST); WORK put, put-ttl or get; ROUNDS measured rounds of 200,000 per build (after 5
 * warm-up rounds each); CLASSPATH_REST the benchmarks jar and, for thirdparty,
 * persistence-tck/target/test-classes, joined by ':'. Used by benchmarks/scripts/base-api-ab.sh
 * (mode inproc).
 */
public final class BaseApiAb {
  private static final int WARMUP = 5;

  private BaseApiAb() {}

  public static void main(String[] args) throws Exception {
    if (args.length < 6) {
      System.err.println(
          "usage: BaseApiAb memory|thirdparty put|put-ttl|get ROUNDS CLASSPATH_REST"
              + " LABEL=API_JAR LABEL=API_JAR...");
      System.exit(2);
    }
    String engine = args[0];
    String work = args[1];
    int rounds = Integer.parseInt(args[2]);
    String[] rest = args[3].split(":");
    int n = args.length - 4;
    String[] labels = new String[n];
    Object[] probes = new Object[n];
    Method[] round = new Method[n];
    Method[] allocated = new Method[n];
    long[] bytesPerOp = new long[n];
    ClassLoader[] loaders = new ClassLoader[n];
    for (int i = 0; i < n; i++) {
      String[] lj = args[4 + i].split("=", 2);
      labels[i] = lj[0];
      List<URL> urls = new ArrayList<>();
      urls.add(Path.of(lj[1]).toUri().toURL());
      for (String r : rest) {
        urls.add(Path.of(r).toUri().toURL());
      }
      loaders[i] =
          new URLClassLoader(urls.toArray(URL[]::new), ClassLoader.getPlatformClassLoader());
      // each build's JDBC drivers registered from its own loader: DriverManager hands a caller
      // only a driver its loader sees, and discovers drivers once per JVM, not per loader
      ServiceLoader.load(Driver.class, loaders[i]).forEach(d -> {});
      Class<?> probe = Class.forName(BasePutCpuCost.Probe.class.getName(), true, loaders[i]);
      Thread.currentThread().setContextClassLoader(loaders[i]); // service loader, config
      probes[i] = probe.getMethod("open", String.class).invoke(null, engine);
      round[i] = probe.getMethod("round", String.class);
      allocated[i] = probe.getMethod("allocatedPerOp");
    }
    long[][] perOp = new long[n][rounds];
    for (int r = -WARMUP; r < rounds; r++) {
      for (int j = 0; j < n; j++) {
        int i = (r & 1) == 0 ? j : n - 1 - j; // A B, B A: neither side always runs first
        Thread.currentThread().setContextClassLoader(loaders[i]);
        long ns = (long) round[i].invoke(probes[i], work);
        if (r >= 0) {
          perOp[i][r] = ns;
          bytesPerOp[i] = (long) allocated[i].invoke(probes[i]); // the same every round
        }
      }
    }
    for (int i = 0; i < n; i++) {
      probes[i].getClass().getMethod("close").invoke(probes[i]);
    }
    for (int i = 0; i < n; i++) {
      long[] sorted = perOp[i].clone();
      Arrays.sort(sorted);
      String paired = "";
      if (i > 0) {
        double[] ratio = new double[rounds];
        for (int r = 0; r < rounds; r++) {
          ratio[r] = (double) perOp[i][r] / perOp[0][r];
        }
        Arrays.sort(ratio);
        paired =
            String.format(
                ", per-round ratio to %s median %.3f (min %.3f, max %.3f)",
                labels[0], ratio[rounds / 2], ratio[0], ratio[rounds - 1]);
      }
      System.out.printf(
          "%s %s %s median %d ns CPU/op (min %d, max %d, %d rounds of 200000)%s; %d bytes"
              + " allocated/op%n",
          labels[i],
          engine,
          work,
          sorted[rounds / 2],
          sorted[0],
          sorted[rounds - 1],
          rounds,
          paired,
          bytesPerOp[i]);
    }
  }
}
