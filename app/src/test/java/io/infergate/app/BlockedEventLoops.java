package io.infergate.app;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.AppenderBase;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Fails a test when Vert.x reported an event loop blocked while it ran (or while its class set
 * up): the tests run with {@code infergate.max_event_loop_block_ms} tight, and logback hands
 * Vert.x's blocked-thread warnings to this appender. Registered for every test class through
 * JUnit's extension auto-detection.
 */
public final class BlockedEventLoops extends AppenderBase<ILoggingEvent> implements AfterEachCallback, AfterAllCallback {

  private static final List<String> REPORTS = new ArrayList<>();
  private static int checked;

  @Override
  protected void append(ILoggingEvent event) {
    if (event.getFormattedMessage().contains("vert.x-eventloop-thread")) {
      synchronized (REPORTS) {
        REPORTS.add(event.getFormattedMessage());
      }
    }
  }

  @Override
  public void afterEach(ExtensionContext context) {
    check(context);
  }

  @Override
  public void afterAll(ExtensionContext context) {
    check(context);
  }

  /** The reports since the last check, which they no longer fail. */
  static List<String> takeReports() {
    synchronized (REPORTS) {
      List<String> reports = List.copyOf(REPORTS.subList(checked, REPORTS.size()));
      checked = REPORTS.size();
      return reports;
    }
  }

  private static void check(ExtensionContext context) {
    List<String> reports = takeReports();
    if (!reports.isEmpty()) {
      throw new AssertionError("An event loop was blocked during " + context.getDisplayName() + ": " + reports);
    }
  }
}
