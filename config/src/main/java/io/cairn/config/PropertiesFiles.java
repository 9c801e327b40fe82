package io.cairn.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigObject;
import com.typesafe.config.ConfigParseOptions;
import com.typesafe.config.ConfigSyntax;
import io.cairn.persistence.ConfigurationException;
import java.io.IOException;
import java.io.StringReader;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * Reads a Java properties file the way Typesafe Config does ({@code a.b.c = v} is the path {@code
 * a.b.c}; when both {@code a} and {@code a.b} are set, the object wins) and gives every value the
 * origin {@code file:line} of the line that set it, which Config's own properties parser does not
 * record.
 *
 * <p>Lines are found by splitting the text into logical lines exactly as {@link Properties#load}
 * does (comment lines start with {@code #} or {@code !}; a line ending in an odd number of
 * backslashes continues on the next) and loading each one alone to learn its key. The last line
 * that sets a key wins, as in {@link Properties}. A malformed {@code \}{@code uXXXX} escape is
 * reported at its line.
 */
final class PropertiesFiles {
  private PropertiesFiles() {}

  /**
   * Parses {@code text} read from {@code file}.
   *
   * @throws ConfigurationException for a malformed line, naming file:line
   */
  static Config parse(String file, String text) {
    Map<List<Object>, Integer> lines = locate(file, text);
    Config parsed;
    try {
      parsed =
          ConfigFactory.parseReader(
              new StringReader(text),
              ConfigParseOptions.defaults()
                  .setSyntax(ConfigSyntax.PROPERTIES)
                  .setOriginDescription(file));
    } catch (ConfigException e) {
      throw ConfigErrors.translate(e, "properties file " + file);
    } catch (
        IllegalArgumentException e) { // java.util.Properties escapes; locate() normally catches
      throw new ConfigurationException(
          "Syntax error in properties file " + file + ": " + e.getMessage() + ". Fix the file.", e);
    }
    OriginTree tree = new OriginTree(file, lines);
    return ((ConfigObject) tree.build(parsed.root().unwrapped(), List.of())).toConfig();
  }

  private static Map<List<Object>, Integer> locate(String file, String text) {
    Map<List<Object>, Integer> lines = new HashMap<>();
    String[] physical = text.split("\r\n|\r|\n", -1);
    int i = 0;
    while (i < physical.length) {
      int first = i;
      String stripped = physical[i].stripLeading();
      i++;
      if (stripped.isEmpty() || stripped.charAt(0) == '#' || stripped.charAt(0) == '!') {
        continue;
      }
      StringBuilder logical = new StringBuilder(physical[first]);
      while (endsWithOddBackslashes(physical[i - 1]) && i < physical.length) {
        logical.append('\n').append(physical[i]);
        i++;
      }
      Properties one = new Properties();
      try {
        one.load(new StringReader(logical.toString()));
      } catch (IllegalArgumentException | IOException e) {
        throw new ConfigurationException(
            "Syntax error in properties file "
                + file
                + ":"
                + (first + 1)
                + ": "
                + e.getMessage()
                + ". Fix the file and try again.",
            e);
      }
      for (String key : one.stringPropertyNames()) {
        List<Object> path = new ArrayList<>(Arrays.asList((Object[]) key.split("\\.", -1)));
        for (int n = 1; n < path.size(); n++) {
          lines.putIfAbsent(List.copyOf(path.subList(0, n)), first + 1);
        }
        lines.put(List.copyOf(path), first + 1);
      }
    }
    return lines;
  }

  private static boolean endsWithOddBackslashes(String s) {
    int n = 0;
    for (int i = s.length() - 1; i >= 0 && s.charAt(i) == '\\'; i--) {
      n++;
    }
    return n % 2 == 1;
  }
}
