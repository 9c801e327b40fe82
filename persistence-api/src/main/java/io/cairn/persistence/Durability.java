package io.cairn.persistence;

import java.util.Locale;

/**
 * How much of an acknowledged write survives a failure. One vocabulary for all backends; each
 * backend documents how it maps these onto its engine.
 */
public enum Durability {
  /** No fsync and possibly no write-ahead log: a process crash may lose the most recent writes. */
  NONE,
  /**
   * Survives a process crash ({@code kill -9}); an operating-system crash or power loss may lose
   * the last group commit.
   */
  NORMAL,
  /** Data is fsynced before the write returns: survives process and operating-system crashes. */
  FULL;

  /** The name used in configuration: {@code none}, {@code normal}, {@code full}. */
  public String configName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
