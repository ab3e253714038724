package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.core.Cadence;
import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.order.KeySequencer;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.internal.client.ModeCheck;
import dev.workflowworker.redis.internal.client.Replies;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamEntries;
import dev.workflowworker.redis.internal.client.StreamKeys;
import dev.workflowworker.redis.internal.client.Topology;
import dev.workflowworker.redis.internal.partitioned.Partitions.Lease;
import dev.workflowworker.redis.internal.partitioned.Partitions.Part;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The ownership rounds of one process: the partition layout, its heartbeat among the owners,
 * its fair share, taking, renewing and giving partitions up, their expiry by time, and the
 * router lease's round. Runs on the ownership thread; the lease clock only marks leases lost.
 * What is buffered of a partition is dropped through {@link Partitions}, under its monitor. See
 * docs/ARCHITECTURE.md, "Ordered processing".
 *
 * <p>Every process registers in a sorted set with a heartbeat and takes a fair share of the
 * partitions (P / live processes, the remainder to the first in name order). It keeps what it
 * has while that is within its share, takes free partitions when below it (preferring those
 * that the share arithmetic points at it, so two joiners rarely race for one), and gives the
 * highest ones up when above it, after the events of them that are running settle. A process
 * that stops reading gives every partition up the same way; one that dies loses them when the
 * lease expires.
 */
final class Ownership {

    private static final Logger log = LoggerFactory.getLogger(Ownership.class);

    private final Partitions partitions;
    private final StreamClient client;
    private final RedisOptions options;
    private final StreamKeys keys;
    private final TimeSource clock;
    private final int count;
    private final long leaseMillis;
    private final String member;
    private final Part[] parts;
    private final KeySequencer sequencer;
    private final RouterLease routerLease;
    private final AtomicInteger consumers = new AtomicInteger();
    private final Cadence trim;
    private final ScheduledExecutorService ticker;
    /** Watches lease expiry by time; never blocked by Redis, unlike the ticker. */
    private final ScheduledExecutorService expiry;
    private volatile boolean renewalFailing;
    private volatile int share;
    private volatile boolean layoutChecked;
    /** The interval of the regular rounds. */
    private final long tickMillis;
    private final HandOverPace pace;
    private final PartitionProbe probe;

    Ownership(Partitions partitions, StreamClient client, Part[] parts, KeySequencer sequencer, String member,
            RouterLease routerLease, ScheduledExecutorService ticker, ScheduledExecutorService expiry,
            PartitionProbe probe) {
        this.partitions = partitions;
        this.probe = probe;
        this.client = client;
        this.options = client.options();
        this.keys = client.keys();
        this.clock = client.clock();
        this.count = parts.length;
        this.leaseMillis = options.partitionLeaseTtl().toMillis();
        this.member = member;
        this.parts = parts;
        this.sequencer = sequencer;
        this.routerLease = routerLease;
        this.trim = new Cadence(clock, options.trimInterval(), options.trimInterval());
        this.ticker = ticker;
        this.expiry = expiry;
        this.tickMillis = Math.max(20, Math.min(1000, leaseMillis / 5));
        this.pace = new HandOverPace(ticker, tickMillis, this::tick);
    }

    /** Starts the ownership rounds: every fifth of the lease TTL, at most every second. */
    void start() {
        ticker.scheduleWithFixedDelay(this::tick, 0, tickMillis, TimeUnit.MILLISECONDS);
    }

