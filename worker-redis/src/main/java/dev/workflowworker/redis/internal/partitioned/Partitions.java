package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.order.KeySequencer;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamKeys;
import dev.workflowworker.redis.internal.client.TransportThreads;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A partitioned stream as seen by one process: which partitions it owns ({@link Ownership},
 * leases renewed from a thread of its own, and the {@link RouterLease}), what it read of them
 * ({@link PartitionReader}; one {@link KeySequencer} for all its consumers, so any worker may run
 * any key, one at a time per key and in stream order), which lease each delivery was read under,
 * and the outcome scripts ({@link Outcomes}), each checking the partition's lease atomically
 * with its effect. See docs/ARCHITECTURE.md, "Ordered processing".
 *
 * <p>This class's monitor guards what is buffered against the loss or release of a lease: the
 * drop that comes with a loss ({@link #lost}), the start of a release, an unknown outcome's
 * rewind, a re-offer ({@link #requeue}) and the reader's buffering ({@link #offerUnder}) each
 * run whole under it, so no entry stays buffered under a lease that is gone.
 */
public final class Partitions implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Partitions.class);

    /** A partition's lease, as held by this process: the lock of every event read under it. */
    public final class Lease implements Lock {
        final int partition;
        final long token;
        final String value;
        /** When the lease counts as lost unless renewed (TTL − 10 % from the renewal's send), on the monotonic clock. */
        volatile long validUntilMono;
        public volatile boolean lost;

        Lease(int partition, long token, String value, long sentAtMono) {
            this.partition = partition;
            this.token = token;
            this.value = value;
            this.validUntilMono = sentAtMono + leaseMillis * 9 / 10;
        }

        @Override
        public String key() {
            return keys.partitionStream(partition);
        }

        @Override
        public long fencingToken() {
            return token;
        }

        @Override
        public long validUntilMillis() {
            // Wall time from the time left now: a caller's comparison is immune to wall-clock steps.
            return lost ? Long.MIN_VALUE : clock.wallMillis() + (validUntilMono - monoMillis());
        }

        /** The partition's lease is renewed by the ownership thread; this only says whether it still holds. */
        @Override
        public boolean renew(Duration ttl) {
            if (!lost && monoMillis() >= validUntilMono) {
                lost(this, "not renewed for " + (leaseMillis * 9 / 10) + " ms");
            }
            return !lost;
        }

        /** Handlers to cancel when this lease is lost; see {@link Lock#onLost}. */
        private final java.util.Set<Runnable> onLost = ConcurrentHashMap.newKeySet();

        @Override
        public Runnable onLost(Runnable action) {
            onLost.add(action);
            if (lost && onLost.remove(action)) {
                runLost(action);
            }
            return () -> onLost.remove(action);
        }

        /** Runs the actions waiting for this lease's loss; called once it is marked lost, outside any monitor. */
        void fireLost() {
            for (Runnable action : onLost) {
                if (onLost.remove(action)) {
                    runLost(action);
                }
            }
        }

        /** One failing action must neither stop the others nor reach whoever noticed the loss. */
        private void runLost(Runnable action) {
            try {
                action.run();
            } catch (RuntimeException e) {
                log.warn("an action on the loss of {} failed: {}", this, e.toString());
            }
        }

        /** A lease belongs to the partition, not to one event: nothing to release per event. */
        @Override
        public void release() { }

        @Override
        public String toString() {
            return "lease of partition " + partition + " (token " + token + (lost ? ", lost)" : ")");
        }
    }

    /** One partition's state. Ownership fields are written by the ownership thread; reader fields under fetchLock. */
    static final class Part {
        final int index;
        volatile Lease lease;
        volatile boolean releasing;
        /** Set when an outcome's result is unknown: the reader opens the partition again from what Redis holds. */
        volatile boolean rewind;
        /** The lease the reader state below belongs to; reset when the reader sees a new lease. */
        volatile Lease readerLease;
        boolean readable;
        /** The last read reached the end: nothing to read until the blocking wait names the partition. */
        boolean quiet;
        /** The partition as read under {@link #readerLease}; null until opened. Outcomes settle it. */
        volatile PartitionLog log;

        Part(int index) {
            this.index = index;
        }
    }

    private final PartitionProbe probe;
    private final RedisOptions options;
    private final StreamKeys keys;
    private final TimeSource clock;
    private final int count;
    private final long leaseMillis;
    private final String member;
    private final Part[] parts;
    public final KeySequencer sequencer;
    /** The lease each out delivery was read under; its outcome is refused once that lease is lost. */
    private final Map<String, Lease> out = new ConcurrentHashMap<>();
    /** The lease each buffered (not yet out) delivery was read under. */
    private final Map<String, Lease> offeredUnder = new ConcurrentHashMap<>();
    private volatile boolean closed;
    /** False on a transport that only inspects (WorkflowAdmin's): nothing was taken, nothing is handed over. */
    private volatile boolean started;
    private final RouterLease routerLease;
    private final Router router;
    private final Thread routerThread;
    private final Ownership ownership;
    /** The reader's blocking wait for new entries, and what cuts it short. */
    private final ReaderWait readerWait;
    /** Told when this process takes partitions, so the owner's timers look at them at once. */
    volatile Runnable onTaken = () -> { };
    private final PartitionReader reader;
    private final Outcomes outcomes;

    Partitions(StreamClient client, PartitionProbe probe) {
        this.probe = probe;
        this.options = client.options();
        this.keys = client.keys();
        this.clock = client.clock();
        this.count = options.partitions();
        this.leaseMillis = options.partitionLeaseTtl().toMillis();
        this.member = client.connector().clientName() + "-" + UUID.randomUUID().toString().substring(0, 8);
        this.parts = new Part[count];
        for (int i = 0; i < count; i++) {
            parts[i] = new Part(i);
        }
        this.sequencer = new KeySequencer(clock);
        this.sequencer.onReady(this::wake);
        this.routerLease = new RouterLease(this, client, leaseMillis, member);
        this.router = new Router(client, this);
        TransportThreads threads = client.threads();
        this.routerThread = threads.newThread("router", router);
        ScheduledExecutorService expiry = threads.scheduled("lease-clock");
        this.outcomes = new Outcomes(this, client, sequencer, probe);
        this.readerWait = new ReaderWait(client, probe, sequencer, expiry, threads.single("wake"), () -> closed);
        this.reader = new PartitionReader(this, client, parts, sequencer, out, offeredUnder, readerWait, outcomes);
        this.ownership = new Ownership(this, client, parts, sequencer, member, routerLease,
                threads.scheduled("partitions"), expiry, probe);
    }

    /** Starts the ownership rounds and the router thread. */
    void start() {
        started = true;
        ownership.start();
        routerThread.start();
    }

    /** A lease of this process: of partition {@code partition}, or of the router when it is -1. */
    Lease newLease(int partition, long token, String value, long sentAtMono) {
        return new Lease(partition, token, value, sentAtMono);
    }

    /** {@return the monotonic clock in ms} Lease deadlines are kept on it: a wall-clock step neither loses nor keeps a lease. */
    long monoMillis() {
        return TimeUnit.NANOSECONDS.toMillis(clock.nanoTime());
    }
    boolean closed() {
        return closed;
    }

    // ---- the router of the single stream ----

    /** {@return the router lease if this process holds it, else null} */
    Lease routerLease() {
        return routerLease.current();
    }

    boolean layoutChecked() {
        return ownership.layoutChecked();
    }

    void awaitRouterLease(long ms) throws InterruptedException {
        routerLease.await(ms);
    }

    void routerLost(Lease l, String why) {
        routerLease.lost(l, why);
    }

    /** {@return this process's name among the owners} */
    public String member() {
        return member;
    }

    // ---- ownership ----

    /** Records the partition count, or checks it against the recorded one; see {@link Ownership#setUp}. */
    void setUp() {
        ownership.setUp();
    }

    void consumerOpened() {
        ownership.consumerOpened();
    }

    void consumerClosed() {
        ownership.consumerClosed();
    }

    synchronized void startRelease(Part part, Lease l) {
        part.releasing = true;
        sequencer.dropPartition(part.index);
        offeredUnder.values().removeIf(x -> x == l);
    }

    /**
     * The lease is gone: forget what is buffered of it, and cancel what runs of it at once (the
     * engine's watchdog registered for that through {@link Lock#onLost}).
     */
    public void lost(Lease l, String why) {
        if (markLost(l, why)) {
            l.fireLost();
        }
    }

    private synchronized boolean markLost(Lease l, String why) {
        if (l.lost) {
            return false;
        }
        l.lost = true;
        Part part = parts[l.partition];
        if (part.lease == l) {
            part.lease = null;
            part.releasing = false;
        }
        int running = sequencer.dropPartition(l.partition);
        offeredUnder.values().removeIf(x -> x == l);
        log.warn("lost the lease of partition {} of {} (token {}): {}; {} of its events still running will not be "
                + "committed", l.partition, options.stream(), l.token, why, running);
        return true;
    }

    /**
     * Takes up to {@code max} deliveries, reading the owned partitions when nothing buffered may
     * start, and waiting up to {@code maxWait} for one.
     */
    List<Delivery> read(int max, Duration maxWait) throws InterruptedException {
        return reader.read(max, maxWait);
    }

    /**
     * Buffers entries read under {@code l}, unless the lease was lost or the partition is being
     * given up meanwhile: those entries may already belong to another owner, and the drop that
     * came with the loss must not be undone by a read that raced it. Synchronized with
     * {@link #lost} and the start of a release, which drop the partition's buffer.
     */
    synchronized int offerUnder(Part part, Lease l, List<Delivery> batch, List<Long> dues) {
        if (l.lost || part.lease != l || part.releasing || part.rewind) {
            return 0;
        }
        int n = 0;
        for (int i = 0; i < batch.size(); i++) {
            Delivery d = batch.get(i);
            // Before the offer: another worker may take it the moment it is offered.
            Lease before = offeredUnder.put(d.id(), l);
            if (sequencer.offer(part.index, d, dues.get(i))) {
                n++;
            } else if (before != null) {
                offeredUnder.put(d.id(), before);
            } else if (!out.containsKey(d.id())) {
                offeredUnder.remove(d.id(), l);
            }
        }
        return n;
    }

    /** Cuts a blocked read short, so a delivery that just became ready starts now rather than after the block. */
    void wake() {
        // No round trip under the monitor the lease clock needs: the holder wakes the reader after leaving it.
        readerWait.wake(Thread.holdsLock(this));
    }

    // ---- outcomes ----

    /**
     * The id of a delivery: "partition/entry id". Each partition's stream numbers its entries on
     * its own, so two partitions written in the same millisecond have entries with equal ids.
     */
    static String deliveryId(int partition, String streamId) {
        return partition + "/" + streamId;
    }

    /** @return the stream entry id of a delivery id */
    static String streamId(String deliveryId) {
        return deliveryId.substring(deliveryId.indexOf('/') + 1);
    }

    public Lease leaseOf(Delivery d) {
        Lease l = out.get(d.id());
        if (l == null) {
            l = new Lease(-1, 0, "", 0);
            l.lost = true;
        }
        return l;
    }

    /**
     * Whether an entry read under {@code l} may go back into the buffer: not once the lease is
     * lost or the partition is being given up, as it would then run here beside its next owner.
     */
    private boolean keeps(Lease l) {
        Part part = l.partition < 0 ? null : parts[l.partition];
        // Not while a reopen is pending: the entry comes back from Redis with the rest, in order.
        return !l.lost && part != null && part.lease == l && !part.releasing && !part.rewind;
    }

    /** {@return the lease an out delivery was read under, or null} */
    Lease outLease(String id) {
        return out.get(id);
    }

    /** {@return what records the outcomes of this process's deliveries} */
    Outcomes outcomes() {
        return outcomes;
    }

    /** Forgets an out delivery whose outcome is recorded, or can no longer be (its lease is lost). */
    void forget(String id) {
        out.remove(id);
        sequencer.settled(id);
    }

    /** Like {@link #forget} for a committed batch: one wake-up frees all its keys at once. */
    void forgetAll(List<String> ids) {
        ids.forEach(out::remove);
        sequencer.settledAll(ids);
    }

    /** {@return whether the delivery's event completed lately in its partition, so this delivery is a duplicate} */
    boolean completedAlready(Lease l, Delivery d) {
        // Asked when the delivery is taken, not when it was read: a key's deliveries are taken one at
        // a time, so an earlier entry of the same event has committed by then and is remembered.
        // l is the delivery's leaseOf, looked up once by the caller for both questions.
        PartitionLog log = logOf(l);
        return log != null && log.completedRecently(d.eventId());
    }

    /** {@return whether any partition this process reads completed the event lately} (a host lock provider's question) */
    boolean completedRecently(String eventId) {
        for (Part part : parts) {
            PartitionLog log = part.log;
            if (log != null && log.completedRecently(eventId)) {
                return true;
            }
        }
        return false;
    }

    /** {@return the log of the partition read under {@code l}, or null once the partition is read under another lease} */
    PartitionLog logOf(Lease l) {
        Part part = l.partition < 0 ? null : parts[l.partition];
        return part == null || part.readerLease != l ? null : part.log;
    }

    /**
     * An outcome call failed, so whether Redis applied it is unknown. The deliveries are
     * forgotten here and the partition's buffer dropped; the reader then opens the partition
     * again from what Redis holds and reads it from the committed position, which brings back in
     * stream order whatever is not settled (retry holds included), so the key's next event cannot
     * overtake an entry that was not settled.
     */
    synchronized void unknownOutcome(Lease l, List<Delivery> ds) {
        Part part = l.partition < 0 ? null : parts[l.partition];
        if (part != null && part.lease == l && !l.lost) {
            sequencer.dropPartition(l.partition);
            offeredUnder.values().removeIf(x -> x == l);
            part.rewind = true;
        }
        for (Delivery d : ds) {
            forget(d.id());
        }
    }

    /**
     * Puts an out delivery back into the buffer under {@code l} if {@link #keeps} allows, in one
     * step with respect to {@link #lost} and the start of a release: checked before their drop
     * the entry is dropped with the rest, checked after it is not put back, so no entry stays
     * buffered under a lease that is gone. The reader's wake is left to the caller, after the
     * monitor: it may go to Redis, and the lease clock must never wait on Redis.
     *
     * @return false when the lease no longer keeps entries, and nothing was put back
     */
    synchronized boolean requeue(Lease l, String id, Runnable backIntoSequencer) {
        if (!keeps(l)) {
            return false;
        }
        probe.beforeRequeue();
        offeredUnder.put(id, l);
        out.remove(id);
        backIntoSequencer.run();
        return true;
    }

    /** {@return the partition an out delivery was read from, or -1} */
    int partitionOf(Delivery d) {
        Lease l = out.get(d.id());
        return l == null ? -1 : l.partition;
    }

    /** {@return the partitions this process holds a lease on now} */
    public List<Integer> owned() {
        return ownership.owned();
    }

    /** {@return this process's live lease of partition {@code i}, or null when it holds none or is handing it over} */
    Lease heldLease(int i) {
        Part part = parts[i];
        Lease l = part.lease;
        return l == null || l.lost || part.releasing ? null : l;
    }

    /** {@return this process's fair share of the partitions, from the last ownership round} */
    int share() {
        return ownership.share();
    }

    /** {@return true while ownership rounds fail (Redis unreachable): leases cannot be renewed} */
    boolean renewalFailing() {
        return ownership.renewalFailing();
    }

    int count() {
        return count;
    }

    /**
     * Stops reading and hands every partition over at once: leases deleted, membership removed,
     * so other processes take the partitions on their next round rather than after the TTL.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        router.stop();
        routerThread.interrupt();
        ownership.stop();
        if (started) {
            try {
                ownership.handOver();
            } catch (RuntimeException e) {
                log.debug("handing partitions over on close failed; their leases expire: {}", e.toString());
            }
        }
        readerWait.close();
    }
}
