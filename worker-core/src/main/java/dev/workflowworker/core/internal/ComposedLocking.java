package dev.workflowworker.core.internal;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.api.spi.LockProvider;
import dev.workflowworker.api.spi.SettlementRefusedException;
import dev.workflowworker.api.spi.SettlementUnknownException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * The two combined steps of a {@link EventTransport.LockingConsumer}, composed of a lock provider
 * and a consumer's processed markers (docs/ARCHITECTURE.md, "Lock providers"): the engine's path
 * for a host's provider, and the in-memory ordered consumer's own steps.
 */
public final class ComposedLocking {

    private final EventTransport.Consumer consumer;
    private final LockProvider locks;
    private final Predicate<Lock> holdForCommit;

    /**
     * @param consumer      whose markers are read and written
     * @param locks         the lock provider
     * @param holdForCommit for each success at commit: true if its lock still holds, and then holds
     *                      it until it is released, so that the commit cannot race a new holder;
     *                      false refuses the success. {@code lock -> true} where the provider cannot
     *                      tell (a lost lease is then only noticed by the watchdog).
     */
    public ComposedLocking(EventTransport.Consumer consumer, LockProvider locks, Predicate<Lock> holdForCommit) {
        this.consumer = consumer;
        this.locks = locks;
        this.holdForCommit = holdForCommit;
    }

    /**
     * The provider's batch acquire, then the markers of the events it could lock: read under the
     * lock, a completion by the key's previous holder is seen.
     *
     * @param deliveries well-formed deliveries
     * @param ttl        the lease of each lock
     * @return one acquisition per delivery, in order
     */
    public List<EventTransport.Acquisition> acquire(List<Delivery> deliveries, Duration ttl) {
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
            done = ids.isEmpty() ? Set.of() : consumer.completedAmong(ids);
        } catch (RuntimeException e) {
            locks.releaseAll(taken);
            throw e;
        }
        List<EventTransport.Acquisition> out = new ArrayList<>(deliveries.size());
        for (int i = 0; i < deliveries.size(); i++) {
            out.add(new EventTransport.Acquisition(held.get(i), done.contains(deliveries.get(i).event().eventId())));
        }
        return out;
    }

    /**
     * A consumer whose {@code complete} both writes the markers and makes the keys' next
     * deliveries ready (an ordering transport's), in two steps: the composed commit releases the
     * locks between them, so a next delivery never meets its predecessor's lock still held.
     */
    public interface StagedCompletion {
        /**
         * Writes the markers of {@code deliveries}, as the first half of {@code complete}; throws
         * as it does. {@return what makes the keys' next deliveries ready: run once the locks are released}
         */
        Runnable mark(List<Delivery> deliveries);
    }

    /**
     * Completes the successes whose lock still holds and releases every lock; markers are written
     * before the locks go, so the next holder of a key sees the completion. A consumer that
     * stages its completion ({@link StagedCompletion}) makes the keys' next deliveries ready only
     * after the release; for any other, its {@code complete} is one step, before it.
     *
     * @param deliveries the deliveries that succeeded
     * @param held       their locks, in the same order
     * @return the deliveries (the same instances) refused because their lock was lost; still pending
     */
    public List<Delivery> completeAndRelease(List<Delivery> deliveries, List<Lock> held) {
        if (!(consumer instanceof StagedCompletion staged)) {
            return completeAndRelease(deliveries, held, consumer::complete);
        }
        List<Runnable> ready = new ArrayList<>(1);
        try {
            return completeAndRelease(deliveries, held, kept -> ready.add(staged.mark(kept)));
        } finally {
            // In a finally: a marked delivery is out of pending, and only this makes its key go on.
            ready.forEach(Runnable::run);
        }
    }

    /**
     * As {@link #completeAndRelease(List, List)}, with {@code commit} in place of the consumer's
     * complete: a consumer that would make a key's next delivery ready in its complete writes the
     * markers here and makes it ready after this returned, once the locks are released, so that
     * the next delivery never meets its predecessor's lock (docs/ARCHITECTURE.md, "Lock providers").
     *
     * @param deliveries the deliveries that succeeded
     * @param held       their locks, in the same order
     * @param commit     writes the markers of the successes whose lock still holds; it throws as
     *                   {@link EventTransport.Consumer#complete} does
     * @return the deliveries (the same instances) refused because their lock was lost; still pending
     */
    public List<Delivery> completeAndRelease(List<Delivery> deliveries, List<Lock> held,
                                             java.util.function.Consumer<List<Delivery>> commit) {
        List<Delivery> kept = new ArrayList<>(deliveries.size());
        List<Delivery> refused = new ArrayList<>();
        try {
            for (int i = 0; i < deliveries.size(); i++) {
                (holdForCommit.test(held.get(i)) ? kept : refused).add(deliveries.get(i));
            }
            if (!kept.isEmpty()) {
                try {
                    commit.accept(kept);
                } catch (SettlementRefusedException e) {
                    // The others were completed; those refused stay pending, as a lost lock's do.
                    refused.addAll(e.refused());
                } catch (SettlementUnknownException e) {
                    // Those refused here were never sent: they join the consumer's refused ones.
                    refused.addAll(e.refused());
                    throw new SettlementUnknownException(e.getMessage(), e.settled(), refused, e.unknown(),
                            e.getCause());
                } catch (RuntimeException e) {
                    if (refused.isEmpty()) {
                        throw e;
                    }
                    // The lost locks' deliveries were refused before anything was sent: say so.
                    throw new SettlementUnknownException("completing " + kept.size() + " entries failed: " + e,
                            List.of(), refused, kept, e);
                }
            }
        } finally {
            locks.releaseAll(held);
        }
        return refused;
    }
}