    boolean layoutChecked() {
        return layoutChecked;
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

    // ---- rounds ----

    void consumerOpened() {
        consumers.incrementAndGet();
        ticker.execute(this::tick);
    }

    void consumerClosed() {
        if (consumers.decrementAndGet() == 0 && !partitions.closed()) {
            try {
                ticker.execute(this::tick);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                // The transport closed first (a worker retired during shutdown): it hands every partition over itself.
            }
        }
    }

    private void tick() {
        if (partitions.closed()) {
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
        long now = partitions.monoMillis();
        for (Part part : parts) {
            Lease l = part.lease;
            if (l != null && !l.lost && now >= l.validUntilMono) {
                partitions.lost(l, "not renewed for " + (leaseMillis * 9 / 10) + " ms");
            }
        }
        routerLease.expireIfDue(now);
    }

    private void tickOnce() {
        boolean active = consumers.get() > 0;
        long sentAt = clock.wallMillis(); // for the members set, which every process's clock reads
        long sentAtMono = partitions.monoMillis();
        List<Lease> held = new ArrayList<>();
        for (Part part : parts) {
            Lease l = part.lease;
            if (l != null && !l.lost) {
                held.add(l);
            }
        }
        String ttl = Long.toString(leaseMillis);
        // One round trip per node, and per call on a cluster: a node that failed leaves only its
        // own leases unrenewed (they run out at their own time), not the live nodes' ones, and a
        // node known down is not waited on at all (docs/ARCHITECTURE.md, "Redis Cluster"). Every
        // call may run twice.
        int firstOwner = 3;
        int firstRenewal = firstOwner + count;
        boolean[] withSource = new boolean[held.size()];
        boolean[] loaded = new boolean[1];
        Replies replies = Topology.sendEach(client.redis(), firstRenewal + held.size(), i -> {
            if (i == 0) {
                return active
                        ? new CommandArguments(Protocol.Command.ZADD).key(keys.membersKey()).add(sentAt + leaseMillis)
                                .add(member)
                        : new CommandArguments(Protocol.Command.ZREM).key(keys.membersKey()).add(member);
            } else if (i == 1) {
                return new CommandArguments(Protocol.Command.ZREMRANGEBYSCORE).key(keys.membersKey()).add("-inf")
                        .add(sentAt);
            } else if (i == 2) {
                return new CommandArguments(Protocol.Command.ZRANGE).key(keys.membersKey()).add(0).add(-1);
            } else if (i < firstRenewal) {
                return new CommandArguments(Protocol.Command.GET).key(keys.partitionLease(i - firstOwner));
            }
            int k = i - firstRenewal;
            List<String> renewKeys = List.of(keys.partitionLease(held.get(k).partition));
            return withSource[k] ? client.scripts().leaseRenew.evalArguments(renewKeys, List.of(held.get(k).value, ttl))
                    : client.scripts().leaseRenew.evalshaArguments(renewKeys, List.of(held.get(k).value, ttl));
        }, i -> i < firstOwner ? keys.membersKey() : i < firstRenewal ? keys.partitionLease(i - firstOwner)
                : keys.partitionLease(held.get(i - firstRenewal).partition), (i, e) -> {
                    if (i < firstRenewal || !isNoScript(e) || withSource[i - firstRenewal]) {
                        return false;
                    }
                    // As LuaScript.evalEach: the source on a cluster (a promoted replica may lack
                    // the script), SCRIPT LOAD once on one server (an ACL user without EVAL).
                    if (Topology.isCluster(client.redis()) || loaded[0]) {
                        withSource[i - firstRenewal] = true;
                    } else {
                        client.scripts().leaseRenew.loadInto(client.redis());
                        loaded[0] = true;
                    }
                    return true;
                }, 0, 0, () -> "ownership round", null, true, client.nodes()).requireAny();
        RuntimeException nodeFailed = null;
        for (int i = 0; i < held.size(); i++) {
            Lease l = held.get(i);
            if (replies.failed(firstRenewal + i)) {
                nodeFailed = replies.failure(firstRenewal + i);
                continue;
            }
            if (StreamEntries.number(replies.get(firstRenewal + i)) == 1) {
                l.validUntilMono = sentAtMono + leaseMillis * 9 / 10;
                expireOnTime(l);
            } else {
                partitions.lost(l, "another owner holds it or it expired");
            }
        }
        for (int i = 0; i < firstOwner; i++) {
            if (replies.failed(i)) {
                // No members, no share: only the router lease is renewed; the round fails.
                routerRound(active, sentAtMono);
                throw replies.failure(i);
            }
        }
        List<String> members = new ArrayList<>();
        if (replies.get(2) instanceof List<?> raw) {
            for (Object m : raw) {
                members.add(StreamEntries.text(m));
            }
        }
        List<String> live = members;
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
                partitions.startRelease(part, l);
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
                // One whose node failed is not known free; the live nodes' ones are taken.
                if (!replies.failed(firstOwner + i) && replies.get(firstOwner + i) == null
                        && parts[i].lease == null) {
                    free.add(i);
                }
            }
            int mine = me;
            free.sort(Comparator.comparingInt((Integer i) -> i % n == mine ? 0 : 1).thenComparingInt(i -> i));
            List<Integer> wanted = free.subList(0, Math.min(free.size(), target - owned));
            // A close that began during this round (its hand-over may have scanned the leases
            // already) must not find a lease drawn after it: one would stay held until its TTL.
            if (!wanted.isEmpty() && !partitions.closed()) {
                acquire(wanted);
            }
        }
        if (trim.tryFire()) {
            trimOwned();
        }
        routerRound(active, sentAtMono);
        pace.afterRound(live, handOverPending(target), sentAtMono);
        for (int i = firstOwner; i < firstRenewal && nodeFailed == null; i++) {
            nodeFailed = replies.failure(i);
        }
        if (nodeFailed != null) {
            // Done for the live nodes; reported as a failing round (renewalFailing).
            throw nodeFailed;
        }
    }

