package io.cairn.guice.thirdparty;

import com.google.inject.AbstractModule;
import com.google.inject.name.Names;

/** A third-party module with a no-argument constructor. */
public class PlainModule extends AbstractModule {
  @Override
  protected void configure() {
    bind(Integer.class).annotatedWith(Names.named("answer")).toInstance(42);
  }
}
