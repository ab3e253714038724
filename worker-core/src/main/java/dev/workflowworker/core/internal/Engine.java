package dev.workflowworker.core.internal;

import dev.workflowworker.api.LockProvider;
import dev.workflowworker.api.WorkflowRuntime;
import dev.workflowworker.core.WorkerConfig;

import java.time.Clock;
import java.util.concurrent.Executor;
import java.util.concurrent.ThreadFactory;
import java.util.function.BooleanSupplier;

/**
 * What every worker of one service shares.
 *
 * @param config         the settings
 * @param runtime        the host's runtime
 * @param locks          the lock provider
 * @param clock          the clock
 * @param classification the error classification chain
 * @param retryBackoff   backoff of recoverable retries
 * @param transientPause pause before in-place transient retries
 * @param listeners      the host's listeners
 * @param watchdog       the lease renewer
 * @param latency        processing-time histogram
 * @param totals         service-wide counters
 * @param executor       the host's handler executor, or null for a pool per worker
 * @param threadFactory  the host's thread factory, or null for named daemon threads
 * @param shuttingDown   true once the service is shutting down
 */
public record Engine(WorkerConfig config, WorkflowRuntime runtime, LockProvider locks, Clock clock,
                     Classification classification, Backoff retryBackoff, Backoff transientPause,
                     Listeners listeners, LockWatchdog watchdog, LatencyRecorder latency, WorkerStats totals,
                     Executor executor, ThreadFactory threadFactory, BooleanSupplier shuttingDown) {
}
