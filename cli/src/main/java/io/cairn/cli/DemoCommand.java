package io.cairn.cli;

import com.codahale.metrics.Snapshot;
import com.codahale.metrics.Timer;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import com.typesafe.config.ConfigValueType;
import io.cairn.cache.CacheStats;
import io.cairn.cache.TieredCache;
import io.cairn.config.CairnConfig;
import io.cairn.persistence.CloseableIterator;
import io.cairn.persistence.Codec;
import io.cairn.persistence.ConfigurationException;
import io.cairn.persistence.Entry;
import io.cairn.persistence.KeyValue;
import io.cairn.persistence.KeyValueStore;
import io.cairn.persistence.LogRecord;
import io.cairn.persistence.LogStore;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.SnapshotInfo;
import io.cairn.persistence.SnapshotStore;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.TypedKeyValueStore;
import io.cairn.persistence.VersionConflictException;
import io.cairn.persistence.spi.Settings;
import io.cairn.queue.Delivery;
import io.cairn.queue.DurableQueue;
import io.cairn.queue.QueueStats;
import io.cairn.routing.Route;
import io.cairn.routing.RouteTable;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code cairn demo}: a guided tour of the default backend. Writes and reads key-value entries,
 * appends and replays a log, saves and loads a snapshot, and prints a metrics summary. Run it twice
 * on the same data directory: the second run reports what the first left behind.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    header = "Exercise a backend, the queue, the cache and the routing table.",
    description = {
      "Exercise the default backend: key-value, log and snapshot stores, the durable",
      "queue, the tiered cache and the routing table, then print metrics.",
      "Without --config it uses the embedded default backend (SQLite) in the directory",
      "given by --data-dir. With --config it uses that file's default backend and adds",
      "queue demo-jobs, cache demo-cache and route table demo-routes for the run where",
      "the file does not configure them. The file is validated before anything is written."
    })
final class DemoCommand implements Callable<Integer> {
  static final String USERS = "demo-users";
  static final String META = "demo-meta";
  static final String EVENTS = "demo-events";
  static final String SNAPSHOTS = "demo-snapshots";
  private static final int USER_COUNT = 1000;
  private static final int EVENTS_PER_RUN = 200;
  static final String JOBS = "demo-jobs";
  static final String CACHE = "demo-cache";
  static final String ROUTES = "demo-routes";
  private static final int JOBS_PER_RUN = 10;
  private static final int CACHE_KEYS = 100;
  private static final int CACHE_LOOKUPS = 2000;
  private static final int ROUTE_CHANGES = 120;

