/**
 * The operator's web page: health, workers, queues, throughput and dead letters of one
 * {@link dev.workflowworker.core.WorkerService}, with search, replay, purge, pause, resume and
 * scale. {@link dev.workflowworker.dashboard.Dashboard} answers requests independently of any
 * server; {@link dev.workflowworker.dashboard.DashboardHttpHandler} mounts it on the JDK's
 * {@code HttpServer} and {@link dev.workflowworker.dashboard.DashboardServlet} in a servlet
 * container. See {@code docs/ARCHITECTURE.md}.
 */
package dev.workflowworker.dashboard;
