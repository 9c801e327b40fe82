package io.cairn.persistence;

/** The three kinds of store a backend offers. */
public enum StoreKind {
  KEY_VALUE("kv"),
  LOG("log"),
  SNAPSHOT("snapshot");

  private final String shortName;

  StoreKind(String shortName) {
    this.shortName = shortName;
  }

  /** Short name used in metric names: {@code kv}, {@code log}, {@code snapshot}. */
  public String shortName() {
    return shortName;
  }
}
