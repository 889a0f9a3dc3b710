package io.infergate.common.metrics;

/**
 * Every metric name Infergate registers, in one place (Micrometer's dotted form; Prometheus
 * shows {@code infergate_batch_size} and so on). The {@code TF_SERVING_} ones keep TF Serving's
 * names, so its dashboards and alerts work unchanged.
 */
public final class MetricNames {

  public static final String BATCH_EXECUTIONS = "infergate.batch.executions";
  public static final String BATCH_EXPIRED = "infergate.batch.expired";
  public static final String BATCH_INFERENCES = "infergate.batch.inferences";
  public static final String BATCH_PADDING = "infergate.batch.padding";
  public static final String BATCH_QUEUE_DEPTH = "infergate.batch.queue.depth";
  public static final String BATCH_QUEUE_WAIT = "infergate.batch.queue.wait";
  public static final String BATCH_REJECTED = "infergate.batch.rejected";
  public static final String BATCH_RUN = "infergate.batch.run";
  public static final String BATCH_SHED = "infergate.batch.shed";
  public static final String BATCH_SIZE = "infergate.batch.size";
  public static final String BATCH_TUNED_SIZE = "infergate.batch.tuned.size";
  public static final String BATCH_TUNED_TIMEOUT = "infergate.batch.tuned.timeout";
  public static final String CONNECTIONS_OPEN = "infergate.connections.open";
  public static final String EVENTLOOP_LAG = "infergate.eventloop.lag";
  public static final String FEATURES_CACHE = "infergate.features.cache";
  public static final String FEATURES_DEFAULTS = "infergate.features.defaults";
  public static final String FEATURES_FETCH = "infergate.features.fetch";
  public static final String FEATURES_STALE = "infergate.features.stale";
  public static final String GPU_MEMORY_TOTAL = "infergate.gpu.memory.total";
  public static final String GPU_MEMORY_USED = "infergate.gpu.memory.used";
  public static final String GPU_UTILIZATION = "infergate.gpu.utilization";
  public static final String MODEL_LOAD = "infergate.model.load";
  public static final String MODEL_MEMORY = "infergate.model.memory";
  public static final String MODEL_STATE = "infergate.model.state";
  public static final String PAGING_COLD_START = "infergate.paging.cold_start";
  public static final String PAGING_EVICTIONS = "infergate.paging.evictions";
  public static final String PAGING_LOADS = "infergate.paging.loads";
  public static final String PAGING_REQUESTS = "infergate.paging.requests";
  public static final String REQUEST_LATENCY = "infergate.request.latency";
  public static final String REQUESTS_IN_FLIGHT = "infergate.requests.in_flight";
  public static final String REQUESTS_IN_FLIGHT_BYTES = "infergate.requests.in_flight.bytes";
  public static final String QUOTA_REJECTED = "infergate.quota.rejected";
  public static final String REQUESTS_SHED = "infergate.requests.shed";
  public static final String RESPONSE_CACHE_BYTES = "infergate.response.cache.bytes";
  public static final String RESPONSE_CACHE_EVICTIONS = "infergate.response.cache.evictions";
  public static final String RESPONSE_CACHE_HITS = "infergate.response.cache.hits";
  public static final String RESPONSE_CACHE_MISSES = "infergate.response.cache.misses";
  public static final String SHADOW_LATENCY = "infergate.shadow.latency";
  public static final String VARIANT_REQUESTS = "infergate.variant.requests";
  public static final String WARMUP_PROGRESS = "infergate.warmup.progress";
  public static final String WARMUP_REQUESTS = "infergate.warmup.requests";
  public static final String WORKER_MEMORY_BUDGET = "infergate.worker.memory.budget";
  public static final String WORKER_MEMORY_USED = "infergate.worker.memory.used";
  public static final String WORKER_REQUESTS_IN_FLIGHT = "infergate.worker.requests.in_flight";
  public static final String TF_SERVING_BATCHING_SESSION_INPUT_BATCH_SIZE = "tensorflow.serving.batching_session.input_batch_size";
  public static final String TF_SERVING_BATCHING_SESSION_PADDING_SIZE = "tensorflow.serving.batching_session.padding_size";
  public static final String TF_SERVING_BATCHING_SESSION_PROCESSED_BATCH_SIZE = "tensorflow.serving.batching_session.processed_batch_size";
  public static final String TF_SERVING_BATCHING_SESSION_QUEUING_LATENCY = "tensorflow.serving.batching_session.queuing_latency";
  public static final String TF_SERVING_REQUEST_COUNT = "tensorflow.serving.request_count";
  public static final String TF_SERVING_REQUEST_LATENCY = "tensorflow.serving.request_latency";

  private MetricNames() {}
}
