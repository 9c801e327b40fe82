package io.cairn.cli.plugin;

import io.cairn.backend.memory.MemoryBackendProvider;
import io.cairn.persistence.BackendStats;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.StoreId;
import io.cairn.persistence.StoreKind;
import io.cairn.persistence.StoreStats;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.Settings;
import io.cairn.persistence.spi.StorageBackendProvider;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A third-party backend for the CLI tests, packed by {@code CliJarIT} into a plugin jar (never on
 * the command's own classpath): type {@code synthetic}, a memory backend whose {@code stats()}
 * reports {@code stores} synthetic stores, so {@code inspect --json} can be run on 200,000 stores
 * without creating them. A dynamic proxy, so it keeps compiling when the interface grows.
 */
public final class SyntheticProvider implements StorageBackendProvider {
  @Override
  public String type() {
    return "synthetic";
  }

  @Override
  public void validate(Settings settings) {
    settings.intBetween("stores", 0, 10_000_000, 0);
  }

  @Override
  public StorageBackend open(BackendContext context) {
    StorageBackend memory = new MemoryBackendProvider().open(context);
    int stores = context.config().getInt("stores");
    return (StorageBackend)
        Proxy.newProxyInstance(
            SyntheticProvider.class.getClassLoader(),
            new Class<?>[] {StorageBackend.class},
            (proxy, method, args) -> {
              if (method.getName().equals("type") && method.getParameterCount() == 0) {
                return "synthetic";
              }
              if (method.getName().equals("stats") && method.getParameterCount() == 0) {
                List<StoreStats> list = new ArrayList<>(stores);
                for (int i = 0; i < stores; i++) {
                  list.add(
                      new StoreStats(
                          new StoreId(StoreKind.KEY_VALUE, String.format("tenant-%07d", i)),
                          i,
                          64L * i));
                }
                return new BackendStats(context.name(), "synthetic", list, 0, Map.of());
              }
              try {
                return method.invoke(memory, args);
              } catch (InvocationTargetException e) {
                throw e.getCause();
              }
            });
  }
}
