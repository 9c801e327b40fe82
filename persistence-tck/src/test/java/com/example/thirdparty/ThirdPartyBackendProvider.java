package com.example.thirdparty;

import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.Settings;
import io.cairn.persistence.spi.StorageBackendProvider;

/**
 * Provider of type {@code thirdparty}: a deliberately small backend written only against the public
 * SPI (no Cairn implementation class is used), registered in this test source set's {@code
 * META-INF/services} with defaults in its own {@code reference.conf}. Running every TCK contract
 * against it proves a third party can add a backend without touching Cairn.
 */
public final class ThirdPartyBackendProvider implements StorageBackendProvider {
  public static final String TYPE = "thirdparty";

  public ThirdPartyBackendProvider() {}

  @Override
  public String type() {
    return TYPE;
  }

  @Override
  public String description() {
    return "thirdparty - TreeMaps under one lock, written to disk on close (test-only example)";
  }

  @Override
  public void validate(Settings settings) {
    var config = settings.config();
    if (config.hasPath("durability")
        && config.getValue("durability").unwrapped() instanceof String s
        && (s.trim().equalsIgnoreCase("normal") || s.trim().equalsIgnoreCase("full"))) {
      settings.problem(
          "durability", "none (the thirdparty backend saves its state only on close)", s);
    }
  }

  @Override
  public StorageBackend open(BackendContext context) {
    return ThirdPartyBackend.open(context);
  }
}
