package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.core.Cadence;
import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.order.KeySequencer;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.WorkflowAdmin;
import dev.workflowworker.redis.internal.client.ModeCheck;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamEntries;
import dev.workflowworker.redis.internal.client.StreamKeys;
import dev.workflowworker.redis.internal.client.Topology;
import dev.workflowworker.redis.internal.client.TransportThreads;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A partitioned stream as seen by one process: which partitions it owns (leases renewed from a
 * thread of its own), what it read of them (one {@link KeySequencer} for all its consumers, so
 * any worker may run any key, one at a time per key and in stream order), and the outcome
 * scripts, each checking the partition's lease atomically with its effect. See
 * docs/ARCHITECTURE.md, "Ordered processing".
 *
 * <p>Ownership: every process registers in a sorted set with a heartbeat and takes a fair share
 * of the partitions (P / live processes, the remainder to the first in name order). It keeps
 * what it has while that is within its share, takes free partitions when below it (preferring
 * those that the share arithmetic points at it, so two joiners rarely race for one), and gives
 * the highest ones up when above it, after the events of them that are running settle. A
 * process that stops reading gives every partition up the same way; one that dies loses them
 * when the lease expires.
 */
public final class Partitions implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Partitions.class);
    /** Entries buffered (read, not yet settled) before reading stops until some settle. */
    private static final int BUFFER_LIMIT = 10_000;
    /** Entries read from one partition per round trip. */
    private static final int READ_COUNT = 256;
    /** Entries read above a partition's committed position before its reader waits for the position to move. */
    private static final int READ_AHEAD_LIMIT = 100_000;

    /** A partition's lease, as held by this process: the lock of every event read under it. */
    public final class Lease implements Lock {
        final int partition;
        final long token;
        final String value;
        /** Wall time after which the lease counts as lost unless renewed: TTL − 10 % from when the renewal was sent. */
        volatile long validUntilMillis;
        public volatile boolean lost;

        Lease(int partition, long token, String value, long sentAtMillis) {
            this.partition = partition;
            this.token = token;
            this.value = value;
            this.validUntilMillis = sentAtMillis + leaseMillis * 9 / 10;
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
            return lost ? Long.MIN_VALUE : validUntilMillis;
        }

        /** The partition's lease is renewed by the ownership thread; this only says whether it still holds. */
        @Override
        public boolean renew(Duration ttl) {
            if (!lost && clock.wallMillis() >= validUntilMillis) {
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
        public void release() {
        }

        @Override
        public String toString() {
            return "lease of partition " + partition + " (token " + token + (lost ? ", lost)" : ")");
        }
    }

    /** One partition's state. Ownership fields are written by the ownership thread; reader fields under fetchLock. */
    private static final class Part {
        final int index;
        volatile Lease lease;
        volatile boolean releasing;
        /** Set when an outcome's result is unknown: the reader opens the partition again from what Redis holds. */
        volatile boolean rewind;
        /** The lease the reader state below belongs to; reset when the reader sees a new lease. */
        volatile Lease readerLease;
        boolean readable;
        /** The partition as read under {@link #readerLease}; null until opened. Outcomes settle it. */
        volatile PartitionLog log;

        Part(int index) {
            this.index = index;
        }
    }

    private final StreamClient client;
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
    private final ReentrantLock fetchLock = new ReentrantLock();
    private final AtomicInteger consumers = new AtomicInteger();
    private final Cadence trim;
    private final ScheduledExecutorService ticker;
    /** Watches lease expiry by time; never blocked by Redis, unlike the ticker. */
    private final ScheduledExecutorService expiry;
    private volatile boolean closed;
    /** False on a transport that only inspects (WorkflowAdmin's): nothing was taken, nothing is handed over. */
    private volatile boolean started;
    private volatile boolean renewalFailing;
    private volatile int share;
    private volatile boolean layoutChecked;
    private volatile Lease routerLease;
    private final Object routerSignal = new Object();
    private final Router router;
    private final Thread routerThread;
    /** The reader's blocking wait for new entries, and what cuts it short. */
    private final ReaderWait readerWait;
    private final Outcomes outcomes;

    Partitions(StreamClient client, PartitionProbe probe) {
        this.client = client;
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
        this.trim = new Cadence(clock, options.trimInterval(), options.trimInterval());
        this.router = new Router(client, this);
        TransportThreads threads = client.threads();
        this.routerThread = threads.newThread("router", router);
        this.expiry = threads.scheduled("lease-clock");
        this.outcomes = new Outcomes(this, client, sequencer);
        this.readerWait = new ReaderWait(client, probe, sequencer, expiry, threads.single("wake"), () -> closed);
        this.ticker = threads.scheduled("partitions");
    }

    /** Starts the ownership rounds: every fifth of the lease TTL, at most every second. */
    void start() {
        started = true;
        long tick = Math.max(20, Math.min(1000, leaseMillis / 5));
        ticker.scheduleWithFixedDelay(this::tick, 0, tick, TimeUnit.MILLISECONDS);
        routerThread.start();
    }

    // ---- the router of the single stream ----

    /** {@return the router lease if this process holds it, else null} */
    Lease routerLease() {
        return routerLease;
    }

    boolean layoutChecked() {
        return layoutChecked;
    }

    void awaitRouterLease(long ms) throws InterruptedException {
        synchronized (routerSignal) {
            if (routerLease == null) {
                routerSignal.wait(ms);
            }
        }
    }

    void routerLost(Lease l, String why) {
        if (l.lost) {
            return;
        }
        l.lost = true;
        if (routerLease == l) {
            routerLease = null;
        }
        log.warn("lost the router lease of {} (token {}): {}", options.stream(), l.token, why);
    }

    /**
     * One round for the router lease, in the ownership thread: renewed while held, taken when
     * free by a process that reads (so a publish-only process never routes).
     */
    private void routerRound(boolean active, long sentAt) {
        Lease l = routerLease;
        String ttl = Long.toString(leaseMillis);
        if (l != null && !l.lost) {
            if (!active) {
                routerLease = null;
                l.lost = true;
                client.scripts().leaseRelease.eval(client.redis(), List.of(keys.routerLease()), List.of(l.value));
                return;
            }
            long renewed = StreamEntries.number(client.scripts().leaseRenew.eval(client.redis(),
                    List.of(keys.routerLease()), List.of(l.value, ttl)));
            if (renewed == 1) {
                l.validUntilMillis = sentAt + leaseMillis * 9 / 10;
            } else {
                routerLost(l, "another process holds it or it expired");
            }
            return;
        }
        if (!active) {
            return;
        }
        // Pipelined like the partitions' draws: never resent by a cluster client after a lost
        // reply (a resent draw finds its own lease and answers 0), and replicated when asked.
        long token = StreamEntries.number(client.scripts().leaseAcquire.evalAll(client.redis(), 1,
                i -> List.of(keys.routerLease(), keys.routerFence()), i -> List.of(member, ttl),
                client.waitReplicas(), client.waitMs()).get(0));
        if (token > 0) {
            Lease taken = new Lease(-1, token, member + "|" + token, sentAt);
            synchronized (routerSignal) {
                routerLease = taken;
                routerSignal.notifyAll();
            }
            log.info("routing {} into {} partitions (router token {})", options.stream(), count, token);
        }
    }

    /** {@return this process's name among the owners} */
    public String member() {
        return member;
    }

    // ---- layout ----

    /**
     * Records the partition count, or checks it against the recorded one. A partition needs
     * nothing else before its first owner opens it (partition_open.lua).
     *
     * @throws IllegalStateException naming both counts if they differ
     */
    void setUp() {
        boolean[] created = new boolean[1];
        String recorded = client.call("check the partition count", () -> {
            created[0] = client.redis().set(keys.partitionCountKey(), Integer.toString(count),
                    redis.clients.jedis.params.SetParams.setParams().nx()) != null;
            return client.redis().get(keys.partitionCountKey());
        });
        checkCount(recorded);
        ModeCheck.checkPartitioned(client, created[0]);
        // The configured start id ('$': from now on) counts from the layout's creation, as a consumer
        // group's did. On a layout that existed already, a partition without a position lost it
        // (Redis restarted from an older snapshot): it is read from the start, and the recent
        // completions keep what completed from running again.
        String start = created[0] ? options.groupStartId() : "0";
        client.call("set the partitions' first positions", () -> client.scripts().partitionInit.evalAll(
                client.redis(), count, i -> PartitionKeys.init(keys, i),
                i -> List.of(options.group(), start, Integer.toString(PartitionLog.RECENT_CAP))));
        layoutChecked = true;
    }

    private void checkCount(String recorded) {
        if (!Integer.toString(count).equals(recorded)) {
            throw new IllegalStateException("partitions: this instance is configured with " + count
                    + " partitions but stream " + options.stream() + " was created with " + recorded
                    + " (recorded in " + keys.partitionCountKey() + "); the count is fixed at creation");
        }
    }

    // ---- ownership ----

    void consumerOpened() {
        consumers.incrementAndGet();
        ticker.execute(this::tick);
    }

    void consumerClosed() {
        if (consumers.decrementAndGet() == 0 && !closed) {
            try {
                ticker.execute(this::tick);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                // The transport closed first (a worker retired during shutdown): it hands every partition over itself.
            }
        }
    }

    private void tick() {
        if (closed) {
            return;
        }
        try {
            if (!layoutChecked) {
                setUp();
            }
            tickOnce();
            renewalFailing = false;
        } catch (IllegalStateException e) {
            renewalFailing = true;
            if (Topology.isUnsetReply(e)) {
                // A node's connection failed during the round's pipeline: unreachable, not a layout error.
                log.debug("partition ownership round failed: {}", Topology.noReply(e).toString());
            } else {
                log.error("partitioned stream {}: {}", options.stream(), e.getMessage());
            }
        } catch (RuntimeException e) {
            renewalFailing = true;
            if (Topology.notRunHere(e)) {
                // A slot moved: the next round, within a fifth of the lease, goes to its new node.
                Topology.refresh(client.redis());
            }
            log.debug("partition ownership round failed: {}", e.toString());
        }
        long now = clock.wallMillis();
        for (Part part : parts) {
            Lease l = part.lease;
            if (l != null && !l.lost && now >= l.validUntilMillis) {
                lost(l, "not renewed for " + (leaseMillis * 9 / 10) + " ms");
            }
        }
        Lease r = routerLease;
        if (r != null && !r.lost && now >= r.validUntilMillis) {
            routerLost(r, "not renewed for " + (leaseMillis * 9 / 10) + " ms");
        }
    }

    private void tickOnce() {
        boolean active = consumers.get() > 0;
        long sentAt = clock.wallMillis();
        List<Lease> held = new ArrayList<>();
        for (Part part : parts) {
            Lease l = part.lease;
            if (l != null && !l.lost) {
                held.add(l);
            }
        }
        String ttl = Long.toString(leaseMillis);
        Response<List<String>> members;
        List<Response<String>> owners = new ArrayList<>(count);
        List<Response<Object>> renewals = new ArrayList<>(held.size());
        try (AbstractPipeline p = Topology.pipeline(client.redis())) {
            if (active) {
                p.zadd(keys.membersKey(), sentAt + leaseMillis, member);
            } else {
                p.zrem(keys.membersKey(), member);
            }
            p.zremrangeByScore(keys.membersKey(), Double.NEGATIVE_INFINITY, sentAt);
            members = p.zrange(keys.membersKey(), 0, -1);
            for (int i = 0; i < count; i++) {
                owners.add(p.get(keys.partitionLease(i)));
            }
            for (Lease l : held) {
                renewals.add(p.sendCommand(client.scripts().leaseRenew.evalshaArguments(
                        List.of(keys.partitionLease(l.partition)), List.of(l.value, ttl))));
            }
            p.sync();
        }
        for (int i = 0; i < held.size(); i++) {
            Lease l = held.get(i);
            long renewed;
            try {
                renewed = StreamEntries.number(renewals.get(i).get());
            } catch (JedisDataException e) {
                if (!isNoScript(e)) {
                    throw e;
                }
                renewed = StreamEntries.number(client.scripts().leaseRenew.eval(client.redis(),
                        List.of(keys.partitionLease(l.partition)), List.of(l.value, ttl)));
            }
            if (renewed == 1) {
                l.validUntilMillis = sentAt + leaseMillis * 9 / 10;
                expireOnTime(l);
            } else {
                lost(l, "another owner holds it or it expired");
            }
        }
        List<String> live = new ArrayList<>(members.get());
        live.sort(Comparator.naturalOrder());
        int n = live.size();
        int me = live.indexOf(member);
        int target = !active || me < 0 ? 0 : count / n + (me < count % n ? 1 : 0);
        share = target;

        int owned = 0;
        for (Part part : parts) {
            Lease l = part.lease;
            if (l != null && !l.lost && !part.releasing) {
                owned++;
            }
        }
        // Above the share: give the highest partitions up, once what runs of them has settled.
        for (int i = count - 1; i >= 0 && owned > target; i--) {
            Part part = parts[i];
            Lease l = part.lease;
            if (l != null && !l.lost && !part.releasing) {
                startRelease(part, l);
                owned--;
                log.info("giving partition {} of {} up (share {} of {} partitions over {} instances)",
                        i, options.stream(), target, count, n);
            }
        }
        finishReleases();
        // Below it: take free partitions, those the arithmetic assigns to this process first.
        if (owned < target) {
            List<Integer> free = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                if (owners.get(i).get() == null && parts[i].lease == null) {
                    free.add(i);
                }
            }
            int mine = me;
            free.sort(Comparator.comparingInt((Integer i) -> i % n == mine ? 0 : 1).thenComparingInt(i -> i));
            List<Integer> wanted = free.subList(0, Math.min(free.size(), target - owned));
            if (!wanted.isEmpty()) {
                acquire(wanted);
            }
        }
        if (trim.tryFire()) {
            trimOwned();
        }
        routerRound(active, sentAt);
    }

    private void acquire(List<Integer> wanted) {
        long sentAt = clock.wallMillis();
        String ttl = Long.toString(leaseMillis);
        List<Object> replies = client.scripts().leaseAcquire.evalAll(client.redis(), wanted.size(),
                i -> List.of(keys.partitionLease(wanted.get(i)), keys.partitionFence(wanted.get(i))),
                // Replicated before use: a token lost in a failover would be drawn a second time.
                i -> List.of(member, ttl), client.waitReplicas(), client.waitMs());
        boolean any = false;
        for (int k = 0; k < wanted.size(); k++) {
            long token = StreamEntries.number(replies.get(k));
            if (token > 0) {
                int p = wanted.get(k);
                parts[p].lease = new Lease(p, token, member + "|" + token, sentAt);
                expireOnTime(parts[p].lease);
                any = true;
                log.info("took partition {} of {} (fencing token {})", p, options.stream(), token);
            }
        }
        if (any) {
            wake();
        }
    }

    /**
     * Marks the lease lost the moment it stops surely holding (TTL − 10 % after the last renewal
     * was sent), from a clock thread of its own: the ownership thread may be blocked on a node
     * that stopped answering, which is exactly when the lease runs out.
     */
    private void expireOnTime(Lease l) {
        long delay = Math.max(1, l.validUntilMillis - clock.wallMillis() + 1);
        try {
            expiry.schedule(() -> {
                if (!l.lost && clock.wallMillis() >= l.validUntilMillis) {
                    lost(l, "not renewed for " + (leaseMillis * 9 / 10) + " ms");
                }
            }, delay, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // Closing: every lease is given up anyway.
        }
    }

    private synchronized void startRelease(Part part, Lease l) {
        part.releasing = true;
        sequencer.dropPartition(part.index);
        offeredUnder.values().removeIf(x -> x == l);
    }

    /** Gives up the partitions being given up whose running events have all settled. */
    private void finishReleases() {
        for (Part part : parts) {
            Lease l = part.lease;
            if (l == null || !part.releasing || sequencer.outstanding(part.index) > 0) {
                continue;
            }
            releaseLease(part, l);
        }
    }

    private void releaseLease(Part part, Lease l) {
        l.lost = true;
        part.lease = null;
        part.releasing = false;
        // Nothing of it runs when it is given up after a drain; on close, what still runs stops.
        l.fireLost();
        try {
            client.scripts().leaseRelease.eval(client.redis(), List.of(keys.partitionLease(part.index)),
                    List.of(l.value));
            log.info("gave partition {} of {} up", part.index, options.stream());
        } catch (JedisException e) {
            log.debug("releasing the lease of partition {} failed; it expires: {}", part.index, e.toString());
        }
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

    private void trimOwned() {
        for (Part part : parts) {
            Lease l = part.lease;
            if (l != null && !l.lost) {
                client.scripts().partitionTrim.eval(client.redis(),
                        List.of(keys.partitionStream(part.index), PartitionKeys.log(keys, part.index)), List.of());
            }
        }
    }

    // ---- reading ----

    /**
     * Takes up to {@code max} deliveries, reading the owned partitions when nothing buffered may
     * start, and waiting up to {@code maxWait} for one.
     */
    List<Delivery> read(int max, Duration maxWait) throws InterruptedException {
        long deadline = clock.nanoTime() + maxWait.toNanos();
        while (true) {
            List<KeySequencer.Taken> taken = sequencer.take(max);
            if (!taken.isEmpty()) {
                List<Delivery> ds = new ArrayList<>(taken.size());
                for (KeySequencer.Taken t : taken) {
                    String id = t.delivery().id();
                    // The lease it was read under, not the partition's current one: if that was
                    // lost, another owner may have run it since, and its outcome must be refused.
                    Lease l = offeredUnder.remove(id);
                    if (l == null || l.lost) {
                        // Taken while its lease was being lost: never started, nothing to refuse.
                        sequencer.settled(id);
                        continue;
                    }
                    out.put(id, l);
                    ds.add(t.delivery());
                }
                if (!ds.isEmpty()) {
                    return ds;
                }
                continue;
            }
            long remaining = deadline - clock.nanoTime();
            if (closed || remaining <= 0) {
                return List.of();
            }
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
            if (!fetchLock.tryLock()) {
                sequencer.await(Math.min(remaining, TimeUnit.MILLISECONDS.toNanos(20)));
                continue;
            }
            try {
                if (sequencer.size() >= BUFFER_LIMIT) {
                    sequencer.await(remaining);
                    continue;
                }
                if (fetch() > 0) {
                    continue;
                }
                long untilDue = sequencer.millisUntilNextDue();
                long ms = Math.min(TimeUnit.NANOSECONDS.toMillis(remaining), untilDue);
                if (ms > 0) {
                    blockForNews(ms);
                }
            } finally {
                fetchLock.unlock();
            }
        }
    }

    private Lease deadLease(int partition) {
        Lease l = new Lease(partition, 0, "", 0);
        l.lost = true;
        return l;
    }

    /**
     * One pipelined round of reads over the owned partitions; returns how many entries were
     * buffered. A read changes nothing in Redis: a partition is read as a log from its owner's
     * cursor, so a read whose reply was lost is simply sent again, and a process that lost its
     * lease may read but not settle anything (docs/ARCHITECTURE.md, "Ordered processing").
     */
    private int fetch() {
        List<Part> readable = new ArrayList<>();
        for (Part part : parts) {
            Lease l = part.lease;
            if (l == null || l.lost || part.releasing) {
                continue;
            }
            if (part.readerLease != l) {
                part.readerLease = l;
                part.readable = false;
                part.rewind = false;
                part.log = null;
            }
            if (!part.readable) {
                // Events of an earlier lease of this partition may still run here; reading its
                // unsettled entries now would start their keys' next events beside them.
                if (sequencer.outstanding(part.index) > 0) {
                    continue;
                }
                part.readable = true;
            }
            if (part.rewind) {
                // Reopened only once every outcome of the partition in flight has landed: they
                // settle against the log they were read with, and the reopen then reads Redis
                // with all of them in it (otherwise one could run again, or stay unsettled).
                if (sequencer.outstanding(part.index) > 0) {
                    continue;
                }
                part.rewind = false;
                part.log = null;
            }
            readable.add(part);
        }
        if (readable.isEmpty()) {
            return 0;
        }
        open(readable);
        // Bounded memory: entries read above the committed position wait for a settled prefix
        // (a retry held long holds the position back while later keys go on).
        readable.removeIf(part -> part.log == null || part.log.readAbove() >= READ_AHEAD_LIMIT);
        if (readable.isEmpty()) {
            return 0;
        }
        List<PartitionLog> logs = new ArrayList<>(readable.size());
        for (Part part : readable) {
            logs.add(part.log);
        }
        int n = readable.size();
        // Each read goes with a plain GET of the lease: a read cannot be refused, but a process
        // that lost its lease learns it here rather than at its next renewal, and drops the batch.
        List<Object> replies = client.call("read partitions", () -> Topology.sendAll(client.redis(), 2 * n,
                i -> i < n ? new CommandArguments(Protocol.Command.GET).key(keys.partitionLease(readable.get(i).index))
                        : new CommandArguments(Protocol.Command.XREAD).add("COUNT").add(READ_COUNT).add("STREAMS")
                                .key(keys.partitionStream(readable.get(i - n).index)).add(logs.get(i - n).cursor()),
                i -> keys.partitionStream(readable.get(i % n).index), (i, e) -> false, 0, 0, () -> "read partitions"));
        int offered = 0;
        for (int i = 0; i < n; i++) {
            Part part = readable.get(i);
            PartitionLog log = logs.get(i);
            if (!part.readerLease.value.equals(StreamEntries.text(replies.get(i)))) {
                lost(part.readerLease, "another owner holds it or it expired");
                continue;
            }
            List<?> entries = xreadEntries(replies.get(n + i));
            List<Delivery> batch = new ArrayList<>(entries.size());
            List<Long> dues = new ArrayList<>(entries.size());
            for (Object e : entries) {
                List<?> entry = (List<?>) e;
                String id = StreamEntries.text(entry.get(0));
                if (!(entry.get(1) instanceof List<?> raw) || !log.read(id)) {
                    continue;
                }
                Delivery d = StreamEntries.toDelivery(deliveryId(part.index, id), raw, client.codec());
                String mark = log.takeHeldMark(id);
                long due = 0;
                if (mark != null) {
                    int colon = mark.indexOf(':');
                    int attempt = Integer.parseInt(mark.substring(0, colon));
                    due = Math.max(1, Long.parseLong(mark.substring(colon + 1)));
                    d = new Delivery(d.id(), d.event(), Math.max(1, attempt), d.fields(), d.decodeError());
                }
                batch.add(d);
                dues.add(due);
            }
            offered += offerUnder(part, part.readerLease, batch, dues);
            if (log.headSettled()) {
                // Entries settled already (skipped here) at the head: move the position over them
                // now, as no outcome of them will.
                outcomes.advance(part.readerLease);
            }
        }
        return offered;
    }

    /**
     * Opens the partitions that have no log under their lease yet, one pipelined round trip: the
     * committed position, settled entries, held retries and recent completions, read after the
     * lease was taken. A partition whose lease is gone by then is lost.
     */
    private void open(List<Part> readable) {
        List<Part> closed = new ArrayList<>();
        for (Part part : readable) {
            if (part.log == null) {
                closed.add(part);
            }
        }
        if (closed.isEmpty()) {
            return;
        }
        List<Object> replies = client.call("open partitions", () -> client.scripts().partitionOpen.evalAll(
                client.redis(), closed.size(),
                i -> PartitionKeys.open(keys, closed.get(i).index),
                i -> List.of(closed.get(i).readerLease.value, options.group(),
                        Integer.toString(PartitionLog.RECENT_CAP))));
        for (int i = 0; i < closed.size(); i++) {
            Part part = closed.get(i);
            if (replies.get(i) instanceof List<?> state) {
                part.log = PartitionLog.opened(state);
            } else {
                lost(part.readerLease, "its lease was gone when the partition was opened");
            }
        }
    }

    /** The entries of an XREAD reply for one stream: [[key, entries]], or nil when there are none. */
    private static List<?> xreadEntries(Object reply) {
        if (reply instanceof List<?> streams && !streams.isEmpty() && streams.get(0) instanceof List<?> one
                && one.size() > 1 && one.get(1) instanceof List<?> entries) {
            return entries;
        }
        return List.of();
    }

    /**
     * Buffers entries read under {@code l}, unless the lease was lost or the partition is being
     * given up meanwhile: those entries may already belong to another owner, and the drop that
     * came with the loss must not be undone by a read that raced it. Synchronized with
     * {@link #lost} and the start of a release, which drop the partition's buffer.
     */
    private synchronized int offerUnder(Part part, Lease l, List<Delivery> batch, List<Long> dues) {
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

    /**
     * Waits on Redis for a new entry in any readable partition, up to {@code ms}; a delivery that
     * becomes ready meanwhile (a settled key's next event, a due retry) cuts the wait short.
     */
    private void blockForNews(long ms) throws InterruptedException {
        List<String> keys = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (Part part : parts) {
            Lease l = part.lease;
            PartitionLog log = part.log;
            if (l != null && !l.lost && !part.releasing && part.readable && part.readerLease == l && log != null
                    && log.readAbove() < READ_AHEAD_LIMIT) {
                keys.add(this.keys.partitionStream(part.index));
                ids.add(log.cursor());
            }
        }
        if (keys.isEmpty()) {
            sequencer.await(TimeUnit.MILLISECONDS.toNanos(Math.min(ms, 50)));
            return;
        }
        readerWait.await(keys, ids, ms);
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
        return l != null ? l : deadLease(-1);
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

    /** Forgets an out delivery whose outcome can no longer be recorded (its lease is lost). */
    void forget(String id) {
        out.remove(id);
        sequencer.settled(id);
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

    // ---- state ----

    /** {@return the partitions this process holds a lease on now} */
    public List<Integer> owned() {
        List<Integer> owned = new ArrayList<>();
        for (Part part : parts) {
            Lease l = part.lease;
            if (l != null && !l.lost) {
                owned.add(part.index);
            }
        }
        return owned;
    }

    /** {@return this process's fair share of the partitions, from the last ownership round} */
    int share() {
        return share;
    }

    /** {@return true while ownership rounds fail (Redis unreachable): leases cannot be renewed} */
    boolean renewalFailing() {
        return renewalFailing;
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
        // Not interrupted: a round in the middle of a cluster pipeline's sync would log an error
        // for the interruption. The round ends within the socket timeout.
        ticker.shutdown();
        expiry.shutdownNow();
        try {
            if (!ticker.awaitTermination(2, TimeUnit.SECONDS)) {
                ticker.shutdownNow();
            }
        } catch (InterruptedException e) {
            ticker.shutdownNow();
            Thread.currentThread().interrupt();
        }
        if (started) {
            try {
                handOver();
            } catch (RuntimeException e) {
                log.debug("handing partitions over on close failed; their leases expire: {}", e.toString());
            }
        }
        readerWait.close();
    }

    /** Leases deleted, membership removed: what close hands over at once. */
    private void handOver() {
        for (Part part : parts) {
            Lease l = part.lease;
            if (l != null && !l.lost) {
                releaseLease(part, l);
            }
        }
        Lease r = routerLease;
        if (r != null && !r.lost) {
            r.lost = true;
            routerLease = null;
            client.scripts().leaseRelease.eval(client.redis(), List.of(keys.routerLease()), List.of(r.value));
        }
        client.redis().zrem(keys.membersKey(), member);
    }

    static boolean isNoScript(JedisDataException e) {
        return e.getMessage() != null && e.getMessage().startsWith("NOSCRIPT");
    }
}
