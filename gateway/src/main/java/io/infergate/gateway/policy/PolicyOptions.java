package io.infergate.gateway.policy;

import java.nio.file.Path;

/**
 * Where a gateway's serving policy comes from, and where shared answers go.
 *
 * @param file the text-format {@code ServingPolicy} file, or null for none
 * @param filePollSeconds how often the file is read again for changes; 0 = only at start
 * @param responseCacheRedis the Redis URI of the shared response cache, or null for none
 */
public record PolicyOptions(Path file, int filePollSeconds, String responseCacheRedis) {

  public static final PolicyOptions NONE = new PolicyOptions(null, 0, null);
}
