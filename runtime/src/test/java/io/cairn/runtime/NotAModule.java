package io.cairn.runtime;

/** Named in cairn.modules by tests: a class that exists but is not a Guice module. */
public final class NotAModule {}
