package io.cairn.cli;

import io.cairn.persistence.ConfigurationException;
import java.io.File;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URISyntaxException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * Third-party jars for the {@code cairn} command: a backend (its {@code StorageBackendProvider} in
 * {@code META-INF/services} and its {@code reference.conf}), a configuration validator, or a Guice
 * module named in {@code cairn.modules}. Two places are searched, in this order:
 *
 * <ol>
 *   <li>every {@code *.jar} in the {@code plugins/} directory next to {@code cairn.jar} (sorted by
 *       name), if that directory exists;
 *   <li>the environment variable {@code CAIRN_CLASSPATH}: entries separated by {@link
 *       File#pathSeparator}, each a jar, a directory of classes, or {@code dir/*} for every jar in
 *       {@code dir}.
 * </ol>
 *
 * They are loaded with one {@link URLClassLoader} whose parent is the command's own loader (so a
 * plugin sees Cairn's API and cannot replace Cairn's classes: the parent is asked first), and that
 * loader becomes the thread's context class loader, which is the loader Cairn uses for {@link
 * java.util.ServiceLoader}, validators and {@code reference.conf}. A {@code CAIRN_CLASSPATH} entry
 * that does not exist is an error (exit 2), never silently skipped.
 */
final class Plugins {
  static final String ENV = "CAIRN_CLASSPATH";
  static final String DIRECTORY = "plugins";

  private Plugins() {}

  /** The jars and directories to add, in order; empty when there are none. */
  static List<Path> find(Path commandJar, String classpath) {
    List<Path> out = new ArrayList<>();
    if (commandJar != null && Files.isRegularFile(commandJar)) {
      Path dir = commandJar.toAbsolutePath().getParent().resolve(DIRECTORY);
      if (Files.isDirectory(dir)) {
        out.addAll(jarsIn(dir));
      }
    }
    if (classpath != null && !classpath.isBlank()) {
      for (String entry : classpath.split(File.pathSeparator)) {
        if (entry.isBlank()) {
          continue;
        }
        if (entry.endsWith("*")) {
          Path dir = Path.of(entry.substring(0, entry.length() - 1));
          if (!Files.isDirectory(dir)) {
            throw missing(entry, dir);
          }
          out.addAll(jarsIn(dir));
          continue;
        }
        Path p = Path.of(entry);
        if (!Files.exists(p)) {
          throw missing(entry, p);
        }
        out.add(p.toAbsolutePath());
      }
    }
    return out;
  }

  /** A loader over {@code entries} (parent: {@code parent}), or {@code parent} when empty. */
  static ClassLoader loader(List<Path> entries, ClassLoader parent) {
    if (entries.isEmpty()) {
      return parent;
    }
    URL[] urls = new URL[entries.size()];
    for (int i = 0; i < urls.length; i++) {
      try {
        urls[i] = entries.get(i).toUri().toURL();
      } catch (MalformedURLException e) {
        throw new ConfigurationException("Cannot use plugin " + entries.get(i) + ": " + e, e);
      }
    }
    return new URLClassLoader("cairn-plugins", urls, parent);
  }

  /** The jar this command runs from, or null when it runs from classes (tests, an IDE). */
  static Path commandJar() {
    try {
      var source = Plugins.class.getProtectionDomain().getCodeSource();
      if (source == null || source.getLocation() == null) {
        return null;
      }
      Path p = Path.of(source.getLocation().toURI());
      return p.toString().endsWith(".jar") ? p : null;
    } catch (URISyntaxException | SecurityException | IllegalArgumentException e) {
      return null;
    }
  }

  private static List<Path> jarsIn(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".jar"))
          .map(Path::toAbsolutePath)
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new ConfigurationException(
          "Cannot list plugin directory " + dir + ": " + e + ". Check its permissions.", e);
    }
  }

  private static ConfigurationException missing(String entry, Path p) {
    return new ConfigurationException(
        ENV
            + " names "
            + entry
            + ", which does not exist (looked for "
            + p.toAbsolutePath()
            + "). Fix or remove the entry.");
  }
}
