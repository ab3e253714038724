package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamEntries;
import dev.workflowworker.redis.internal.client.StreamKeys;
import dev.workflowworker.redis.internal.partitioned.Partitions.Lease;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * The lease on routing the single stream into the partitions, as held by this process: one
 * round of it runs in each ownership round, and the {@link Router} thread waits here until it
 * holds it. See docs/ARCHITECTURE.md, "Ordered processing".
 */
final class RouterLease {

    private static final Logger log = LoggerFactory.getLogger(RouterLease.class);

    private final Partitions partitions;
    private final StreamClient client;
    private final RedisOptions options;
    private final StreamKeys keys;
    private final long leaseMillis;
    private final String member;
    private volatile Lease routerLease;
    private final Object routerSignal = new Object();

    RouterLease(Partitions partitions, StreamClient client, long leaseMillis, String member) {
        this.partitions = partitions;
        this.client = client;
        this.options = client.options();
        this.keys = client.keys();
        this.leaseMillis = leaseMillis;
        this.member = member;
    }

    /** {@return the router lease if this process holds it, else null} */
    Lease current() {
        return routerLease;
    }

    void await(long ms) throws InterruptedException {
        synchronized (routerSignal) {
            if (routerLease == null) {
                routerSignal.wait(ms);
            }
        }
    }

    void lost(Lease l, String why) {
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
    void round(boolean active, long sentAt) {
        Lease l = routerLease;
        String ttl = Long.toString(leaseMillis);
        if (l != null && !l.lost) {
            if (!active) {
                routerLease = null;
                l.lost = true;
                client.evalOnNode(client.scripts().leaseRelease, List.of(keys.routerLease()), List.of(l.value), 0,
                        true);
                return;
            }
            // Around a node known down, and at most one socket timeout on a hung one, which is
            // then marked down (docs/ARCHITECTURE.md, "Redis Cluster"); a renewal may run twice.
            long renewed = StreamEntries.number(client.evalOnNode(client.scripts().leaseRenew,
                    List.of(keys.routerLease()), List.of(l.value, ttl), 0, true));
            if (renewed == 1) {
                l.validUntilMono = sentAt + leaseMillis * 9 / 10;
            } else {
                lost(l, "another process holds it or it expired");
            }
            return;
        }
        if (!active) {
            return;
        }
        // Pipelined like the partitions' draws: never resent by a cluster client after a lost
        // reply (a resent draw finds its own lease and answers 0), and replicated when asked.
        long token = StreamEntries.number(client.evalOnNode(client.scripts().leaseAcquire,
                List.of(keys.routerLease(), keys.routerFence()), List.of(member, ttl), client.waitReplicas(), false));
        if (token > 0) {
            Lease taken = partitions.newLease(-1, token, member + "|" + token, sentAt);
            synchronized (routerSignal) {
                routerLease = taken;
                routerSignal.notifyAll();
            }
            log.info("routing {} into {} partitions (router token {})", options.stream(), partitions.count(), token);
        }
    }

    /** Checked after every ownership round, failed or not: a lease no round renewed in time is not held. */
    void expireIfDue(long now) {
        Lease r = routerLease;
        if (r != null && !r.lost && now >= r.validUntilMono) {
            lost(r, "not renewed for " + (leaseMillis * 9 / 10) + " ms");
        }
    }

    /**
     * Given up on close, so another process routes on its next round rather than after the TTL.
     *
     * @return the lease to delete with the others in the close's round ({@link LeaseHandOver}); null if none is held
     */
    Lease handOver() {
        Lease r = routerLease;
        if (r != null && !r.lost) {
            r.lost = true;
            routerLease = null;
            return r;
        }
        return null;
    }
}
