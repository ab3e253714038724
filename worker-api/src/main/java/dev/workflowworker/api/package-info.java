/**
 * The public contract of workflow-worker: the event model, the SPIs a host implements
 * ({@link dev.workflowworker.api.WorkflowRuntime}, {@link dev.workflowworker.api.WorkflowAction},
 * {@link dev.workflowworker.api.ErrorClassifier}, {@link dev.workflowworker.api.WorkerListener}),
 * and the health value types. What a transport or lock store implements is in
 * {@link dev.workflowworker.api.spi}.
 *
 * <p>This package depends on the JDK only, so that a host or a transport can be written against
 * it without pulling in the engine's dependencies.
 */
package dev.workflowworker.api;
