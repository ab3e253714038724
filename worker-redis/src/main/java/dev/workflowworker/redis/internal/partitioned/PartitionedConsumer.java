package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.api.DeadLetter;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.api.spi.SettlementRefusedException;
import dev.workflowworker.api.spi.SettlementUnknownException;
import dev.workflowworker.core.wire.DeadLetterFormat;
import dev.workflowworker.redis.internal.client.StreamClient;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * One worker's view of a partitioned stream. Every consumer of a transport takes from the same
 * {@link Partitions}: the lock of each delivery is its partition's lease, taken once per
 * partition and not per event, so {@link #acquire} costs no round trip and never contends. The
 * commit checks the lease atomically with the settlement and records the event ids as completed,
 * which the reads check, so {@link #acquire} also tells a second entry of a completed event.
 */
public final class PartitionedConsumer implements EventTransport.LockingConsumer {

    private final StreamClient client;
    private final Partitions partitions;
    private final String name;
    private volatile boolean closed;

    PartitionedConsumer(StreamClient client, Partitions partitions, String name) {
        this.client = client;
        this.partitions = partitions;
        this.name = name;
        partitions.consumerOpened();
    }

    @Override
    public List<Delivery> read(int max, Duration maxWait) throws InterruptedException {
        if (max < 1) {
            throw new IllegalArgumentException("max must be >= 1: " + max);
        }
        Objects.requireNonNull(maxWait, "maxWait");
        checkOpen();
        return partitions.read(max, maxWait);
    }

    @Override
    public List<EventTransport.Acquisition> acquire(List<Delivery> deliveries, Duration ttl) {
        List<EventTransport.Acquisition> out = new ArrayList<>(deliveries.size());
        for (Delivery d : deliveries) {
            Partitions.Lease lease = partitions.leaseOf(d);
            out.add(new EventTransport.Acquisition(Optional.of(lease), partitions.completedAlready(lease, d)));
        }
        return out;
    }

    @Override
    public List<Delivery> completeAndRelease(List<Delivery> deliveries, List<Lock> held) {
        if (held.size() != deliveries.size()) {
            throw new IllegalArgumentException("one lock per delivery: " + deliveries.size() + " deliveries, "
                    + held.size() + " locks");
        }
        List<Partitions.Lease> leases = new ArrayList<>(held.size());
        for (Lock lock : held) {
            if (!(lock instanceof Partitions.Lease lease)) {
                throw new IllegalArgumentException("lock " + lock.key() + " is not a partition lease of this transport");
            }
            leases.add(lease);
        }
        Outcomes.Completion c = partitions.outcomes().complete(deliveries, leases);
        if (!c.unknown().isEmpty()) {
            throw unknown(c, deliveries.size());
        }
        return c.refused();
    }

    /**
     * Not asked on the combined path, where {@link #acquire} tells. For a lock provider of the
     * host's own: the events among these that a partition this process reads completed lately
     * (the window of recent completions each partition keeps, see docs/ARCHITECTURE.md).
     */
    @Override
    public Set<String> completedAmong(Collection<String> eventIds) {
        Set<String> done = new java.util.HashSet<>();
        for (String id : eventIds) {
            if (partitions.completedRecently(id)) {
                done.add(id);
            }
        }
        return done;
    }

    /**
     * Each success is committed under the lease it was read with, one script per partition; the
     * others' commits stand whatever becomes of one.
     *
     * @throws SettlementRefusedException naming those refused, as {@link #completeAndRelease}
     *     answers them: their partition's lease was lost or the partition was opened again since
     *     they were read, so they stay pending and run again. A void call that did not settle says
     *     so, or its caller would count them done.
     * @throws SettlementUnknownException when some partition's commit has no answer (Redis or its
     *     node failed, or its script did) while others' may stand: it names which were settled,
     *     refused and unknown, so that its caller counts none of those settled as failed
     * @throws RuntimeException when Redis cannot be reached and nothing is known of any
     */
    @Override
    public void complete(List<Delivery> deliveries) {
        checkOpen();
        List<Partitions.Lease> leases = new ArrayList<>(deliveries.size());
        for (Delivery d : deliveries) {
            leases.add(partitions.leaseOf(d));
        }
        Outcomes.Completion c = partitions.outcomes().complete(deliveries, leases);
        if (!c.unknown().isEmpty()) {
            throw unknown(c, deliveries.size());
        }
        if (!c.refused().isEmpty()) {
            throw refused("completing", c.refused(), deliveries.size());
        }
    }

    /**
     * The failure of a commit some of whose partitions have no answer: the cause alone when that
     * is all of them (Redis could not be reached), else the three lists.
     */
    private static RuntimeException unknown(Outcomes.Completion c, int of) {
        if (c.settled().isEmpty() && c.refused().isEmpty()) {
            return c.failure();
        }
        return new SettlementUnknownException("completing " + of + " entries over several partitions failed in part: "
                + c.settled().size() + " settled, " + c.refused().size() + " refused (pending, they run again), "
                + c.unknown().size() + " unknown (their partitions reopen from Redis, which runs again those not "
                + "settled): " + c.failure(), c.settled(), c.refused(), c.unknown(), c.failure());
    }

    /**
     * Settles a duplicate of a completed event.
     *
     * @throws SettlementRefusedException when refused as {@link #complete} is: the entry stays
     *     pending and is read (and found completed) again; the engine counts it as a lost lease
     */
    @Override
    public void acknowledge(Delivery delivery) {
        checkOpen();
        if (!partitions.outcomes().acknowledge(delivery)) {
            throw refused("acknowledging", List.of(delivery), 1);
        }
    }

    private static SettlementRefusedException refused(String what, List<Delivery> refused, int of) {
        List<String> ids = new ArrayList<>(Math.min(refused.size(), 20));
        for (int i = 0; i < refused.size() && i < 20; i++) {
            ids.add(refused.get(i).id());
        }
        return new SettlementRefusedException(what + " " + refused.size() + " of " + of + " entries was refused: their "
                + "partition's lease was lost or the partition was opened again since they were read (docs/"
                + "ARCHITECTURE.md, \"Ordered processing\"); they stay pending and run again: " + ids
                + (refused.size() > ids.size() ? " ..." : ""), refused);
    }

    /** Keeps the entry pending and its key's place: recorded in Redis so a next owner resumes it with its attempt. */
    @Override
    public void retryAt(Delivery delivery, Instant dueAt, int attempt) {
        Objects.requireNonNull(dueAt, "dueAt");
        if (attempt < 1) {
            throw new IllegalArgumentException("attempt must be >= 1: " + attempt);
        }
        checkOpen();
        partitions.outcomes().hold(delivery, dueAt.toEpochMilli(), attempt);
    }

    @Override
    public void deadLetter(Delivery delivery, DeadLetter letter) {
        Objects.requireNonNull(letter, "letter");
        checkOpen();
        int p = partitions.partitionOf(delivery);
        String source = p < 0 ? client.options().stream() : client.keys().partitionStream(p);
        if (!partitions.outcomes().deadLetter(delivery, DeadLetterFormat.encode(Partitions.streamId(delivery.id()),
                delivery.fields(), letter, source))) {
            throw refused("dead-lettering", List.of(delivery), 1);
        }
    }

    /** Back to the head of its key: the entry was never settled, so nothing goes to Redis. */
    @Override
    public void release(Collection<Delivery> deliveries) {
        for (Delivery d : deliveries) {
            partitions.outcomes().handBack(d);
        }
    }

    /** The options' {@code commitLinger}: with few keys a commit would otherwise carry one or two events. */
    @Override
    public Duration commitLinger() {
        return client.options().commitLinger();
    }

    /** Nothing to refresh: entries are never claimed by idle time, the lease protects them. */
    @Override
    public void keepAlive(Collection<Delivery> deliveries) {
    }

    /** Nothing to claim: a partition's next owner reads its unsettled entries with the lease. */
    @Override
    public List<Delivery> reclaimStalled(Duration minIdle, int max) {
        return List.of();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        partitions.consumerClosed();
    }

    private void checkOpen() {
        if (closed) {
            throw new IllegalStateException("consumer " + name + " is closed");
        }
        client.checkOpen();
    }
}
