package com.example.thirdparty;

import com.example.thirdparty.ThirdPartyBackend.Mutation;
import io.cairn.persistence.StorageBackend;
import io.cairn.persistence.spi.BackendContext;
import io.cairn.persistence.spi.StorageBackendProvider;

/**
 * Providers of deliberately broken variants of the third-party example, registered in this test
 * source set's {@code META-INF/services} so that the TCK suites can be run against them (in {@link
 * TckCatchesBrokenBackendsTest}) exactly as against a real backend. Each must fail a suite.
 */
public final class MutantBackendProviders {
  private MutantBackendProviders() {}

  /** Type {@code thirdparty-close-only}: claims durability normal, writes only on close. */
  public static final class CloseOnly implements StorageBackendProvider {
    public CloseOnly() {}

    @Override
    public String type() {
      return "thirdparty-close-only";
    }

    @Override
    public String description() {
      return "broken on purpose: claims durability normal, writes only on close (TCK mutation test)";
    }

    @Override
    public StorageBackend open(BackendContext context) {
      return ThirdPartyBackend.open(context, Mutation.CLAIMS_DURABILITY_WRITES_ON_CLOSE);
    }
  }

  /** Type {@code thirdparty-no-lock}: opens a directory another instance holds. */
  public static final class NoLock implements StorageBackendProvider {
    public NoLock() {}

    @Override
    public String type() {
      return "thirdparty-no-lock";
    }

    @Override
    public String description() {
      return "broken on purpose: ignores the data directory's lock (TCK mutation test)";
    }

    @Override
    public StorageBackend open(BackendContext context) {
      return ThirdPartyBackend.open(context, Mutation.IGNORES_LOCK);
    }
  }

  /** Type {@code thirdparty-no-encryption}: declares ENCRYPTION, stores values in clear. */
  public static final class NoEncryption implements StorageBackendProvider {
    public NoEncryption() {}

    @Override
    public String type() {
      return "thirdparty-no-encryption";
    }

    @Override
    public String description() {
      return "broken on purpose: declares ENCRYPTION but ignores the hook (TCK mutation test)";
    }

    @Override
    public StorageBackend open(BackendContext context) {
      return ThirdPartyBackend.open(context, Mutation.IGNORES_ENCRYPTION);
    }
  }
}
