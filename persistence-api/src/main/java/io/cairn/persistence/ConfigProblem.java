package io.cairn.persistence;

/**
 * One bad setting: its path, where it came from, what was expected and what was found.
 *
 * @param path full config path, e.g. {@code cairn.backends.main.durability}
 * @param origin where the value was read, e.g. {@code conf/app.conf:12}, or a description such as
 *     {@code "not set"} when the setting is missing
 * @param expected what would have been accepted, e.g. {@code one of [none, normal, full]}
 * @param found what was there, e.g. {@code "sometimes"}
 */
public record ConfigProblem(String path, String origin, String expected, String found) {
  @Override
  public String toString() {
    return path + " (" + origin + "): expected " + expected + ", found " + found;
  }
}
