package io.infergate.common.config;

/** A configuration that cannot work; the server refuses to start with its message. */
public final class ConfigException extends RuntimeException {

  public ConfigException(String message) {
    super(message);
  }

  public ConfigException(String message, Throwable cause) {
    super(message, cause);
  }
}
