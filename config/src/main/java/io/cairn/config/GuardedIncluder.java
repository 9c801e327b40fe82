package io.cairn.config;

import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigIncludeContext;
import com.typesafe.config.ConfigIncluder;
import com.typesafe.config.ConfigIncluderClasspath;
import com.typesafe.config.ConfigIncluderFile;
import com.typesafe.config.ConfigIncluderURL;
import com.typesafe.config.ConfigObject;
import java.io.File;
import java.net.URL;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * The HOCON includer Cairn parses with: {@code include file(...)}, {@code include classpath(...)}
 * and plain relative includes work as in Typesafe Config; {@code include url(...)}, and a plain
 * {@code include "http://..."} (which Typesafe would fetch), are refused unless {@link
 * CairnConfig#ALLOW_URL_INCLUDES} is set. A configuration file is data: nothing in it may make
 * Cairn reach the network.
 */
final class GuardedIncluder
    implements ConfigIncluder, ConfigIncluderFile, ConfigIncluderURL, ConfigIncluderClasspath {
  /** A URL scheme other than {@code file}, as Typesafe's heuristic include would fetch. */
  private static final Pattern REMOTE = Pattern.compile("(?i)^[a-z][a-z0-9+.-]*:.*");

  private final boolean allowUrls;
  private final ConfigIncluder fallback;

  GuardedIncluder(boolean allowUrls) {
    this(allowUrls, null);
  }

  private GuardedIncluder(boolean allowUrls, ConfigIncluder fallback) {
    this.allowUrls = allowUrls;
    this.fallback = fallback;
  }

  @Override
  public ConfigIncluder withFallback(ConfigIncluder fallback) {
    return this.fallback == fallback ? this : new GuardedIncluder(allowUrls, fallback);
  }

  @Override
  public ConfigObject include(ConfigIncludeContext context, String what) {
    String w = what.trim();
    if (REMOTE.matcher(w).matches() && !w.toLowerCase(Locale.ROOT).startsWith("file:")) {
      refuse(w);
    }
    return fallback.include(context, what);
  }

  @Override
  public ConfigObject includeURL(ConfigIncludeContext context, URL what) {
    if (!"file".equalsIgnoreCase(what.getProtocol())) {
      refuse(what.toString());
    }
    return ((ConfigIncluderURL) fallback).includeURL(context, what);
  }

  @Override
  public ConfigObject includeFile(ConfigIncludeContext context, File what) {
    return ((ConfigIncluderFile) fallback).includeFile(context, what);
  }

  @Override
  public ConfigObject includeResources(ConfigIncludeContext context, String what) {
    return ((ConfigIncluderClasspath) fallback).includeResources(context, what);
  }

  private void refuse(String url) {
    if (!allowUrls) {
      throw new ConfigException.Generic(
          "include of "
              + url
              + " refused: configuration files may not include from the network unless enabled"
              + " with -D"
              + CairnConfig.ALLOW_URL_INCLUDES
              + "=true or the environment variable CAIRN_ALLOW_URL_INCLUDES=true;"
              + " copy the included settings into a local file instead");
    }
  }
}
