package io.cairn.guice.thirdparty;

/** Named in configuration by mistake: not a Guice module. */
public class NotAModule {}
