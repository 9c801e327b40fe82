package io.cairn.cli;

import io.cairn.cache.TierStats;
import io.cairn.cache.TieredCache;
import io.cairn.persistence.PersistenceRegistry;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.StoreStats;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code cairn cache}: tiered caches ({@code cairn-cache}). {@code stats} shows each persistent
 * tier's stored entries and bytes (from its backend) against its bound; {@code clear} empties every
 * tier durably (needs {@code --yes}). Both open the cache, so the service using it must be stopped
 * (an embedded backend's directory lock says so otherwise).
 */
@Command(
    name = "cache",
    mixinStandardHelpOptions = true,
    description = "Tiered caches: stats, clear.",
    subcommands = {CacheCommand.Stats.class, CacheCommand.Clear.class})
final class CacheCommand extends CommandGroup {

  /** One persistent tier as stored. */
  record Tier(String backend, long entries, long bytes, long maxEntries, long maxBytes) {}

  static List<Tier> tiers(PersistenceRegistry registry, TieredCache<String, byte[]> cache) {
    String namespace = "cache." + cache.name();
    List<Tier> out = new ArrayList<>();
    for (TierStats t : cache.tierStats()) {
      // A namespace missing from the backend's stats holds nothing (backends list the stores
      // that hold records).
      long entries = 0;
      long bytes = 0;
      for (StoreStats s : registry.backend(t.backend()).stats().stores()) {
        if (s.store().kind() == StoreKind.KEY_VALUE && s.store().name().equals(namespace)) {
          entries = s.entries();
          bytes = s.bytes();
        }
      }
      out.add(new Tier(t.backend(), entries, bytes, t.maxEntries(), t.maxBytes()));
    }
    return out;
  }

  static void print(PrintWriter out, String cache, List<Tier> tiers, JsonWriter w) {
    if (w != null) {
      w.name("cache").value(cache).name("tiers").beginArray();
      for (Tier t : tiers) {
        w.beginObject()
            .name("backend")
            .value(t.backend())
            .name("entries")
            .value(t.entries())
            .name("bytes")
            .value(t.bytes())
            .name("maxEntries")
            .value(t.maxEntries())
            .name("maxBytes")
            .value(t.maxBytes())
            .endObject();
      }
      w.endArray();
      return;
    }
    out.printf("Cache %s%n", cache);
    if (tiers.isEmpty()) {
      out.println("  (no persistent tiers: memory only)");
    }
    for (Tier t : tiers) {
      out.printf(
          "  tier %-12s entries=%s bytes=%s bound=%s entries / %s%n",
          t.backend(),
          t.entries() < 0 ? "?" : Long.toString(t.entries()),
          t.bytes() < 0 ? "?" : Sizes.human(t.bytes()),
          t.maxEntries() == 0 ? "no" : Long.toString(t.maxEntries()),
          t.maxBytes() == 0 ? "no byte bound" : Sizes.human(t.maxBytes()));
    }
  }

  @Command(
      name = "stats",
      mixinStandardHelpOptions = true,
      header = "Show a cache's stored entries per tier.",
      description = {
        "Show each persistent tier of a cache: the backend, stored entries and",
        "bytes, and the tier's bound. Changes nothing.",
        "",
        "Example: cairn cache stats sessions --config app.conf --json"
      })
  static final class Stats extends SubsystemCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "CACHE", description = "The cache name.")
    String cache;

    @Override
    public Integer call() {
      PrintWriter out = out();
      try (PersistenceRegistry registry = openForWriting();
          TieredCache<String, byte[]> c = TieredCache.openRaw(registry, cache)) {
        JsonWriter w = json ? new JsonWriter(out).beginObject() : null;
        print(out, cache, tiers(registry, c), w);
        if (w != null) {
          w.endObject().finish();
        }
      }
      out.flush();
      return CairnCommand.OK;
    }
  }

  @Command(
      name = "clear",
      mixinStandardHelpOptions = true,
      header = "Remove every entry of a cache from every tier.",
      description = {
        "Remove every entry (and tag generation) of a cache from every persistent",
        "tier, durably, and print what each tier held before and after. Needs --yes.",
        "",
        "Example: cairn cache clear sessions --yes --config app.conf"
      })
  static final class Clear extends SubsystemCommand implements Callable<Integer> {
    @Parameters(index = "0", paramLabel = "CACHE", description = "The cache name.")
    String cache;

    @Option(names = "--yes", description = "Confirm the change.")
    boolean yes;

    @Override
    public Integer call() {
      Cli.requireYes(spec, yes, "remove every entry of cache '" + cache + "'");
      PrintWriter out = out();
      try (PersistenceRegistry registry = openForWriting();
          TieredCache<String, byte[]> c = TieredCache.openRaw(registry, cache)) {
        List<Tier> before = tiers(registry, c);
        c.invalidateAll();
        List<Tier> after = tiers(registry, c);
        if (json) {
          JsonWriter w = new JsonWriter(out).beginObject().name("before").beginObject();
          print(out, cache, before, w);
          w.endObject().name("after").beginObject();
          print(out, cache, after, w);
          w.endObject().endObject().finish();
        } else {
          out.println("Before:");
          print(out, cache, before, null);
          out.println("After:");
          print(out, cache, after, null);
        }
      }
      out.flush();
      return CairnCommand.OK;
    }
  }
}
