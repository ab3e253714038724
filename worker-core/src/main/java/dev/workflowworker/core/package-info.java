/**
 * The engine: {@link dev.workflowworker.core.WorkerService}, its configuration
 * {@link dev.workflowworker.core.WorkerConfig}, and {@link dev.workflowworker.core.ActionRuntime},
 * which routes events to a host's actions by event type.
 */
package dev.workflowworker.core;
