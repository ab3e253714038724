package dev.workflowworker.core.internal;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.core.TimeSource;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * Takes a batch just read: locks it and checks its markers in one call, settles duplicates and
 * contended events, and starts a handler for each of the rest. Runs on the loop thread and never
 * throws. Every delivery of the batch holds a slot on entry; each gives it back here or when its
 * handler is done.
 */
final class Dispatcher {

    private final Slots slots;
    private final ReadGate gate;
    private final Settlement settlement;
    private final Settler settler;
    private final BatchLocking locking;
    private final ContentionBackoff contention;
    private final Executor executor;
    private final Consumer<InFlight> handler;
    private final TimeSource time;
    private final Duration lockTtl;
    private final Duration contentionBase;

    Dispatcher(Slots slots, ReadGate gate, Settlement settlement, Settler settler, BatchLocking locking,
               ContentionBackoff contention, Executor executor, Consumer<InFlight> handler, TimeSource time,
               Duration lockTtl, Duration contentionBase) {
        this.slots = slots;
        this.gate = gate;
        this.settlement = settlement;
        this.settler = settler;
        this.locking = locking;
        this.contention = contention;
        this.executor = executor;
        this.handler = handler;
        this.time = time;
        this.lockTtl = lockTtl;
        this.contentionBase = contentionBase;
    }

    /**
     * @param batch   deliveries now pending on this worker's consumer
     * @param granted slots taken for the read, at least {@code batch.size()}
     */
    void dispatch(List<Delivery> batch, int granted) {
        dispatch(batch, granted, false);
    }

    /**
     * As {@link #dispatch(List, int)}, for the refill a commit made on a handler's thread.
     *
     * @param afterCohortCommit true when that commit was a cohort's ({@link Settler#started})
     */
    void dispatch(List<Delivery> batch, int granted, boolean afterCohortCommit) {
        slots.release(granted - batch.size());
        if (batch.isEmpty()) {
            return;
        }
        // A read that was blocked when pause() or shutdown began must not start new handlers.
        if (!gate.isOpen()) {
            settlement.handBack(batch);
            slots.release(batch.size());
            return;
        }
        List<Delivery> events = new ArrayList<>(batch.size());
        List<InFlight> start = new ArrayList<>(batch.size());
        for (Delivery d : batch) {
            if (d.isMalformed()) {
                start.add(new InFlight(d));
            } else {
                events.add(d);
            }
        }
        if (!events.isEmpty()) {
            lock(events, start);
        }
        submitAll(start, afterCohortCommit);
    }

    /** Locks {@code events} and adds those to run to {@code start}; settles the rest. */
    private void lock(List<Delivery> events, List<InFlight> start) {
        long sentAt = time.nanoTime();
        List<EventTransport.Acquisition> acquired;
        try {
            acquired = locking.acquire(events, lockTtl);
        } catch (RuntimeException ex) {
            settlement.infraError("lock acquisition failed", ex);
            for (Delivery d : events) {
                settlement.retryQuietly(d, contentionBase, d.attempt());
            }
            slots.release(events.size());
            return;
        }
        List<Lock> duplicateLocks = null;
        List<Delivery> duplicates = null;
        for (int i = 0; i < events.size(); i++) {
            Delivery d = events.get(i);
            EventTransport.Acquisition a = acquired.get(i);
            if (a.completed()) {
                if (duplicates == null) {
                    duplicates = new ArrayList<>();
                    duplicateLocks = new ArrayList<>();
                }
                duplicates.add(d);
                a.lock().ifPresent(duplicateLocks::add);
                continue;
            }
            String key = d.event().lockKey();
            if (a.lock().isEmpty()) {
                settlement.contended(d, contention.next(key));
                slots.release(1);
                continue;
            }
            contention.acquired(key);
            start.add(new InFlight(d, a.lock().get(), sentAt));
        }
        if (duplicates != null) {
            // Released before the acknowledgement, which may make the key's next event ready (an
            // ordered transport): it would meet the lock still held and wait a contention delay.
            settlement.releaseLocks(duplicateLocks);
            for (Delivery d : duplicates) {
                settlement.duplicate(d);
            }
            slots.release(duplicates.size());
        }
    }

    /** A handler's task, which knows its delivery so a refused one can be handed back. */
    private final class Run implements Runnable {
        final InFlight f;

        Run(InFlight f) {
            this.f = f;
        }

        @Override
        public void run() {
            handler.accept(f);
        }
    }

    /** Starts handlers for a batch: to the worker's own pool as one hand-over, to a host's executor one by one. */
    private void submitAll(List<InFlight> start, boolean afterCohortCommit) {
        if (start.isEmpty()) {
            return;
        }
        slots.trackAll(start);
        // Grouped before any handler starts: the last of a group to finish commits it.
        settler.started(start, afterCohortCommit);
        if (executor instanceof HandlerPool pool) {
            List<Run> runs = new ArrayList<>(start.size());
            for (InFlight f : start) {
                runs.add(new Run(f));
            }
            for (Runnable refused : pool.executeAll(runs)) {
                refuse(((Run) refused).f);
            }
            return;
        }
        for (InFlight f : start) {
            try {
                executor.execute(new Run(f));
            } catch (RejectedExecutionException ex) {
                refuse(f);
            }
        }
    }

    private void refuse(InFlight f) {
        settler.neverRan(f);
        if (f.lock != null) {
            settlement.releaseLocks(List.of(f.lock));
        }
        settlement.handBack(List.of(f.delivery));
        slots.finish(f);
    }
}
