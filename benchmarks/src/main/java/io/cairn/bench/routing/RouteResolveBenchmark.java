package io.cairn.bench.routing;

import com.typesafe.config.ConfigFactory;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.routing.Route;
import io.cairn.routing.RouteTable;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Route resolution throughput of {@link RouteTable} — exact ({@link RouteTable#get}) and longest
 * prefix ({@link RouteTable#resolve}) — beside the obvious hand-rolled alternative, a {@link
 * ConcurrentHashMap} probed with every prefix of the query from longest to shortest.
 *
 * <p>Routes look like {@code /svc-17/v2/res-12/}: a hierarchy in which every level is itself a
 * route. Exact queries are stored keys; longest-prefix queries append {@code items/<n>} to a stored
 * key, so they never match exactly and the answer is the stored key. 1024 queries from a fixed seed
 * are cycled per thread. The table sits on a memory backend, which only matters while loading:
 * resolution never touches storage.
 *
 * <pre>
 * java -jar benchmarks/target/benchmarks.jar 'io.cairn.bench.routing' -f 1 -wi 2 -i 3 -w 2s -r 3s
 * </pre>
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
public class RouteResolveBenchmark {
  private static final int QUERIES = 1024;
  private static final int MASK = QUERIES - 1;

  /** The implementations compared; baselines are the names not starting with CAIRN. */
  public enum Impl {
    CAIRN_ROUTE_TABLE,
    HASH_MAP_PROBE
  }

  /** Thin adapter so one benchmark body drives every implementation. */
  interface Resolver extends AutoCloseable {
    Route exact(String key);

    Route longestPrefix(String key);

    @Override
    void close();
  }

  @Param Impl impl;

  @Param({"10000", "100000"})
  int routes;

  Resolver resolver;
  String[] exactQueries;
  String[] prefixQueries;

  /** Per-thread cursor so threads do not contend on a shared counter. */
  @State(Scope.Thread)
  public static class Cursor {
    int next = new Random().nextInt(QUERIES);
  }

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    List<Route> all = hierarchy(routes);
    resolver = open(impl, all);
    Random random = new Random(42);
    exactQueries = new String[QUERIES];
    prefixQueries = new String[QUERIES];
    for (int q = 0; q < QUERIES; q++) {
      String key = all.get(random.nextInt(all.size())).key();
      exactQueries[q] = key;
      prefixQueries[q] = key + "items/" + random.nextInt(1000);
      // Both implementations must agree, or the comparison means nothing.
      Route r = resolver.longestPrefix(prefixQueries[q]);
      if (r == null || !r.key().equals(key) || resolver.exact(key) == null) {
        throw new IllegalStateException(impl + " resolved " + prefixQueries[q] + " to " + r);
      }
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    resolver.close();
  }

  @Benchmark
  public Route exact(Cursor c) {
    return resolver.exact(exactQueries[c.next++ & MASK]);
  }

  @Benchmark
  public Route longestPrefix(Cursor c) {
    return resolver.longestPrefix(prefixQueries[c.next++ & MASK]);
  }

  /**
   * {@code n} routes: services, three versions each, 32 resources per version, every level a route.
   */
  static List<Route> hierarchy(int n) {
    List<Route> all = new ArrayList<>(n);
    for (int s = 0; all.size() < n; s++) {
      String svc = "/svc-" + s + "/";
      all.add(Route.of(svc, "svc-" + s + ".internal:8080"));
      for (int v = 0; v < 3 && all.size() < n; v++) {
        String ver = svc + "v" + v + "/";
        all.add(Route.of(ver, "svc-" + s + "-v" + v + ".internal:8080"));
        for (int r = 0; r < 32 && all.size() < n; r++) {
          all.add(Route.of(ver + "res-" + r + "/", "svc-" + s + "-v" + v + "-r" + r + ":8080"));
        }
      }
    }
    return all;
  }

  static Resolver open(Impl impl, List<Route> all) throws IOException {
    switch (impl) {
      case CAIRN_ROUTE_TABLE:
        Path dir = Files.createTempDirectory("cairn-bench-routing");
        PersistenceRegistry registry =
            PersistenceRegistry.builder()
                .baseDirectory(dir)
                .open(
                    ConfigFactory.parseString(
                        "cairn.backends.bench { type = memory, durability = none }\n"
                            + "cairn.route-tables.bench { backend = bench }"));
        RouteTable table = RouteTable.open(registry, "bench");
        table.putAll(all);
        if (table.size() != all.size()) {
          throw new IllegalStateException("Loaded " + table.size() + " of " + all.size());
        }
        return new Resolver() {
          @Override
          public Route exact(String key) {
            return table.get(key).orElse(null);
          }

          @Override
          public Route longestPrefix(String key) {
            Optional<Route> r = table.resolve(key);
            return r.orElse(null);
          }

          @Override
          public void close() {
            table.close();
            registry.close();
            deleteTree(dir);
          }
        };
      case HASH_MAP_PROBE:
        ConcurrentHashMap<String, Route> map = new ConcurrentHashMap<>();
        all.forEach(r -> map.put(r.key(), r));
        return new Resolver() {
          @Override
          public Route exact(String key) {
            return map.get(key);
          }

          @Override
          public Route longestPrefix(String key) {
            for (int len = key.length(); len >= 0; len--) {
              Route r = map.get(key.substring(0, len));
              if (r != null) {
                return r;
              }
            }
            return null;
          }

          @Override
          public void close() {}
        };
      default:
        throw new IllegalArgumentException(impl.name());
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> files = Files.walk(dir)) {
      for (Path p : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
