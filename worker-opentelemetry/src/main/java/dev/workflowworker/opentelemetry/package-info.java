/**
 * OpenTelemetry traces across the stream. {@link dev.workflowworker.opentelemetry.WorkflowTracing}
 * injects the W3C trace context into an event's headers when it is published and runs each
 * processing attempt in a consumer span whose parent (or link) is the producer's span.
 */
package dev.workflowworker.opentelemetry;
