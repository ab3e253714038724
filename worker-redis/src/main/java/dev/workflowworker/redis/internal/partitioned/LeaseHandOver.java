package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.redis.internal.client.LuaScript;
import dev.workflowworker.redis.internal.client.Replies;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamKeys;
import dev.workflowworker.redis.internal.client.Topology;
import dev.workflowworker.redis.internal.partitioned.Partitions.Lease;
import dev.workflowworker.redis.internal.partitioned.Partitions.Part;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Protocol;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntFunction;

/**
 * What close hands over at once, so that other processes take the partitions on their next round
 * rather than after the TTL: every lease this process holds deleted (the router lease's too) and
 * its membership removed, in one pipelined round, one round trip per node on a cluster. A node
 * known down is not asked and a hung one costs one socket timeout for all its calls together,
 * not one per lease; the leases of either expire. See docs/ARCHITECTURE.md, "Redis Cluster".
 */
final class LeaseHandOver {

    private static final Logger log = LoggerFactory.getLogger(LeaseHandOver.class);

    private LeaseHandOver() {
    }

    /**
     * Gives every partition of {@code parts} that holds a lease up, and {@code router}.
     *
     * @param router the router lease, already marked lost here; null if none was held
     */
    static void run(StreamClient client, Part[] parts, Lease router, String member, String stream) {
        List<Lease> leases = new ArrayList<>();
        for (Part part : parts) {
            Lease l = part.lease;
            if (l != null && !l.lost) {
                drop(part, l);
                leases.add(l);
            }
        }
        if (router != null) {
            leases.add(router);
        }
        StreamKeys keys = client.keys();
        int n = leases.size() + 1;
        IntFunction<String> keyOf = i -> i == leases.size() ? keys.membersKey()
                : leases.get(i).partition < 0 ? keys.routerLease() : keys.partitionLease(leases.get(i).partition);
        LuaScript.NoScript answer = new LuaScript.NoScript(client.scripts().leaseRelease, client.redis(), n);
        // Every call may run twice: a delete by value and a ZREM.
        Replies replies = Topology.sendEach(client.redis(), n, i -> i == leases.size()
                        ? new CommandArguments(Protocol.Command.ZREM).key(keys.membersKey()).add(member)
                        : answer.arguments(i, List.of(keyOf.apply(i)), List.of(leases.get(i).value)),
                keyOf, answer::resend, 0, 0, () -> "hand-over on close", null, true, client.nodes());
        for (int i = 0; i < leases.size(); i++) {
            int p = leases.get(i).partition;
            String what = p < 0 ? "the router lease" : "partition " + p;
            if (replies.failed(i)) {
                log.debug("giving {} of {} up failed; it expires: {}", what, stream, replies.failure(i).toString());
            } else {
                log.info("gave {} of {} up", what, stream);
            }
        }
        if (replies.failed(leases.size())) {
            log.debug("leaving the members of {} failed; the entry expires: {}", stream,
                    replies.failure(leases.size()).toString());
        }
    }

    /** A partition's lease given up here, before Redis hears of it. */
    static void drop(Part part, Lease l) {
        l.lost = true;
        part.lease = null;
        part.releasing = false;
        // Nothing of it runs when it is given up after a drain; on close, what still runs stops.
        l.fireLost();
    }
}
