/**
 * The in-memory transport and lock provider: the embedded default when a service is given no
 * transport. Same semantics as the Redis transport within one JVM (pending visibility, delayed
 * retries, dead letters, processed markers, fencing tokens), nothing survives the JVM.
 */
package dev.workflowworker.core.memory;
