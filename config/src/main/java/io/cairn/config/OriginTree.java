package io.cairn.config;

import com.typesafe.config.ConfigOrigin;
import com.typesafe.config.ConfigOriginFactory;
import com.typesafe.config.ConfigValue;
import com.typesafe.config.ConfigValueFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds a Typesafe Config value tree from plain Java values ({@link Map}, {@link List}, {@link
 * String}, {@link Number}, {@link Boolean}) in which every value's origin is the file and the line
 * a locator found for its path. A path with no known line takes its nearest ancestor's line; with
 * none at all, the origin is the file alone.
 *
 * <p>Used for formats whose parser does not track lines (TOML through night-config, and Java
 * properties), so that their values carry {@code file:line} exactly like HOCON and JSON values.
 */
final class OriginTree {
  private final String file;
  private final Map<List<Object>, Integer> lines;

  /**
   * @param file the file name as the user gave it; becomes {@link ConfigOrigin#filename()}
   * @param lines 1-based line of each path (segments: String keys, Integer list indices)
   */
  OriginTree(String file, Map<List<Object>, Integer> lines) {
    this.file = file;
    this.lines = lines;
  }

  /** The tree for {@code plain}, whose own path is {@code path}. */
  ConfigValue build(Object plain, List<Object> path) {
    ConfigOrigin origin = originOf(path);
    if (plain instanceof Map<?, ?> map) {
      Map<String, ConfigValue> children = new LinkedHashMap<>();
      for (Map.Entry<?, ?> e : map.entrySet()) {
        String key = String.valueOf(e.getKey());
        children.put(key, build(e.getValue(), append(path, key)));
      }
      return ConfigValueFactory.fromMap(children).withOrigin(origin);
    }
    if (plain instanceof List<?> list) {
      List<ConfigValue> elements = new ArrayList<>(list.size());
      for (int i = 0; i < list.size(); i++) {
        elements.add(build(list.get(i), append(path, i)));
      }
      return ConfigValueFactory.fromIterable(elements).withOrigin(origin);
    }
    return ConfigValueFactory.fromAnyRef(plain).withOrigin(origin);
  }

  private ConfigOrigin originOf(List<Object> path) {
    ConfigOrigin base = ConfigOriginFactory.newFile(file);
    for (int n = path.size(); n > 0; n--) {
      Integer line = lines.get(path.subList(0, n));
      if (line != null) {
        return base.withLineNumber(line);
      }
    }
    return base;
  }

  private static List<Object> append(List<Object> path, Object segment) {
    List<Object> p = new ArrayList<>(path.size() + 1);
    p.addAll(path);
    p.add(segment);
    return p;
  }
}