    /** The router lease's round, unless its node is down: a call to it would wait a socket timeout. */
    private void routerRound(boolean active, long sentAtMono) {
        if (!partitions.closed() && !client.nodes().isDown(keys.routerLease())) {
            routerLease.round(active, sentAtMono);
        }
    }

    /** Whether this process still has partitions to take or to give up. */
    private boolean handOverPending(int target) {
        int owned = 0;
        for (Part part : parts) {
            Lease l = part.lease;
            if (l != null && !l.lost) {
                if (part.releasing) {
                    return true;
                }
                owned++;
            }
        }
        return owned < target;
    }

    private void acquire(List<Integer> wanted) {
        probe.beforeDraw(wanted);
        long sentAt = partitions.monoMillis();
        String ttl = Long.toString(leaseMillis);
        // Per node, around a node known down, as the round: a node that fails costs only its own
        // draws (a draw whose reply is lost may hold a lease nobody here knows of; it expires).
        // Never sent twice: a draw run again finds its own lease and answers 0.
        Replies replies = client.scripts().leaseAcquire.evalEach(client.redis(), wanted.size(),
                i -> List.of(keys.partitionLease(wanted.get(i)), keys.partitionFence(wanted.get(i))),
                // Replicated before use: a token lost in a failover would be drawn a second time.
                // Every draw failing is not the round failing: its renewals stand, its trim and router round go on.
                i -> List.of(member, ttl), client.waitReplicas(), client.waitMs(), null, false, client.nodes());
        boolean any = false;
        for (int k = 0; k < wanted.size(); k++) {
            if (replies.failed(k)) {
                log.debug("taking partition {} of {} failed: {}", wanted.get(k), options.stream(),
                        replies.failure(k).toString());
                continue;
            }
            long token = StreamEntries.number(replies.get(k));
            if (token > 0) {
                int p = wanted.get(k);
                parts[p].lease = partitions.newLease(p, token, member + "|" + token, sentAt);
                expireOnTime(parts[p].lease);
                any = true;
                log.info("took partition {} of {} (fencing token {})", p, options.stream(), token);
            }
        }
        if (any) {
            partitions.wake();
            // Also a reader waiting on the sequencer alone (at the buffer limit with no partition
            // it may read): a partition just taken may be opened and read even there.
            sequencer.wake();
            partitions.onTaken.run();
        }
    }

    /**
     * Marks the lease lost the moment it stops surely holding (TTL − 10 % after the last renewal
     * was sent), from a clock thread of its own: the ownership thread may be blocked on a node
     * that stopped answering, which is exactly when the lease runs out.
     */
    private void expireOnTime(Lease l) {
        long delay = Math.max(1, l.validUntilMono - partitions.monoMillis() + 1);
        try {
            expiry.schedule(() -> {
                if (!l.lost && partitions.monoMillis() >= l.validUntilMono) {
                    partitions.lost(l, "not renewed for " + (leaseMillis * 9 / 10) + " ms");
                }
            }, delay, TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // Closing: every lease is given up anyway.
        }
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
        LeaseHandOver.drop(part, l);
        try {
            // A node known down is not asked, a hung one is marked down: the lease expires.
            client.evalOnNode(client.scripts().leaseRelease, List.of(keys.partitionLease(part.index)),
                    List.of(l.value), 0, true);
            log.info("gave partition {} of {} up", part.index, options.stream());
        } catch (JedisException e) {
            log.debug("releasing the lease of partition {} failed; it expires: {}", part.index, e.toString());
        }
    }

    private void trimOwned() {
        for (Part part : parts) {
            Lease l = part.lease;
            if (l != null && !l.lost && !client.nodes().isDown(keys.partitionLease(part.index))) {
                client.evalOnNode(client.scripts().partitionTrim, PartitionKeys.trim(keys, part.index), List.of(), 0,
                        true);
            }
        }
    }

    // ---- state ----

    /** {@return the partitions this process holds a lease on now} */
    List<Integer> owned() {
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

    /**
     * Ends the rounds. The ownership thread is not interrupted: a round in the middle of a
     * cluster pipeline's sync would log an error for the interruption, and it ends within the
     * socket timeout.
     */
    void stop() {
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
    }

    /** Leases deleted, membership removed: what close hands over at once, in one round ({@link LeaseHandOver}). */
    void handOver() {
        LeaseHandOver.run(client, parts, routerLease.handOver(), member, options.stream());
    }

    private static boolean isNoScript(JedisDataException e) {
        return e.getMessage() != null && e.getMessage().startsWith("NOSCRIPT");
    }
}
