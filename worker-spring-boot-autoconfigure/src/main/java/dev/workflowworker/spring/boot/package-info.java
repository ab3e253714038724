/**
 * Spring Boot auto-configuration of workflow workers: {@code workflow.worker.*} properties,
 * handlers as beans ({@link dev.workflowworker.spring.boot.WorkflowHandler}), a
 * {@code WorkerService} started when the application is ready and drained in the graceful-shutdown
 * phase, an actuator health indicator, Micrometer metrics and OpenTelemetry tracing when present,
 * and the operator's dashboard when the host enables it. Every bean backs off when the host
 * defines its own.
 */
package dev.workflowworker.spring.boot;
