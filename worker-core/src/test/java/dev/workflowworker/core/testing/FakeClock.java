package dev.workflowworker.core.testing;

import dev.workflowworker.core.Scheduler;
import dev.workflowworker.core.TimeSource;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A time source and scheduler that jump only when told to. Wall time stands still until
 * {@link #advance}; monotonic time runs with the real one plus every jump, so loops that wait in
 * real time still make progress. Scheduled tasks run on the thread that calls {@link #advance},
 * once their due time is reached, never by themselves. Thread-safe.
 */
public final class FakeClock implements TimeSource, Scheduler {

    private final AtomicLong millis;
    private final AtomicLong offsetNanos = new AtomicLong();
    private final PriorityQueue<Task> tasks = new PriorityQueue<>(Comparator.comparingLong((Task t) -> t.dueNanos)
            .thenComparingLong(t -> t.seq));
    private long seq;

    private static final class Task {
        final long dueNanos;
        final long seq;
        final Runnable body;
        final CompletableFuture<Void> handle = new CompletableFuture<>();

        Task(long dueNanos, long seq, Runnable body) {
            this.dueNanos = dueNanos;
            this.seq = seq;
            this.body = body;
        }
    }

    public FakeClock(Instant start) {
        this.millis = new AtomicLong(start.toEpochMilli());
    }

    public FakeClock() {
        this(Instant.parse("2026-01-01T00:00:00Z"));
    }

    /** Moves both clocks forward and runs the tasks that fall due, in order, on this thread. */
    public void advance(Duration d) {
        millis.addAndGet(d.toMillis());
        offsetNanos.addAndGet(d.toNanos());
        runDue();
    }

    /** Runs the tasks due now, including ones they schedule that are due now too. */
    public void runDue() {
        while (true) {
            Task next;
            synchronized (tasks) {
                next = tasks.peek();
                if (next == null || next.dueNanos - nanoTime() > 0) {
                    return;
                }
                tasks.poll();
            }
            if (!next.handle.isCancelled()) {
                next.body.run();
                next.handle.complete(null);
            }
        }
    }

    /** @return how many scheduled tasks wait, cancelled ones included */
    public int scheduledCount() {
        synchronized (tasks) {
            List<Task> live = new ArrayList<>(tasks);
            live.removeIf(t -> t.handle.isCancelled());
            return live.size();
        }
    }

    @Override
    public Future<?> schedule(Runnable task, Duration delay) {
        synchronized (tasks) {
            Task t = new Task(nanoTime() + delay.toNanos(), seq++, task);
            tasks.add(t);
            return t.handle;
        }
    }

    @Override
    public long wallMillis() {
        return millis.get();
    }

    @Override
    public long nanoTime() {
        return System.nanoTime() + offsetNanos.get();
    }

    @Override
    public Instant instant() {
        return Instant.ofEpochMilli(millis.get());
    }

    /** @return the wall time in epoch milliseconds, as {@code java.time.Clock.millis()} would */
    public long millis() {
        return millis.get();
    }
}
