package dev.workflowworker.api.spi;

import dev.workflowworker.api.DeadLetter;
import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.api.ErrorClassifier;
import dev.workflowworker.api.EventPublisher;
import dev.workflowworker.api.PartitionOwnership;
import dev.workflowworker.api.RetryHolds;
import dev.workflowworker.api.StreamStats;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * The transport SPI: a durable stream of events with consumer groups, a delayed-retry set, a
 * dead-letter stream and processed markers. Implementations: the in-memory transport of
 * worker-core (the embedded default) and the Redis Streams transport of worker-redis; the
 * project's {@code docs/ARCHITECTURE.md} explains how to write another.
 *
 * <p>Every outcome operation of a {@link Consumer} removes the delivery from the pending list
 * <em>atomically</em> with its other effect (marker, retry entry or dead letter), so that a crash
 * between the two can never lose or duplicate work. Nothing else removes pending work except
 * {@link Consumer#release}, which makes it visible again.
 */
public interface EventTransport extends EventPublisher, AutoCloseable {

    /**
     * Opens a consumer for one worker. Names are unique per worker so that crash recovery can
     * tell whose pending work is stale. A transport whose store also holds its
     * {@link #lockProvider() own locks} may return a {@link LockingConsumer}.
     *
     * @param consumerName the unique consumer name
     * @return the consumer
     */
    Consumer openConsumer(String consumerName);

    /**
     * The name of the stream this transport reads, for logs and metric tags. Each transport
     * owns its own setting for it, so what is reported is what is read.
     *
     * @return the stream name, never blank
     */
    String stream();

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
     * Whether this transport hands out the events of one lock key one at a time by itself, under a
     * lease of its own that every outcome is checked against (a partitioned stream). Its consumers
     * are then {@link LockingConsumer}s, it has no {@link #lockProvider()}, and a service on it takes
     * no per-key locks; a lock provider of the host's own cannot be added to it, and
     * {@code WorkerService} refuses one at build time rather than run it beside the transport's order.
     *
     * @return true if the transport orders and fences each key's events itself
     */
    default boolean locksKeysItself() {
        return false;
    }

    /**
     * Classifiers for failures of this transport's store that a handler may let escape, such as
     * the store client's connection errors when a handler uses the same store itself. A service
     * consults them after the host's classifiers and before the engine's defaults, so a host
     * registers nothing for its transport's errors and can still override their category.
     *
     * @return the classifiers, in order; empty by default
     */
    default List<ErrorClassifier> errorClassifiers() {
        return List.of();
    }

    /**
     * The state of the stream as the transport sees it, for metrics and diagnostics. It may cost
     * a round trip to the store, so callers should not ask per event.
     *
     * @return the statistics, or empty if the transport keeps none
     * @throws RuntimeException if the store cannot be reached
     */
    default Optional<StreamStats> stats() {
        return Optional.empty();
    }

    /**
     * Which partitions this process owns, for a partitioned transport; reported in health.
     *
     * @return the ownership, or empty when the transport has no partitions
     */
    default Optional<PartitionOwnership> ownership() {
        return Optional.empty();
    }

    /**
     * Keys held by a recoverable retry now, for a transport that keeps each key's events in
     * order; reported in health and metrics.
     *
     * @return the holds, or empty when the transport does not order events per key
     */
    default Optional<RetryHolds> retryHolds() {
        return Optional.empty();
    }

    /**
     * Events this transport keeps until a due time ({@link DelayedEvents}).
     *
     * @return the delayed events, or empty when the transport cannot delay events
     */
    default Optional<DelayedEvents> delayed() {
        return Optional.empty();
    }

    /** Closes the transport and its connections. Idempotent. */
    @Override
    void close();

    /**
     * One worker's view of the stream. Used by one worker, but outcome calls may come from many
     * threads. Every method may throw a {@link RuntimeException} when the store cannot be reached;
     * the engine then leaves the delivery pending, and crash recovery redelivers it.
     */
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
        List<Delivery> read(int max, Duration maxWait) throws InterruptedException;

        /**
         * Which of these events have a processed marker: they completed before, and a delivery
         * of one is a duplicate.
         *
         * @param eventIds the event ids
         * @return the ids among them that completed before
         */
        Set<String> completedAmong(Collection<String> eventIds);

        /**
         * Success: acknowledges each delivery atomically with writing its event's processed
         * marker. A delivery without an event id is only acknowledged.
         *
         * @param deliveries the deliveries that succeeded
         * @throws SettlementRefusedException when some were not settled because the lease they were
         *     read under is gone (the others were): they stay pending and are delivered again
         * @throws SettlementUnknownException when the deliveries are settled in separate steps and
         *     the store failed some after others may have stood: it names those settled, refused
         *     and unknown
         * @throws RuntimeException when the store cannot be reached and nothing is known of any
         */
        void complete(List<Delivery> deliveries);

        /**
         * How long the engine's group commit may hold successes back while handlers of the same
         * worker are still running, so that they go to {@link #complete} (or
         * {@link LockingConsumer#completeAndRelease}) together. For a store whose commit costs
         * about the same for one delivery as for many, and that has few deliveries out at a time
         * (a stream in per-key order with few keys, where each key's next event waits for this
         * commit). The wait ends as soon as no handler of the worker is running; there is none
         * while more than a quarter of the worker's handler slots are taken, as a busy worker's
         * batches fill by themselves; it never lasts longer than this. With a linger, the handler
         * thread that finishes last may make the commit, and, for a consumer whose deliveries come
         * from the engine's {@code KeySequencer} (an ordering transport), then call {@link #read}
         * with a zero wait to start what the commit freed: such a consumer's {@code read} must
         * allow that call beside the worker's loop thread.
         *
         * @return the longest wait; {@link Duration#ZERO}, the default, commits at once
         */
        default Duration commitLinger() {
            return Duration.ZERO;
        }

        /**
         * Acknowledges a delivery without other effect: a duplicate of a completed event.
         *
         * @param delivery the delivery
         * @throws SettlementRefusedException when not settled because the lease it was read under is
         *     gone: it stays pending and is delivered again
         */
        void acknowledge(Delivery delivery);

        /**
         * Retry: acknowledges the delivery and schedules the event for redelivery at {@code dueAt}
         * with the given attempt number, atomically and durably. A delivery no longer pending on
         * this consumer is left alone.
         *
         * @param delivery the delivery
         * @param dueAt    when the event becomes visible again
         * @param attempt  the attempt number of the redelivery, at least 1
         */
        void retryAt(Delivery delivery, Instant dueAt, int attempt);

        /**
         * Dead letter: appends the entry and the reason to the dead-letter stream and acknowledges
         * the delivery, atomically. A delivery no longer pending on this consumer is left alone.
         *
         * @param delivery the delivery
         * @param letter   why the event is dead-lettered
         * @throws SettlementRefusedException (optional) a transport whose deliveries are read under
         *     a lease (the partitioned Redis stream) throws it when it did not dead-letter because
         *     that lease is gone: the delivery stays pending and is delivered again. A transport
         *     without leases leaves a delivery no longer pending alone, as above, and returns
         */
        void deadLetter(Delivery delivery, DeadLetter letter);

        /**
         * Hands deliveries back for immediate redelivery to any consumer, without counting an
         * attempt (used at shutdown and when a read raced a pause).
         *
         * @param deliveries the deliveries this consumer still holds
         */
        void release(Collection<Delivery> deliveries);

        /**
         * Refreshes the idle time of deliveries still being worked on, so that no other consumer
         * reclaims them as stalled.
         *
         * @param deliveries the deliveries in flight
         */
        void keepAlive(Collection<Delivery> deliveries);

        /**
         * Takes over deliveries pending on other consumers for longer than {@code minIdle}: their
         * consumer most likely died.
         *
         * @param minIdle how long a delivery must have been idle
         * @param max     the most deliveries to take over, at least 1
         * @return the deliveries, now pending on this consumer
         */
        List<Delivery> reclaimStalled(Duration minIdle, int max);

        /** Stops the consumer. Pending deliveries not released stay pending until reclaimed. */
        @Override
        void close();
    }

    /**
     * A consumer whose store also holds the transport's {@linkplain EventTransport#lockProvider()
     * own locks}, so that taking a batch's locks and reading its markers is one step, and so is
     * completing it and releasing its locks. The engine uses these operations only when the
     * service runs with the transport's own lock provider; with any other provider it composes the
     * provider with {@link #completedAmong} and {@link #complete} itself.
     */
    interface LockingConsumer extends Consumer {

        /**
         * Takes the locks of a batch of deliveries and reads which of their events completed
         * before, in one step. As for any lease, a returned lock holds for {@code ttl} from before
         * the call was made, not from its return.
         *
         * @param deliveries well-formed deliveries, each locked by its event's lock key
         * @param ttl        the lease of each lock
         * @return one acquisition per delivery, in order
         * @throws RuntimeException if the store cannot be reached; locks taken before the failure
         *                          are released or expire with their lease
         */
        List<Acquisition> acquire(List<Delivery> deliveries, Duration ttl);

        /**
         * Completes a batch (as {@link #complete}) and releases its locks in one atomic step that
         * refuses to complete a delivery whose lock no longer holds its exact holder: another
         * holder may be running that event now.
         *
         * @param deliveries the deliveries that succeeded
         * @param held       their locks, from {@link #acquire}, in the same order
         * @return the deliveries (the same instances as given) refused because their lease was
         *         lost; they are still pending on this consumer
         * @throws SettlementUnknownException when the store failed some after others may have
         *     stood (as {@link #complete} says); the locks are released (or expire) either way
         * @throws RuntimeException if the store cannot be reached; the locks are released (or
         *                          expire) either way
         */
        List<Delivery> completeAndRelease(List<Delivery> deliveries, List<Lock> held);
    }

    /**
     * What {@link LockingConsumer#acquire} found for one delivery.
     *
     * @param lock      the lock, or empty when another holder has it
     * @param completed true if the event completed before: the delivery is a duplicate
     */
    record Acquisition(Optional<Lock> lock, boolean completed) {
        /**
         * Checks the components.
         *
         * @param lock      the lock or empty
         * @param completed whether the event completed before
         */
        public Acquisition {
            Objects.requireNonNull(lock, "lock");
        }
    }
}
