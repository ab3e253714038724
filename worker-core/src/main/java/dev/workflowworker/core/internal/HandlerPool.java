package dev.workflowworker.core.internal;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * A worker's handler threads: at most {@code max}, started on demand. Unlike a
 * {@code ThreadPoolExecutor}, whose queue wakes a parked thread for nearly every task, a task here
 * wakes a thread only when no thread is awake looking for work. A burst of short handlers then runs
 * on the few threads already awake instead of waking one thread per event (profiles of the no-op
 * benchmark showed a third of the JVM's time in park/unpark); long handlers still get a thread each,
 * because a thread that starts a task while others wait wakes the next one first.
 */
final class HandlerPool implements Executor {

    private static final Logger log = LoggerFactory.getLogger(HandlerPool.class);

    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    /** Parked threads, most recently parked first (its caches are warmest). */
    private final ConcurrentLinkedDeque<Waiter> idle = new ConcurrentLinkedDeque<>();
    /** Threads awake and not running a task: they will see a new task without being woken. */
    private final AtomicInteger searching = new AtomicInteger();
    private final AtomicInteger started = new AtomicInteger();
    private final Set<Thread> threads = ConcurrentHashMap.newKeySet();
    private final int max;
    private final ThreadFactory factory;
    private volatile boolean shutdown;

    private static final class Waiter {
        final Thread thread;
        volatile boolean woken;

        Waiter(Thread thread) {
            this.thread = thread;
        }
    }

    /**
     * @param max     the most threads, at least 1
     * @param factory makes (unstarted) threads
     */
    HandlerPool(int max, ThreadFactory factory) {
        if (max < 1) {
            throw new IllegalArgumentException("max must be >= 1: " + max);
        }
        this.max = max;
        this.factory = factory;
    }

    @Override
    public void execute(Runnable task) {
        if (shutdown) {
            throw new RejectedExecutionException("the handler pool is shut down");
        }
        tasks.offer(task);
        // A shutdown racing this call may have stopped every thread: the task would never run.
        if (shutdown && tasks.remove(task)) {
            throw new RejectedExecutionException("the handler pool is shut down");
        }
        if (searching.get() == 0) {
            try {
                signal();
            } catch (RuntimeException | OutOfMemoryError e) {
                // With no thread at all the task would wait forever: refuse it so the caller hands
                // it back. Otherwise a running thread takes it when it frees up.
                if (started.get() == 0 && tasks.remove(task)) {
                    throw new RejectedExecutionException("no handler thread could be started", e);
                }
                log.warn("could not start another handler thread: {}", e.toString());
            }
        }
    }

    /**
     * Queues a batch's tasks together and wakes at most one thread for all of them (that thread
     * wakes a helper when it starts a task while more wait, as for {@link #execute}). Submitted one
     * at a time, short tasks let the threads fall idle between two submits, and each submit woke
     * one: a park and an unpark per event (docs/BENCHMARKS.md, "JVM path").
     *
     * @return the tasks refused because the pool is shut down (or no thread could start); they never run
     */
    List<Runnable> executeAll(List<? extends Runnable> batch) {
        if (shutdown) {
            return new ArrayList<>(batch);
        }
        tasks.addAll(batch);
        if (shutdown) {
            return withdraw(batch);
        }
        if (searching.get() == 0) {
            try {
                signal();
            } catch (RuntimeException | OutOfMemoryError e) {
                if (started.get() == 0) {
                    return withdraw(batch);
                }
                log.warn("could not start another handler thread: {}", e.toString());
            }
        }
        return List.of();
    }

    /** @return those of {@code batch} still queued, now removed: no thread took them */
    private List<Runnable> withdraw(List<? extends Runnable> batch) {
        List<Runnable> refused = new ArrayList<>();
        for (Runnable t : batch) {
            if (tasks.remove(t)) {
                refused.add(t);
            }
        }
        return refused;
    }

    /** Wakes an idle thread or starts a new one; with all threads busy the task waits its turn. */
    private void signal() {
        Waiter w = idle.pollFirst();
        if (w != null) {
            // Counted as searching before it runs, so concurrent submitters do not wake a second one.
            searching.incrementAndGet();
            w.woken = true;
            LockSupport.unpark(w.thread);
            return;
        }
        int n;
        while ((n = started.get()) < max) {
            if (started.compareAndSet(n, n + 1)) {
                searching.incrementAndGet();
                Thread t = null;
                try {
                    Thread[] holder = new Thread[1];
                    t = factory.newThread(() -> work(new Waiter(holder[0])));
                    holder[0] = t;
                    threads.add(t);
                    t.start();
                } catch (RuntimeException | OutOfMemoryError e) {
                    if (t != null) {
                        threads.remove(t);
                    }
                    started.decrementAndGet();
                    searching.decrementAndGet();
                    throw e;
                }
                return;
            }
        }
    }

    private void work(Waiter self) {
        try {
            while (true) {
                Runnable task = tasks.poll();
                if (task != null) {
                    // The last awake thread is about to be busy: if more is queued, wake a helper
                    // now rather than let it wait behind this task.
                    if (searching.decrementAndGet() == 0 && !tasks.isEmpty()) {
                        try {
                            signal();
                        } catch (RuntimeException | OutOfMemoryError e) {
                            // No helper (no thread could start): this thread still runs its task,
                            // and the queue drains as threads free up.
                            log.warn("could not start another handler thread: {}", e.toString());
                        }
                    }
                    // An interrupt that reached this thread between tasks was meant for one that
                    // already ended; after shutdownNow, though, every task starts interrupted.
                    Thread.interrupted();
                    if (shutdown) {
                        Thread.currentThread().interrupt();
                    }
                    try {
                        task.run();
                    } catch (Throwable t) {
                        log.error("handler task failed unexpectedly", t);
                    }
                    Thread.interrupted(); // an interrupt meant for that task must not hit the next
                    searching.incrementAndGet();
                    continue;
                }
                if (shutdown) {
                    searching.decrementAndGet();
                    return;
                }
                self.woken = false;
                idle.addFirst(self);
                searching.decrementAndGet();
                // A task offered after the poll above, by a submitter that still counted this
                // thread as searching, would otherwise wait for the next submit.
                if (!tasks.isEmpty() && idle.remove(self)) {
                    searching.incrementAndGet();
                    continue;
                }
                while (!self.woken) {
                    if (shutdown && idle.remove(self)) {
                        return;
                    }
                    LockSupport.park(this);
                    // park returns at once while the flag is set: an interrupt reaching an idle
                    // thread would spin it. A shutdown's interrupt is seen by the check above.
                    Thread.interrupted();
                }
            }
        } finally {
            threads.remove(Thread.currentThread());
            started.decrementAndGet();
        }
    }

    /** Drops queued tasks, interrupts running ones and lets every thread exit. */
    void shutdownNow() {
        shutdown = true;
        tasks.clear();
        for (Thread t : threads) {
            t.interrupt();
            LockSupport.unpark(t);
        }
    }
}
