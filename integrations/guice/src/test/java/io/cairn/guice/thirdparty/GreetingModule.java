package io.cairn.guice.thirdparty;

import com.google.inject.AbstractModule;
import com.google.inject.name.Names;
import com.typesafe.config.Config;

/** A third-party module taking the resolved configuration, as a service team would write one. */
public class GreetingModule extends AbstractModule {
  private final Config config;

  public GreetingModule(Config config) {
    this.config = config;
  }

  @Override
  protected void configure() {
    bind(String.class)
        .annotatedWith(Names.named("greeting"))
        .toInstance("hello from " + config.getString("app.name"));
  }
}