  @Option(
      names = {"-c", "--config"},
      paramLabel = "FILE",
      description = "Configuration file; default: the built-in demo configuration.")
  Path configFile;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description = "Data directory for the built-in demo backend (default: ${DEFAULT-VALUE}).",
      defaultValue = "cairn-demo-data")
  Path dataDir;

  @Spec picocli.CommandLine.Model.CommandSpec spec;

  private PrintWriter out;

  @Override
  public Integer call() {
    out = spec.commandLine().getOut();
    Config config = loadConfig();
    try (PersistenceRegistry registry = PersistenceRegistry.open(config)) {
      StorageBackend backend = registry.defaultBackend();
      out.printf(
          "Backend '%s': type %s, durability %s%n",
          backend.name(), backend.type(), backend.durability().configName());
      long run = countRun(backend);
      keyValue(backend, run);
      log(backend, run);
      snapshot(backend);
      queue(registry);
      cache(registry);
      routing(registry, run);
      metrics(registry);
    }
    out.flush();
    return CairnCommand.OK;
  }

  /**
   * The configuration to run with, validated completely before anything is opened or written. The
   * demo's queue, cache and route table ({@code demo-stores.conf}) are added under the user's
   * configuration where it does not configure them, and the built-in modules are listed so that the
   * module check accepts them.
   */
  private Config loadConfig() {
    Config base;
    if (configFile != null) {
      base = CairnConfig.load(configFile);
    } else {
      base =
          ConfigFactory.parseResources(DemoCommand.class, "demo.conf")
              .withValue(
                  "cairn.backends.demo.data-dir",
                  ConfigValueFactory.fromAnyRef(dataDir.toAbsolutePath().toString()))
              .withFallback(CairnConfig.load())
              .resolve();
    }
    Config stores = ConfigFactory.parseResources(DemoCommand.class, "demo-stores.conf");
    Config config = Settings.withRenamedSections(base).withFallback(stores);
    Set<String> modules = new LinkedHashSet<>();
    if (config.hasPath("cairn.modules")
        && config.getValue("cairn.modules").valueType() == ConfigValueType.LIST) {
      config.getList("cairn.modules").forEach(v -> modules.add(String.valueOf(v.unwrapped())));
    }
    modules.addAll(List.of("queue", "cache", "routing"));
    config =
        config.withValue(
            "cairn.modules", ConfigValueFactory.fromIterable(new ArrayList<>(modules)));
    CairnConfig.validate(config);
    Set<String> backends = config.getObject("cairn.backends").keySet();
    if (backends.isEmpty()) {
      throw new ConfigurationException(
          "cairn demo needs a backend: "
              + configFile
              + " configures none under cairn.backends, e.g. cairn { backends { main { type ="
              + " sqlite, data-dir = \"data/main\" } } }.");
    }
    if (backends.size() > 1 && config.getString("cairn.default-backend").isEmpty()) {
      throw new ConfigurationException(
          "cairn demo writes to the default backend, and "
              + configFile
              + " configures several "
              + new java.util.TreeSet<>(backends)
              + ": set cairn.default-backend to the one the demo may write to.");
    }
    if (configFile != null) {
      out.printf(
          "Demo stores (from %s, or added for this run): queue %s, cache %s, route table %s%n",
          configFile, JOBS, CACHE, ROUTES);
    }
    return config;
  }

  /** Increments the run counter with compare-and-set and reports what earlier runs left. */
  private long countRun(StorageBackend backend) {
    TypedKeyValueStore<String, Long> meta =
        new TypedKeyValueStore<>(backend.keyValue(META), Codec.utf8(), Codec.int64());
    while (true) {
      var current = meta.getVersioned("runs");
      long runs = current.map(v -> v.value()).orElse(0L);
      try {
        meta.compareAndSet("runs", current.map(v -> v.version()).orElse(0L), runs + 1);
      } catch (VersionConflictException raced) {
        continue;
      }
      if (runs == 0) {
        out.println("First run on this data directory: nothing stored yet.");
      } else {
        LogStore events = backend.log(EVENTS);
        out.printf(
            "Found data after restart: %d earlier run(s); %d entries in kv:%s; log %s holds"
                + " offsets %d..%d; %d snapshot(s)%n",
            runs,
            backend.keyValue(USERS).approximateCount(),
            USERS,
            EVENTS,
            events.firstOffset(),
            events.nextOffset() - 1,
            backend.snapshots(SNAPSHOTS).list().size());
      }
      return runs + 1;
    }
  }

  private void keyValue(StorageBackend backend, long run) {
    KeyValueStore users = backend.keyValue(USERS);
    List<KeyValue> batch = new ArrayList<>(USER_COUNT);
    for (int i = 0; i < USER_COUNT; i++) {
      batch.add(new KeyValue(userKey(i), utf8("{\"id\":" + i + ",\"run\":" + run + "}")));
    }
    users.putAll(batch);
    int verified = 0;
    for (int i = 0; i < USER_COUNT; i++) {
      byte[] value = users.get(userKey(i));
      if (value != null && new String(value, StandardCharsets.UTF_8).endsWith(run + "}")) {
        verified++;
      }
    }
    long session = users.put(utf8("session:demo"), utf8("expires soon"), Duration.ofMinutes(5));
    long scanned = 0;
    try (CloseableIterator<Entry> it = users.scanPrefix(utf8("user:01"))) {
      while (it.hasNext()) {
        it.next();
        scanned++;
      }
    }
    out.printf(
        "KV   wrote %d entries in one atomic batch, read back %d/%d; prefix scan 'user:01' found"
            + " %d; TTL entry at version %d%n",
        USER_COUNT, verified, USER_COUNT, scanned, session);
  }

  private void log(StorageBackend backend, long run) {
    LogStore events = backend.log(EVENTS);
    List<byte[]> payloads = new ArrayList<>(EVENTS_PER_RUN);
    for (int i = 0; i < EVENTS_PER_RUN; i++) {
      payloads.add(utf8("run " + run + " event " + i));
    }
    long first = events.appendAll(payloads);
    long replayed = 0;
    long expected = events.firstOffset();
    boolean gapFree = true;
    for (long from = events.firstOffset(); ; ) {
      List<LogRecord> page = events.read(from, 64); // bounded pages: never the whole log in memory
      if (page.isEmpty()) {
        break;
      }
      for (LogRecord r : page) {
        gapFree &= r.offset() == expected++;
        replayed++;
      }
      from = page.get(page.size() - 1).offset() + 1;
    }
    out.printf(
        "LOG  appended offsets %d..%d; replayed %d records from offset %d in pages of 64,"
            + " gap-free: %s%n",
        first, first + EVENTS_PER_RUN - 1, replayed, events.firstOffset(), gapFree);
  }

  private void snapshot(StorageBackend backend) {
    SnapshotStore snapshots = backend.snapshots(SNAPSHOTS);
    ByteArrayOutputStream image = new ByteArrayOutputStream();
    try (CloseableIterator<Entry> it = backend.keyValue(USERS).scan(null, null)) {
      while (it.hasNext()) {
        Entry e = it.next();
        image.writeBytes(e.key());
        image.write('=');
        image.writeBytes(e.value());
        image.write('\n');
      }
    }
    long version = backend.log(EVENTS).nextOffset();
    SnapshotInfo saved = snapshots.save(version, image.toByteArray());
    byte[] loaded;
    try (InputStream in = snapshots.load(version)) {
      loaded = in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    int removed = snapshots.retainLatest(3);
    out.printf(
        "SNAP saved version %d (%d bytes, crc32c %08x); loaded and checksum-verified: %s;"
            + " retained latest 3 (removed %d)%n",
        saved.version(),
        saved.sizeBytes(),
        saved.crc32c(),
        Arrays.equals(loaded, image.toByteArray()),
        removed);
  }

  /**
   * Produces, consumes and acknowledges jobs, leaving one unacknowledged as a crashed consumer
   * would: its lease runs out and the next run receives it again.
   */
  private void queue(PersistenceRegistry registry) {
    try (DurableQueue<String> jobs = DurableQueue.open(registry, JOBS, Codec.utf8())) {
      int redelivered = 0;
      int earlier = 0;
      Duration wait = Duration.ofMillis(1500); // longer than the 1s lease of a left-over message
      for (Optional<Delivery<String>> d = jobs.poll(wait);
          d.isPresent();
          d = jobs.poll(Duration.ofMillis(200))) {
        earlier++;
        if (d.get().attempt() > 1) {
          redelivered++;
        }
        jobs.ack(d.get());
      }
      List<String> batch = new ArrayList<>();
      for (int i = 0; i < JOBS_PER_RUN; i++) {
        batch.add("job " + i);
      }
      jobs.enqueueAll(batch);
      int acked = 0;
      Delivery<String> unacked = null;
      for (Delivery<String> d : jobs.poll(JOBS_PER_RUN, Duration.ofSeconds(1))) {
        if (unacked == null) {
          unacked = d; // never acknowledged: redelivered after its lease
        } else if (jobs.ack(d)) {
          acked++;
        }
      }
      QueueStats stats = jobs.stats();
      out.printf(
          "QUEUE found %d message(s) from earlier runs (%d redelivered after an expired lease);"
              + " enqueued %d, acked %d, left %d unacknowledged (in flight: %d, depth: %d)%n",
          earlier,
          redelivered,
          JOBS_PER_RUN,
          acked,
          unacked == null ? 0 : 1,
          stats.inFlight(),
          stats.depth());
    }
  }

  /** Read-through lookups over a small hot set: L1 serves repeats, L2 survives restarts. */
  private void cache(PersistenceRegistry registry) {
    try (TieredCache<String, String> cache =
        TieredCache.open(registry, CACHE, Codec.utf8(), Codec.utf8())) {
      int loads = 0;
      for (int i = 0; i < CACHE_LOOKUPS; i++) {
        String key = "profile:" + (i * 7919 % CACHE_KEYS);
        int[] loaded = {0};
        cache.get(
            key,
            k -> {
              loaded[0]++;
              return "profile of " + k;
            });
        loads += loaded[0];
      }
      CacheStats s = cache.stats();
      out.printf(
          "CACHE %d lookups over %d keys: hit rate %.1f%% (L1 hits %d, L2 hits %d, loader calls"
              + " %d)%n",
          CACHE_LOOKUPS, CACHE_KEYS, s.hitRate() * 100, s.l1Hits(), s.l2Hits(), loads);
    }
  }

  /** Changes go to a log, snapshots every 50 changes; a second run restores and replays. */
  private void routing(PersistenceRegistry registry, long run) {
    try (RouteTable routes = RouteTable.open(registry, ROUTES)) {
      int restored = routes.size();
      long restoredVersion = routes.version();
      for (int i = 0; i < ROUTE_CHANGES; i++) {
        String target = "10." + (run % 250) + "." + (i / 250) + "." + (i % 250) + ":80";
        routes.put(Route.of("/api/v" + (i % 3) + "/svc" + (i % 40), target));
      }
      routes.put(Route.of("/api", "10.0.1.1:80"));
      Optional<Route> hit = routes.resolve("/api/v2/svc7/orders/42");
      Optional<Route> fallback = routes.resolve("/api/v9/unknown");
      out.printf(
          "ROUTE %s; wrote %d routes (table version %d, %d routes); longest prefix of"
              + " /api/v2/svc7/orders/42 -> %s; of /api/v9/unknown -> %s%n",
          restored == 0
              ? "empty table on first run"
              : "restored "
                  + restored
                  + " routes at version "
                  + restoredVersion
                  + " from snapshot + log replay",
          ROUTE_CHANGES + 1,
          routes.version(),
          routes.size(),
          hit.map(Route::key).orElse("none"),
          fallback.map(Route::key).orElse("none"));
    }
  }

  private void metrics(PersistenceRegistry registry) {
    out.println("Metrics (timers with activity; microseconds):");
    out.printf("  %-48s %8s %10s %10s%n", "TIMER", "COUNT", "MEAN", "P99");
    for (Map.Entry<String, Timer> e : registry.metrics().getTimers().entrySet()) {
      Timer t = e.getValue();
      if (t.getCount() == 0) {
        continue;
      }
      Snapshot s = t.getSnapshot();
      out.printf(
          "  %-48s %8d %10.1f %10.1f%n",
          e.getKey(), t.getCount(), micros(s.getMean()), micros(s.get99thPercentile()));
    }
  }

  private static double micros(double nanos) {
    return nanos / TimeUnit.MICROSECONDS.toNanos(1);
  }

  private static byte[] userKey(int i) {
    return utf8(String.format("user:%04d", i));
  }

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
