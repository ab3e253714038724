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
 * there to use; this is its counterpart for the transport, and like it takes each thread from
 * the host's factory when the host gives one.
 */
public final class TransportThreads {

    private final String suffix;
    /** The host's factory, or null for plain threads. */
    private final ThreadFactory host;

    /** @param stream the stream the threads serve, the last part of their names */
    public TransportThreads(String stream) {
        this(stream, null);
    }

    /**
     * @param stream the stream the threads serve, the last part of their names
     * @param host   the host's factory every thread comes from, or null for plain threads
     */
    public TransportThreads(String stream, ThreadFactory host) {
        this.suffix = "-" + stream;
        this.host = host;
    }

    /** {@return a daemon thread named {@code workflow-worker-<role>-<stream>}, not started} */
    public Thread newThread(String role, Runnable task) {
        Thread t = host != null ? host.newThread(task) : new Thread(task);
        if (t == null) {
            throw new IllegalStateException("the host's thread factory made no thread for " + role);
        }
        t.setName("workflow-worker-" + role + suffix);
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
