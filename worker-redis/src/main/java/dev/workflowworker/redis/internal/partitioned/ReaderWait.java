package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.core.order.KeySequencer;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamEntries;
import dev.workflowworker.redis.internal.client.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Connection;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.exceptions.JedisException;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * The partitioned reader's wait for new entries, and the wake that cuts it short when a delivery
 * becomes ready here (a settled key's next event, a due retry, a hand-back). On one server one
 * XREAD BLOCK spans the readable partitions on a connection of its own, cut short by CLIENT
 * UNBLOCK, and returns the entries it woke for; on a cluster, where one XREAD cannot span slots,
 * {@link NodeWaits} listens for the partitions' news with one subscription per node
 * ({@link ClusterWaits}, a blocking read per partition, where the servers lack sharded pub/sub).
 */
final class ReaderWait implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ReaderWait.class);

    private final StreamClient client;
    private final PartitionProbe probe;
    private final KeySequencer sequencer;
    /** The lease clock: times a wake sent again; never blocked by Redis. */
    private final ScheduledExecutorService clock;
    /**
     * Sends a wake again when the first reached Redis before the reader's XREAD. A thread of its
     * own: not the lease clock (a hung Redis would hold it up), not the common pool (a host's
     * blocking tasks may fill it).
     */
    private final ExecutorService waker;
    private final BooleanSupplier closed;
    private final AtomicBoolean wakePending = new AtomicBoolean();
    private final AtomicBoolean unblockSent = new AtomicBoolean();
    private volatile boolean blocked;
    private volatile long readerClientId = -1;
    private volatile Connection readConnection;
    /** On a cluster, where one XREAD cannot span partitions: a waiter per node. Null on one server. */
    private volatile NodeWaits nodeWaits;
    /**
     * On a cluster whose servers lack sharded pub/sub (older than Redis 7): a blocking read per
     * partition instead of {@link #nodeWaits}. Null otherwise.
     */
    private volatile ClusterWaits waits;

    ReaderWait(StreamClient client, PartitionProbe probe, KeySequencer sequencer, ScheduledExecutorService clock,
               ExecutorService waker, BooleanSupplier closed) {
        this.client = client;
        this.probe = probe;
        this.sequencer = sequencer;
        this.clock = clock;
        this.waker = waker;
        this.closed = closed;
        this.nodeWaits = Topology.isCluster(client.redis()) ? new NodeWaits(client, probe, this::readyHere) : null;
    }

    private boolean readyHere() {
        return wakePending.getAndSet(false) || sequencer.hasReady();
    }

    /**
     * Waits up to {@code ms} for new entries after {@code ids[i]} in partition stream {@code keys[i]},
     * or for a wake. On one server the wait's XREAD reads up to {@code count} entries of each stream
     * it returns for: they come back with the news, so the reader need not read them again (a
     * round trip per wake, which at a slow flow is a round trip per event).
     *
     * @return the streams that have news (none after a wake or the timeout), each with the entries
     * the wait read, or with null when it read none (a cluster's waiters tell only which streams
     * have news); null when the wait cannot tell which (a cluster's reads): the reader reads them all
     */
    Map<String, List<?>> await(List<String> keys, List<String> ids, long ms, int count) throws InterruptedException {
        NodeWaits n = nodeWaits;
        if (n != null && n.unsupported()) {
            // Logged once by NodeWaits; from now on as before sharded pub/sub: a read per partition.
            n.close();
            waits = new ClusterWaits(client, probe, this::readyHere);
            nodeWaits = null;
            n = null;
        }
        if (n != null) {
            List<String> names = n.await(keys, ids, ms);
            if (names == null) {
                return null;
            }
            Map<String, List<?>> news = new HashMap<>();
            for (String k : names) {
                news.put(k, null);
            }
            return news;
        }
        ClusterWaits w = waits;
        if (w != null) {
            w.await(keys, ids, ms);
            return null;
        }
        Connection c = readConnection(keys.get(0));
        unblockSent.set(false);
        blocked = true;
        try {
            if (wakePending.getAndSet(false) || sequencer.hasReady()) {
                return Map.of();
            }
            probe.beforeBlockingRead();
            CommandArguments args = new CommandArguments(Protocol.Command.XREAD).add("COUNT").add(count)
                    .add("BLOCK").add(ms).add("STREAMS");
            for (String k : keys) {
                args.key(k);
            }
            for (String id : ids) {
                args.add(id);
            }
            c.setSoTimeout((int) Math.min(Integer.MAX_VALUE, client.connector().socketTimeoutMillis() + ms));
            try {
                return streamsOf(c.executeCommand(args));
            } finally {
                if (c.isConnected()) {
                    c.rollbackTimeout();
                }
            }
        } catch (JedisException e) {
            closeReadConnection();
            if (closed.getAsBoolean()) {
                return Map.of();
            }
            throw client.unavailable("wait for new entries on " + client.options().stream(), e);
        } finally {
            blocked = false;
        }
    }

    /** An XREAD reply, [[key, entries], ...], by stream key; nil (timeout, unblock) has none. */
    private static Map<String, List<?>> streamsOf(Object reply) {
        if (!(reply instanceof List<?> streams)) {
            return Map.of();
        }
        Map<String, List<?>> out = new HashMap<>();
        for (Object s : streams) {
            if (s instanceof List<?> one && !one.isEmpty()) {
                out.put(StreamEntries.text(one.get(0)), one.size() > 1 && one.get(1) instanceof List<?> e ? e : List.of());
            }
        }
        return out;
    }

    private Connection readConnection(String key) {
        Connection c = readConnection;
        if (c == null || !c.isConnected() || c.isBroken()) {
            closeReadConnection();
            try {
                c = client.connector().newDedicatedConnection(client.redis(), key);
                readerClientId = StreamEntries.number(c.executeCommand(
                        new CommandArguments(Protocol.Command.CLIENT).add("ID")));
            } catch (JedisException e) {
                throw client.unavailable("open a read connection", e);
            }
            readConnection = c;
        }
        return c;
    }

    private void closeReadConnection() {
        Connection c = readConnection;
        readConnection = null;
        readerClientId = -1;
        if (c != null) {
            try {
                c.close();
            } catch (RuntimeException e) {
                log.debug("closing the read connection failed: {}", e.toString());
            }
        }
    }

    /**
     * Cuts a blocked read short.
     *
     * @param noRoundTrip true under a monitor the lease clock needs: only the flag is set, and
     *                    the caller wakes the reader again after leaving it
     */
    void wake(boolean noRoundTrip) {
        wakePending.set(true);
        NodeWaits n = nodeWaits;
        ClusterWaits w = waits;
        if (n != null || w != null) {
            if (n != null) {
                n.wake();
            }
            if (w != null) {
                w.wake();
            }
            return;
        }
        if (noRoundTrip) {
            return;
        }
        long id = readerClientId;
        if (blocked && id >= 0 && !unblockSent.getAndSet(true)) {
            try {
                Object unblocked = client.redis().executeCommand(
                        new CommandArguments(Protocol.Command.CLIENT).add("UNBLOCK").add(id));
                if (Long.valueOf(0).equals(unblocked) && blocked && !closed.getAsBoolean()) {
                    // The reader had checked for wakes but its XREAD had not reached Redis yet, so
                    // there was nothing to unblock: try again in a moment, until it has or it left.
                    unblockSent.set(false);
                    // Timed by the lease clock, sent from elsewhere: a CLIENT UNBLOCK stuck on a
                    // hung Redis must not hold up the clock that declares leases lost.
                    clock.schedule(() -> waker.execute(() -> wake(false)), 1, TimeUnit.MILLISECONDS);
                }
            } catch (JedisException | RejectedExecutionException e) {
                log.debug("unblocking the reader failed: {}", e.toString());
            }
        }
    }

    @Override
    public void close() {
        waker.shutdownNow();
        closeReadConnection();
        NodeWaits n = nodeWaits;
        if (n != null) {
            n.close();
        }
        ClusterWaits w = waits;
        if (w != null) {
            w.close();
        }
    }
}
