package io.infergate.common;

import io.infergate.common.status.ServingException;
import java.util.Locale;

/**
 * How urgent a request is. Batches take higher priorities first, and under overload the lower
 * ones are refused first. Levels are numbered as in Triton: 1 is the highest; 0 on the wire
 * means "the model's default".
 */
public enum Priority {
  HIGH(1),
  NORMAL(2),
  LOW(3);

  /** The header (and gRPC metadata key) a request names its priority by. */
  public static final String HEADER = "x-infergate-priority";

  private final int level;

  Priority(int level) {
    this.level = level;
  }

  /** 1 for the highest. */
  public int level() {
    return level;
  }

  /** The priority of a wire level; 0 (unset) gives {@code fallback}. */
  public static Priority ofLevel(int level, Priority fallback) {
    return switch (level) {
      case 0 -> fallback;
      case 1 -> HIGH;
      case 2 -> NORMAL;
      case 3 -> LOW;
      default -> throw ServingException.invalidArgument("Priority must be 1 (high), 2 (normal) or 3 (low), not " + level);
    };
  }

  /**
   * A priority as a client writes it: a level number or a name, in any case; null or blank gives
   * {@code fallback}.
   *
   * @throws ServingException INVALID_ARGUMENT for anything else
   */
  public static Priority parse(String text, Priority fallback) {
    if (text == null || text.isBlank()) {
      return fallback;
    }
    String value = text.trim();
    return switch (value.toLowerCase(Locale.ROOT)) {
      case "1", "high" -> HIGH;
      case "2", "normal" -> NORMAL;
      case "3", "low" -> LOW;
      default -> throw ServingException.invalidArgument("Priority must be high, normal or low (or 1, 2, 3), not '"
          + (value.length() > 32 ? value.substring(0, 32) + "..." : value) + "'");
    };
  }

  /** Whether this priority goes before {@code other}. */
  public boolean isAbove(Priority other) {
    return level < other.level;
  }
}
