/**
 * Micrometer metrics for a {@link dev.workflowworker.core.WorkerService}:
 * {@link dev.workflowworker.micrometer.WorkflowWorkerMetrics} is a {@code MeterBinder} built on the
 * service's public API, so worker-core stays free of Micrometer.
 */
package dev.workflowworker.micrometer;
