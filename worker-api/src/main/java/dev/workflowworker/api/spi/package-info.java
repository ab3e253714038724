/**
 * The service provider interface for transports and lock stores: what the engine needs from a
 * durable stream ({@link dev.workflowworker.api.spi.EventTransport}) and from a distributed lock
 * ({@link dev.workflowworker.api.spi.LockProvider}). Hosts that only write handlers never need
 * this package; the project's {@code docs/ARCHITECTURE.md} describes how to implement it.
 *
 * <p>Like the rest of worker-api, this package depends on the JDK only.
 */
package dev.workflowworker.api.spi;
