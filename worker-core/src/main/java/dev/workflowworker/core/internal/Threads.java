package dev.workflowworker.core.internal;

import dev.workflowworker.core.Scheduler;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;

/**
 * Creates the service's threads through the host's factory (or plain threads), as daemons named
 * {@code workflow-worker-<instance>-<role>} so that a thread dump of a host running several
 * services tells them apart; and the service's own schedulers, made of such threads, which it
 * shuts down at the end.
 */
public final class Threads {

    private final ThreadFactory factory;
    private final String prefix;
    private final List<ScheduledExecutorService> schedulers = new CopyOnWriteArrayList<>();

    /**
     * @param factory    the host's factory, or null for plain threads
     * @param instanceId the service's instance id
     */
    public Threads(ThreadFactory factory, String instanceId) {
        this.factory = factory;
        this.prefix = "workflow-worker-" + instanceId + "-";
    }

    /**
     * @param role what the thread does, e.g. {@code 3-exec-2} or {@code shutdown}
     * @param task what it runs
     * @return the thread, not started
     */
    public Thread newThread(String role, Runnable task) {
        Thread t = factory != null ? factory.newThread(task) : new Thread(task);
        t.setName(prefix + role);
        t.setDaemon(true);
        return t;
    }

    /**
     * @param role the role of the factory's threads
     * @return a factory of threads named {@code <role>-1}, {@code <role>-2}, ...
     */
    public ThreadFactory factory(String role) {
        java.util.concurrent.atomic.AtomicInteger n = new java.util.concurrent.atomic.AtomicInteger();
        return r -> newThread(role + "-" + n.incrementAndGet(), r);
    }

    /**
     * @param role the role of its one thread
     * @return a scheduler of its own, shut down by {@link #shutdownSchedulers()}
     */
    public Scheduler scheduler(String role) {
        ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(1, r -> newThread(role, r));
        // Renewal sweeps are rescheduled for ever; keep cancelled ones from piling up in the queue.
        s.setRemoveOnCancelPolicy(true);
        schedulers.add(s);
        return Scheduler.of(s);
    }

    /** Shuts down every scheduler made by {@link #scheduler(String)}, dropping what is queued. */
    public void shutdownSchedulers() {
        schedulers.forEach(ScheduledExecutorService::shutdownNow);
    }
}
