package dev.workflowworker.core.internal;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.api.spi.LockProvider;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Takes a batch's locks with its processed markers, and completes a batch with releasing its
 * locks. With the transport's own lock store each is one step of the transport, and the commit
 * refuses a success whose lock was lost; with a lock provider of the host's own the engine
 * composes the provider with the transport's markers, and a lost lock is only noticed by the
 * watchdog (docs/ARCHITECTURE.md, "Lock providers").
 */
abstract class BatchLocking {

    final LockProvider locks;

    private BatchLocking(LockProvider locks) {
        this.locks = locks;
    }

    /**
     * @param consumer      the worker's consumer
     * @param locks         the service's lock provider
     * @param transportLocks the transport's own lock provider, if any
     * @return the combined steps when {@code locks} is the transport's own and its consumer offers
     *         them, the composed ones otherwise
     */
    static BatchLocking of(EventTransport.Consumer consumer, LockProvider locks, Optional<LockProvider> transportLocks) {
        if (consumer instanceof EventTransport.LockingConsumer own && transportLocks.orElse(null) == locks) {
            return new Combined(own, locks);
        }
        return new Composed(consumer, locks);
    }

    abstract List<EventTransport.Acquisition> acquire(List<Delivery> deliveries, Duration ttl);

    /** @return the deliveries refused because their lease was lost; still pending */
    abstract List<Delivery> completeAndRelease(List<Delivery> deliveries, List<Lock> held);

    void release(List<Lock> held) {
        if (!held.isEmpty()) {
            locks.releaseAll(held);
        }
    }

    private static final class Combined extends BatchLocking {
        private final EventTransport.LockingConsumer consumer;

        Combined(EventTransport.LockingConsumer consumer, LockProvider locks) {
            super(locks);
            this.consumer = consumer;
        }

        @Override
        List<EventTransport.Acquisition> acquire(List<Delivery> deliveries, Duration ttl) {
            return consumer.acquire(deliveries, ttl);
        }

        @Override
        List<Delivery> completeAndRelease(List<Delivery> deliveries, List<Lock> held) {
            return consumer.completeAndRelease(deliveries, held);
        }
    }

    private static final class Composed extends BatchLocking {
        private final ComposedLocking composed;

        Composed(EventTransport.Consumer consumer, LockProvider locks) {
            super(locks);
            // A host's provider cannot say whether a lock still holds: the watchdog notices a loss.
            this.composed = new ComposedLocking(consumer, locks, lock -> true);
        }

        @Override
        List<EventTransport.Acquisition> acquire(List<Delivery> deliveries, Duration ttl) {
            return composed.acquire(deliveries, ttl);
        }

        @Override
        List<Delivery> completeAndRelease(List<Delivery> deliveries, List<Lock> held) {
            return composed.completeAndRelease(deliveries, held);
        }
    }
}
