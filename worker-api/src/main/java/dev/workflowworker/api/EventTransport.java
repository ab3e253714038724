package dev.workflowworker.api;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The transport SPI: a durable stream of events with consumer groups, a delayed-retry set, a
 * dead-letter stream and processed markers. Implementations: the in-memory transport of
 * worker-core (the embedded default) and the Redis Streams transport of worker-redis.
 *
 * <p>Every outcome operation of a {@link Consumer} removes the delivery from the pending list
 * <em>atomically</em> with its other effect (marker, retry entry or dead letter), so that a crash
 * between the two can never lose or duplicate work. Nothing else removes pending work except
 * {@link Consumer#release}, which makes it visible again.
 */
public interface EventTransport extends EventPublisher, AutoCloseable {

    /**
     * Opens a consumer for one worker. Names are unique per worker so that crash recovery can
     * tell whose pending work is stale.
     *
     * @param consumerName the unique consumer name
     * @return the consumer
     */
    Consumer openConsumer(String consumerName);

    /**
     * A lock provider backed by the same store as this transport, used by a service that is
     * given no lock provider of its own.
     *
     * @return the lock provider, or empty if the transport has none
     */
    default Optional<LockProvider> lockProvider() {
        return Optional.empty();
    }

    /**
     * The state of the stream as the transport sees it, for metrics and diagnostics. It may cost
     * a round trip to the store, so callers should not ask per event.
     *
     * @return the statistics, or empty if the transport keeps none
     * @throws RuntimeException if the store cannot be reached
     */
    default Optional<Stats> stats() {
        return Optional.empty();
    }

    /**
     * The state of the stream.
     *
     * @param lag            entries not yet delivered to any consumer, or -1 if unknown
     * @param pending        entries delivered and not yet settled
     * @param retryScheduled events waiting for a delayed retry
     * @param deadLetters    entries in the dead-letter stream
     */
    record Stats(long lag, long pending, long retryScheduled, long deadLetters) {
    }

    /**
     * What {@link Consumer#claim} found for one delivery.
     *
     * @param lock      the lock, or empty when another holder has it (or it was not taken
     *                  because the event completed before)
     * @param processed true if the event completed before: the delivery is a duplicate
     */
    record Claim(Optional<Lock> lock, boolean processed) {
        /**
         * Validates the components.
         *
         * @param lock      the lock or empty
         * @param processed whether the event completed before
         * @throws NullPointerException if {@code lock} is null
         */
        public Claim {
            java.util.Objects.requireNonNull(lock, "lock");
        }
    }

    /** Closes the transport and its connections. Idempotent. */
    @Override
    void close();

    /** One worker's view of the stream. Used by one worker, but outcome calls may come from many threads. */
    interface Consumer extends AutoCloseable {

        /**
         * Reads up to {@code max} new deliveries, waiting at most {@code maxWait} for the first
         * one. Returns as soon as any delivery is available.
         *
         * @param max     the most deliveries to return, at least 1
         * @param maxWait the longest time to block when nothing is available
         * @return the deliveries, possibly empty
         * @throws InterruptedException if the thread is interrupted while waiting
         */
        List<Delivery> poll(int max, Duration maxWait) throws InterruptedException;

        /**
         * Whether a processed marker exists for the event: it already completed successfully.
         *
         * @param eventId the event id
         * @return true if the event was completed before
         */
        boolean isProcessed(String eventId);

        /**
         * Success: acknowledges the delivery and writes the event's processed marker, atomically.
         *
         * @param delivery the delivery
         */
        void complete(Delivery delivery);

        /**
         * Which of these events have a processed marker. Transports override this to answer in
         * one round trip.
         *
         * @param eventIds the event ids
         * @return the ids among them that completed before
         */
        default Set<String> processedAmong(Collection<String> eventIds) {
            Set<String> done = new HashSet<>();
            for (String id : eventIds) {
                if (isProcessed(id)) {
                    done.add(id);
                }
            }
            return done;
        }

        /**
         * Success for several deliveries: each is acknowledged atomically with its processed
         * marker. Transports override this to do it in one round trip.
         *
         * @param deliveries the deliveries
         */
        default void completeAll(List<Delivery> deliveries) {
            for (Delivery d : deliveries) {
                complete(d);
            }
        }

        /**
         * Takes the locks of a batch of deliveries and finds which of their events completed
         * before. The default asks {@code locks} for the batch's locks, then this consumer for the
         * markers of the events it could lock. Transports whose store also holds {@code locks}
         * override this to do both in one round trip. As for any lease, a returned lock holds for
         * {@code ttl} from before the call was made, not from its return: a caller must treat a
         * lock as lost once that time has passed (the engine does, and fencing tokens rely on it).
         *
         * @param deliveries well-formed deliveries, each locked by {@link WorkflowEvent#lockKey()}
         * @param locks      the lock provider the service uses
         * @param ttl        the lease of each lock
         * @return one claim per delivery, in order; every lock they hold belongs to the caller
         * @throws RuntimeException if the store cannot be reached; locks taken before the failure
         *                          are released or expire with their lease
         */
        default List<Claim> claim(List<Delivery> deliveries, LockProvider locks, Duration ttl) {
            List<String> keys = new ArrayList<>(deliveries.size());
            for (Delivery d : deliveries) {
                keys.add(d.event().lockKey());
            }
            List<Optional<Lock>> held = locks.tryAcquireAll(keys, ttl);
            List<String> ids = new ArrayList<>(deliveries.size());
            List<Lock> taken = new ArrayList<>(deliveries.size());
            for (int i = 0; i < deliveries.size(); i++) {
                if (held.get(i).isPresent()) {
                    ids.add(deliveries.get(i).event().eventId());
                    taken.add(held.get(i).get());
                }
            }
            Set<String> done;
            try {
                done = ids.isEmpty() ? Set.of() : processedAmong(ids);
            } catch (RuntimeException e) {
                locks.releaseAll(taken);
                throw e;
            }
            List<Claim> out = new ArrayList<>(deliveries.size());
            for (int i = 0; i < deliveries.size(); i++) {
                out.add(new Claim(held.get(i), done.contains(deliveries.get(i).event().eventId())));
            }
            return out;
        }

        /**
         * Success for a batch, and the batch's locks released. The default completes the
         * deliveries, then releases the locks. Transports whose store also holds the locks
         * override this to do both in one atomic step that also refuses to complete a delivery
         * whose lock is no longer held by its holder (another may be running the event now).
         *
         * @param deliveries the deliveries that succeeded
         * @param held       their locks, in the same order
         * @param locks      the provider the locks came from
         * @return the deliveries (the same instances as given) not completed because their lease
         *         was lost (always empty unless the override checks); they are still pending on
         *         this consumer
         * @throws RuntimeException if the store cannot be reached; the locks are released (or
         *                          expire) either way
         */
        default List<Delivery> completeAndRelease(List<Delivery> deliveries, List<Lock> held, LockProvider locks) {
            try {
                completeAll(deliveries);
            } finally {
                locks.releaseAll(held);
            }
            return List.of();
        }

        /**
         * Acknowledges a delivery without other effect (used for duplicates of completed events).
         *
         * @param delivery the delivery
         */
        void ack(Delivery delivery);

        /**
         * Retry: acknowledges the delivery and schedules the event for redelivery at {@code dueAt}
         * with the given attempt number, atomically and durably.
         *
         * @param delivery the delivery
         * @param dueAt    when the event becomes visible again
         * @param attempt  the attempt number of the redelivery
         */
        void reschedule(Delivery delivery, Instant dueAt, int attempt);

        /**
         * Dead letter: appends the entry and the reason to the dead-letter stream and acknowledges
         * the delivery, atomically.
         *
         * @param delivery the delivery
         * @param letter   why the event is dead-lettered
         */
        void deadLetter(Delivery delivery, DeadLetter letter);

        /**
         * Hands deliveries back for immediate redelivery to any consumer, without counting an
         * attempt (used at shutdown).
         *
         * @param deliveries the deliveries this consumer still holds
         */
        void release(Collection<Delivery> deliveries);

        /**
         * Refreshes the idle time of deliveries still being worked on so they are not claimed
         * as stalled.
         *
         * @param deliveries the deliveries in flight
         */
        void keepAlive(Collection<Delivery> deliveries);

        /**
         * Claims deliveries pending on other consumers for longer than {@code minIdle}: their
         * consumer most likely died.
         *
         * @param minIdle how long a delivery must have been idle
         * @param max     the most deliveries to claim
         * @return the claimed deliveries, now pending on this consumer
         */
        List<Delivery> claimStalled(Duration minIdle, int max);

        /** Stops the consumer. Pending deliveries not released stay pending until claimed. */
        @Override
        void close();
    }
}
