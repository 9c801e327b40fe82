package io.cairn.runtime;

import io.cairn.persistence.ConfigProblem;

/**
 * One entry of {@code cairn.modules}: a built-in module name ({@code queue}, {@code cache}, {@code
 * routing}, {@code raft}) or the class name of a dependency-injection module.
 *
 * @param name the built-in name or class name as written
 * @param path {@code cairn.modules[i]}, for messages
 * @param origin file:line of the entry
 */
public record ModuleEntry(String name, String path, String origin) {
  /** Whether this names a built-in module rather than a class. */
  public boolean builtIn() {
    return ModuleList.BUILT_IN.containsKey(name);
  }

  /** A problem about this entry, carrying its path and file:line. */
  public ConfigProblem problem(String expected, String found) {
    return new ConfigProblem(path, origin, expected, found);
  }
}
