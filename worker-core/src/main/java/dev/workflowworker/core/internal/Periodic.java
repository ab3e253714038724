package dev.workflowworker.core.internal;

import dev.workflowworker.core.Scheduler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.Future;

/**
 * A task run with a fixed delay between runs on a {@link Scheduler}, which only knows one-shot
 * tasks. A run that throws is logged and the next one still happens: one failed health check must
 * not end health checking.
 */
public final class Periodic {

    private static final Logger log = LoggerFactory.getLogger(Periodic.class);

    private final Scheduler scheduler;
    private final Duration delay;
    private final Runnable task;
    private volatile boolean cancelled;
    private volatile Future<?> next;

    private Periodic(Scheduler scheduler, Duration delay, Runnable task) {
        this.scheduler = scheduler;
        this.delay = delay;
        this.task = task;
    }

    /**
     * @param scheduler the scheduler
     * @param delay     the delay before the first run and between two runs
     * @param task      the task
     * @return the running schedule
     */
    public static Periodic start(Scheduler scheduler, Duration delay, Runnable task) {
        Periodic p = new Periodic(scheduler, delay, task);
        p.next = scheduler.schedule(p::run, delay);
        return p;
    }

    private void run() {
        if (cancelled) {
            return;
        }
        try {
            task.run();
        } catch (RuntimeException e) {
            log.error("periodic task {} failed; it runs again in {} ms", task, delay.toMillis(), e);
        }
        if (!cancelled) {
            try {
                next = scheduler.schedule(this::run, delay);
            } catch (RuntimeException e) {
                // A scheduler shut down under us: the service is terminating.
                log.debug("periodic task {} not rescheduled: {}", task, e.toString());
            }
        }
    }

    /** Stops the schedule; a run in progress finishes. */
    public void cancel() {
        cancelled = true;
        Future<?> f = next;
        if (f != null) {
            f.cancel(false);
        }
    }
}
