package dev.workflowworker.redis.internal.partitioned;

import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.Topology;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Connection;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.exceptions.JedisException;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * The idle wait of a partitioned stream on a Redis Cluster. On one server a single XREAD BLOCK
 * spans every owned partition; a cluster refuses a command whose keys lie in different slots, and
 * every partition has a slot of its own. So each owned partition gets a blocking XREAD of its own,
 * on a connection to the node serving its slot, in a thread of its own, and the reader waits
 * until any of them reports news, the wait ends, or a delivery becomes ready here.
 *
 * <p>A partition's read stays out after the reader stops waiting, until news or its block ends;
 * the next wait reuses it rather than sending another. It may report entries the reader has read
 * meanwhile, which costs one empty read round and nothing else. The wait of a partition no longer
 * owned closes its connection at the first wait after its read is back.
 */
public final class ClusterWaits implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ClusterWaits.class);

    private final StreamClient client;
    private final PartitionProbe probe;
    private final BooleanSupplier readyHere;
    private final Object signal = new Object();
    private final Map<String, Waiter> waiters = new ConcurrentHashMap<>();
    private final ExecutorService threads;
    private boolean news;
    private volatile boolean closed;

    ClusterWaits(StreamClient client, PartitionProbe probe, BooleanSupplier readyHere) {
        this.client = client;
        this.probe = probe;
        this.readyHere = readyHere;
        this.threads = client.threads().cached("partition-wait");
    }

    /** One partition's blocking read and its connection, kept across waits. */
    private final class Waiter implements Runnable {
        final String key;
        volatile String id;
        volatile long blockMs;
        volatile boolean running;
        Connection connection;

        Waiter(String key) {
            this.key = key;
        }

        @Override
        public void run() {
            try {
                Connection c = connection;
                if (c == null || !c.isConnected() || c.isBroken()) {
                    closeConnection();
                    c = client.connector().newDedicatedConnection(client.redis(), key);
                    connection = c;
                    probe.waitConnection(1);
                    if (closed) {
                        // close() ran while this connected and found nothing to close.
                        closeConnection();
                        return;
                    }
                }
                c.setSoTimeout((int) Math.min(Integer.MAX_VALUE, client.connector().socketTimeoutMillis() + blockMs));
                Object reply;
                try {
                    reply = c.executeCommand(new CommandArguments(Protocol.Command.XREAD).add("COUNT").add(1)
                            .add("BLOCK").add(blockMs).add("STREAMS").key(key).add(id));
                } finally {
                    if (c.isConnected()) {
                        c.rollbackTimeout();
                    }
                }
                if (reply != null) {
                    report();
                }
            } catch (JedisException e) {
                // Moved, failed over or unreachable: the reader's next round finds out which, and
                // the next wait connects to whichever node serves the slot then.
                closeConnection();
                if (Topology.notRunHere(e)) {
                    Topology.refresh(client.redis());
                }
                if (!closed) {
                    log.debug("waiting for entries of {} failed: {}", key, e.toString());
                    report();
                }
            } catch (RuntimeException e) {
                closeConnection();
                if (!closed) {
                    log.debug("waiting for entries of {} failed: {}", key, e.toString());
                    report();
                }
            } finally {
                running = false;
            }
        }

        void closeConnection() {
            Connection c = connection;
            connection = null;
            if (c != null) {
                probe.waitConnection(-1);
                try {
                    c.close();
                } catch (RuntimeException e) {
                    log.debug("closing a wait connection failed: {}", e.toString());
                }
            }
        }
    }

    private void report() {
        synchronized (signal) {
            news = true;
            signal.notifyAll();
        }
    }

    /** A delivery became ready here: end the reader's wait. */
    void wake() {
        report();
    }

    /**
     * Waits up to {@code ms} for a new entry after {@code ids[i]} in partition stream {@code keys[i]},
     * or for a wake.
     */
    void await(List<String> keys, List<String> ids, long ms) throws InterruptedException {
        synchronized (signal) {
            news = false;
        }
        if (readyHere.getAsBoolean()) {
            return;
        }
        for (int i = 0; i < keys.size(); i++) {
            Waiter w = waiters.computeIfAbsent(keys.get(i), Waiter::new);
            if (!w.running && !closed) {
                w.id = ids.get(i);
                w.blockMs = Math.max(1, ms);
                w.running = true;
                try {
                    threads.execute(w);
                } catch (RuntimeException e) {
                    w.running = false;
                    throw e;
                }
            }
        }
        // Partitions owned no longer (taken over, released): their connections go once their
        // reads are back, or an instance would keep one for every partition it ever owned.
        for (java.util.Iterator<Map.Entry<String, Waiter>> it = waiters.entrySet().iterator(); it.hasNext(); ) {
            Map.Entry<String, Waiter> e = it.next();
            if (!e.getValue().running && !keys.contains(e.getKey())) {
                it.remove();
                e.getValue().closeConnection();
            }
        }
        long deadline = client.clock().nanoTime() + TimeUnit.MILLISECONDS.toNanos(ms);
        synchronized (signal) {
            while (!news && !closed) {
                long left = deadline - client.clock().nanoTime();
                if (left <= 0) {
                    return;
                }
                TimeUnit.NANOSECONDS.timedWait(signal, left);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        report();
        for (Waiter w : waiters.values()) {
            w.closeConnection();
        }
        threads.shutdownNow();
    }
}
