package dev.workflowworker.core.internal;

import dev.workflowworker.api.WorkerHealth;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntFunction;

/**
 * Owns a service's workers: starts them, scales them, replaces unhealthy ones, pauses them and
 * stops them, all under one lock, so that no worker can be started after shutdown began, nor be
 * missed by it.
 */
public final class Supervisor {

    private static final Logger log = LoggerFactory.getLogger(Supervisor.class);

    private final Object lock = new Object();
    private final IntFunction<WorkflowWorker> newWorker;
    private final Threads threads;
    private final Engine engine;
    /** Guarded by lock. */
    private final List<WorkflowWorker> workers = new ArrayList<>();
    /** Guarded by lock: stopped reading, finishing their in-flight events. */
    private final List<WorkflowWorker> retiring = new ArrayList<>();
    /** The service's pause: written under lock, and every worker started or resumed follows it. */
    private volatile boolean paused;
    private boolean stopping;
    private volatile int target;

    /**
     * @param newWorker creates (without starting) the worker for a slot index, from 1
     * @param engine    what the workers share
     */
    public Supervisor(IntFunction<WorkflowWorker> newWorker, Engine engine) {
        this.newWorker = newWorker;
        this.engine = engine;
        this.threads = engine.threads();
    }

    /** @param count how many workers to start */
    public void start(int count) {
        synchronized (lock) {
            target = count;
            for (int i = 1; i <= count; i++) {
                startWorker(i);
            }
        }
    }

    private void startWorker(int index) {
        WorkflowWorker w = newWorker.apply(index);
        if (paused) {
            w.paused(true);
        }
        workers.add(w);
        w.start();
    }

    /**
     * Changes the number of workers. Retired workers stop reading, finish their in-flight events
     * up to {@code drainTimeout}, then hand the rest back and close.
     *
     * @param count        the new number of workers
     * @param drainTimeout how long a retired worker may take to finish
     * @return false if the service is stopping and nothing changed
     */
    public boolean scale(int count, Duration drainTimeout) {
        synchronized (lock) {
            if (stopping) {
                return false;
            }
            target = count;
            while (workers.size() < count) {
                startWorker(lowestFreeIndex());
            }
            while (workers.size() > count) {
                WorkflowWorker w = workers.stream().max(Comparator.comparingInt(WorkflowWorker::index)).orElseThrow();
                retireGracefully(w, drainTimeout);
            }
            return true;
        }
    }

    private int lowestFreeIndex() {
        for (int i = 1; ; i++) {
            int candidate = i;
            if (workers.stream().noneMatch(w -> w.index() == candidate)) {
                return i;
            }
        }
    }

    private void retireGracefully(WorkflowWorker w, Duration drainTimeout) {
        workers.remove(w);
        retiring.add(w);
        w.stopReading();
        long deadline = engine.time().nanoTime() + drainTimeout.toNanos();
        threads.newThread("retire-" + w.index(), () -> {
            try {
                w.drain(() -> deadline);
            } finally {
                if (forget(w)) {
                    w.close();
                }
            }
        }).start();
    }

    /** Starts workers missing from the target, e.g. a replacement whose consumer could not be opened. */
    private void fillUp() {
        while (workers.size() < target) {
            int index = lowestFreeIndex();
            try {
                startWorker(index);
            } catch (RuntimeException e) {
                log.warn("could not start worker {}; the next health check tries again: {}", index, e.toString());
                return;
            }
        }
    }

    /** @param pause true to stop reading on every worker, false to resume */
    public void pause(boolean pause) {
        synchronized (lock) {
            paused = pause;
            workers.forEach(w -> w.paused(pause));
        }
    }

    /** @return true between {@code pause(true)} and {@code pause(false)} */
    public boolean isPaused() {
        return paused;
    }

    /**
     * Rolls the failure windows, replaces unhealthy workers and closes retired ones that are done.
     *
     * @param nowMillis clock time
     * @param t         the health thresholds
     */
    public void check(long nowMillis, HealthRules.Thresholds t) {
        List<WorkflowWorker> done = new ArrayList<>();
        synchronized (lock) {
            for (WorkflowWorker w : new ArrayList<>(workers)) {
                w.stats().tick();
                if (!stopping && w.isUnhealthy(nowMillis, t)) {
                    WorkerHealth h = w.health(nowMillis, t);
                    log.warn("replacing unhealthy worker {}: {}", w.id(), h.reason());
                    workers.remove(w);
                    retiring.add(w);
                    w.replaced();
                    w.retire();
                    // A listener told of the replacement may have begun the shutdown; a replacement
                    // that cannot start now is started by fillUp at this or a later check.
                    if (!stopping) {
                        try {
                            startWorker(w.index());
                        } catch (RuntimeException e) {
                            log.warn("could not start a replacement for worker {}: {}", w.id(), e.toString());
                        }
                    }
                }
            }
            if (!stopping) {
                fillUp();
            }
            for (WorkflowWorker w : new ArrayList<>(retiring)) {
                if (w.isDrained()) {
                    retiring.remove(w);
                    done.add(w);
                }
            }
        }
        // Closing settles queued successes and may wait on the store: not under the lock.
        done.forEach(WorkflowWorker::close);
    }

    /**
     * Stops reading on every worker; from now on no worker starts.
     *
     * @return every worker that still has to drain and close
     */
    public List<WorkflowWorker> stopAll() {
        synchronized (lock) {
            stopping = true;
            List<WorkflowWorker> all = new ArrayList<>(workers);
            all.addAll(retiring);
            all.forEach(WorkflowWorker::stopReading);
            return all;
        }
    }

    /**
     * @param w a worker
     * @return true if it was still owned here, and the caller now closes it
     */
    public boolean forget(WorkflowWorker w) {
        synchronized (lock) {
            return workers.remove(w) || retiring.remove(w);
        }
    }

    /** @return the current (not retiring) workers */
    public List<WorkflowWorker> workers() {
        synchronized (lock) {
            return new ArrayList<>(workers);
        }
    }

    /** @return how many workers the service should run */
    public int target() {
        return target;
    }
}
