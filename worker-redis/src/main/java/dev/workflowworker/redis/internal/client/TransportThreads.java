package dev.workflowworker.redis.internal.client;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Every thread of a transport is made here: daemons named {@code workflow-worker-<role>-<stream>},
 * so that a thread dump tells a transport's threads apart and none of them keeps a JVM alive.
 * A transport is made before, and apart from, any {@code WorkerService}, so the service's thread
 * factory (worker-core's internal {@code Threads}, which worker-redis may not reach) is not
 * there to use; this is its counterpart for the transport.
 */
public final class TransportThreads {

    private final String suffix;

    /** @param stream the stream the threads serve, the last part of their names */
    public TransportThreads(String stream) {
        this.suffix = "-" + stream;
    }

    /** {@return a daemon thread named {@code workflow-worker-<role>-<stream>}, not started} */
    public Thread newThread(String role, Runnable task) {
        Thread t = new Thread(task, "workflow-worker-" + role + suffix);
        t.setDaemon(true);
        return t;
    }

    /** {@return a factory of threads named {@code workflow-worker-<role>-<stream>-<n>}} */
    public ThreadFactory factory(String role) {
        AtomicInteger n = new AtomicInteger();
        return r -> newThread(role + "-" + n.incrementAndGet(), r);
    }

    /** {@return one thread of its own running tasks in order} */
    public ExecutorService single(String role) {
        return Executors.newSingleThreadExecutor(r -> newThread(role, r));
    }

    /** {@return one thread of its own running timed tasks} */
    public ScheduledExecutorService scheduled(String role) {
        return new ScheduledThreadPoolExecutor(1, r -> newThread(role, r));
    }

    /** {@return threads made as needed and kept a minute when idle} */
    public ExecutorService cached(String role) {
        return Executors.newCachedThreadPool(factory(role));
    }
}
