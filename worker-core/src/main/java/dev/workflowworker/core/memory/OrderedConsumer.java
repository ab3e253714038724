package dev.workflowworker.core.memory;

import dev.workflowworker.api.DeadLetter;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.core.internal.ComposedLocking;
import dev.workflowworker.core.order.KeySequencer;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/**
 * A consumer of the ordered transport: all consumers take from the one sequencer, so any
 * worker may run any key, but only one at a time and in order. A retry keeps its key's place
 * until it is due. Its locks never contend with each other (one delivery per key is out), so
 * they only add the fencing token; they still contend with a reclaimed delivery's first
 * handler if that one has not let go, and the contention then waits in place too.
 */
final class OrderedConsumer extends MemoryConsumer
        implements EventTransport.LockingConsumer, ComposedLocking.StagedCompletion {

    private final KeySequencer sequencer;
    private final ComposedLocking locking;

    OrderedConsumer(InMemoryEventTransport transport, String name) {
        super(transport, name);
        this.sequencer = transport.sequencer;
        this.locking = new ComposedLocking(this, transport.locks, transport.locks::holdUntilReleased);
    }

    @Override
    public List<Delivery> read(int max, Duration maxWait) throws InterruptedException {
        if (transport.isClosed()) {
            return List.of();
        }
        timers.runDue();
        long seen = sequencer.signals(); // before the bound: a wake while it is computed is not lost
        List<Delivery> out = sequencer.poll(max);
        if (out.isEmpty()) {
            sequencer.await(timers.bound(maxWait).toNanos(), seen);
            timers.runDue();
            out = sequencer.poll(max);
        }
        pending.add(out, name);
        return out;
    }

    // Each outcome takes the delivery out of pending first: only the call that does acts, so a
    // repeated or late outcome cannot settle the key's next delivery in its place.
    @Override
    public void complete(List<Delivery> deliveries) {
        List<String> taken = new ArrayList<>(deliveries.size());
        try {
            mark(deliveries, taken);
        } finally {
            settle(taken);
        }
    }

    // The composed commit (its own locks', or a host provider's) marks, releases the locks, then
    // makes the keys' next deliveries ready: made ready first, one could meet its predecessor's
    // lock and wait a contention delay.
    @Override
    public Runnable mark(List<Delivery> deliveries) {
        List<String> taken = new ArrayList<>(deliveries.size());
        try {
            mark(deliveries, taken);
        } catch (RuntimeException e) {
            settle(taken);
            throw e;
        }
        return () -> settle(taken);
    }

    /** Takes the deliveries out of pending and marks their events, adding to {@code taken} the id of each it took. */
    private void mark(List<Delivery> deliveries, List<String> taken) {
        for (Delivery d : deliveries) {
            if (!pending.take(d)) {
                continue;
            }
            taken.add(d.id());
            if (d.eventId() != null) {
                markers.mark(d.eventId());
            }
        }
    }

    private void settle(List<String> taken) {
        if (!taken.isEmpty()) {
            sequencer.settledAll(taken);
        }
    }

    @Override
    public void acknowledge(Delivery delivery) {
        if (pending.take(delivery)) {
            sequencer.settled(delivery.id());
        }
    }

    @Override
    public void retryAt(Delivery delivery, Instant dueAt, int attempt) {
        if (pending.take(delivery)) {
            sequencer.hold(delivery.id(), dueAt.toEpochMilli(), attempt);
        }
    }

    @Override
    public void deadLetter(Delivery delivery, DeadLetter letter) {
        if (pending.take(delivery)) {
            transport.addDeadLetter(delivery, letter);
            sequencer.settled(delivery.id());
        }
    }

    @Override
    public void release(Collection<Delivery> deliveries) {
        for (Delivery d : deliveries) {
            if (pending.take(d)) {
                sequencer.handBack(d.id());
            }
        }
    }

    @Override
    public List<EventTransport.Acquisition> acquire(List<Delivery> deliveries, Duration ttl) {
        return locking.acquire(deliveries, ttl);
    }

    @Override
    public List<Delivery> completeAndRelease(List<Delivery> deliveries, List<Lock> held) {
        return locking.completeAndRelease(deliveries, held); // staged: see mark
    }
}
