package dev.workflowworker.redis.internal.client;

import dev.workflowworker.redis.RedisUnavailableException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.Connection;
import redis.clients.jedis.ConnectionPool;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisClusterOperationException;
import redis.clients.jedis.providers.ClusterConnectionProvider;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;
import redis.clients.jedis.exceptions.JedisRedirectionException;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.Response;
import redis.clients.jedis.util.JedisClusterCRC16;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.function.IntFunction;

/**
 * What differs between one Redis server and a Redis Cluster, in one place: pipelines (one per
 * node on a cluster, one round trip each), dropping stale connections, and recognising a
 * reply that says "not here, not now" (a redirect, a slot in migration, a cluster without quorum),
 * which means the command did nothing and may be sent again once the slot map is fresh.
 */
public final class Topology {

    private static final Logger log = LoggerFactory.getLogger(Topology.class);

    /**
     * Reads the replies of a multi-node pipeline's nodes one node after the other, on the thread
     * that syncs. Jedis 8.0.2 reads them in parallel if given threads, but a reader whose node
     * connection fails then removes its node through the iterator the syncing thread is still
     * using: that throws ConcurrentModificationException there, or removes another node's entry,
     * and the sync that {@code close()} runs again then fails with a NullPointerException on the
     * failed node (and a sync cut short lets {@code close()} hand connections still being read
     * back to the pool). On the syncing thread the removal is the iterator's own and exact. Each
     * node is still one round trip; the nodes' round trips do not overlap, which is why
     * {@link #sendAll} uses {@link NodePipelines} instead.
     */
    private static final ExecutorService PIPELINE_SYNC = new InlineExecutor();

    private Topology() {
    }

    public static AbstractPipeline pipeline(UnifiedJedis redis) {
        if (redis instanceof RedisClusterClient cluster) {
            return cluster.pipelined(PIPELINE_SYNC);
        }
        return redis.pipelined();
    }

    public static boolean isCluster(UnifiedJedis redis) {
        return redis instanceof RedisClusterClient;
    }

    /** Drops idle connections, likely stale after a restart or failover, and re-reads the slot map. */
    static void clearIdle(UnifiedJedis redis) {
        try {
            if (redis instanceof RedisClient single) {
                single.getPool().clear();
            } else if (redis instanceof RedisClusterClient cluster) {
                for (ConnectionPool pool : cluster.getClusterNodes().values()) {
                    pool.clear();
                }
                cluster.refreshClusterTopology();
            }
        } catch (RuntimeException e) {
            log.debug("Clearing idle Redis connections failed: {}", e.toString());
        }
    }

    /**
     * {@return the primary serving {@code slot} by the client's slot map}, without a round trip
     * or a connection: the map is read where the client keeps it, or (should a client version
     * not allow that) from a pooled connection to the slot's node.
     */
    public static HostAndPort nodeOf(UnifiedJedis redis, int slot) {
        if (!(redis instanceof RedisClusterClient cluster)) {
            throw new IllegalArgumentException("not a cluster client");
        }
        ClusterConnectionProvider provider = providerOf(cluster);
        if (provider != null) {
            HostAndPort node = provider.getNode(slot);
            if (node != null) {
                return node;
            }
        }
        try (Connection pooled = cluster.getConnectionFromSlot(slot)) {
            return pooled.getHostAndPort();
        }
    }

    /** {@return a pooled connection to cluster node {@code node}, which an ASK redirect named} */
    static Connection connectionTo(RedisClusterClient cluster, HostAndPort node) {
        ClusterConnectionProvider provider = providerOf(cluster);
        if (provider != null) {
            return provider.getConnection(node);
        }
        ConnectionPool pool = cluster.getClusterNodes().get(node.toString());
        if (pool == null) {
            throw new JedisConnectionException("no connection to " + node + ", which a redirect named");
        }
        return pool.getResource();
    }

    /** {@return the client's connection provider, which holds its slot map}; null if this client version hides it */
    static ClusterConnectionProvider providerOf(RedisClusterClient cluster) {
        if (PROVIDER == null) {
            return null;
        }
        try {
            return PROVIDER.get(cluster) instanceof ClusterConnectionProvider p ? p : null;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null;
        }
    }

    /** The client's connection provider, which holds its slot map; null if this client version hides it. */
    private static final java.lang.reflect.Field PROVIDER = providerField();

    private static java.lang.reflect.Field providerField() {
        try {
            java.lang.reflect.Field f = UnifiedJedis.class.getDeclaredField("provider");
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            log.debug("the cluster client's slot map is not readable; nodes are found from pooled connections: {}",
                    e.toString());
            return null;
        }
    }

    /** Re-reads the slot map after a reply showed it stale; harmless on one server. */
    public static void refresh(UnifiedJedis redis) {
        if (redis instanceof RedisClusterClient cluster) {
            try {
                cluster.refreshClusterTopology();
            } catch (RuntimeException e) {
                log.debug("Refreshing the cluster's slot map failed: {}", e.toString());
            }
        }
    }

    /**
     * @return true if the error says the command was not run because of where or when it was
     *     sent: MOVED, ASK, TRYAGAIN (keys of the slot half migrated), CLUSTERDOWN
     */
    public static boolean notRunHere(Throwable e) {
        if (e instanceof JedisRedirectionException) {
            return true;
        }
        if (e instanceof JedisDataException && e.getMessage() != null) {
            String m = e.getMessage();
            return m.startsWith("TRYAGAIN") || m.startsWith("CLUSTERDOWN") || m.startsWith("MOVED")
                    || m.startsWith("ASK");
        }
        return false;
    }

    /** Decides, for a call whose reply was an error, whether to send it again (it did nothing). */
    public interface Resend {
        boolean resend(int call, JedisDataException error);
    }

    /**
     * Sends {@code n} commands in pipelined round trips (one per node on a cluster) and returns
     * their replies in call order. A call answered with a redirect, TRYAGAIN or CLUSTERDOWN did
     * nothing and is sent again, in a pipeline too, once the slot map is refreshed; other errors
     * go to {@code resend}, and are thrown unless it asks to send the call again.
     *
     * <p>With {@code replicas > 0}, each node's writes are followed by {@code WAIT} on the same
     * connection, and a call whose node could not confirm that many replicas within
     * {@code waitMs} fails with {@link RedisUnavailableException}: the write happened on the
     * primary, but a failover now could lose it.
     *
     * @param sampleKey a key of call i, which locates its node (and its WAIT)
     */
    public static List<Object> sendAll(UnifiedJedis redis, int n, IntFunction<CommandArguments> command,
                                IntFunction<String> sampleKey, Resend resend, int replicas, long waitMs,
                                java.util.function.Supplier<String> what) {
        return sendAll(redis, n, command, sampleKey, resend, replicas, waitMs, what, null);
    }

    /**
     * Commands sent right after the calls of a {@link #sendAll}, one per call, in the same
     * pipeline and so on the same node's connection: a wake that reaches Redis after the write
     * it announces. Their replies are not the caller's; only a refusal is reported.
     */
    public interface Wakes {
        /** {@return the command that follows call {@code call}} */
        CommandArguments after(int call);

        /** A wake was refused (an older server that lacks the command, a slot moved meanwhile). */
        void refused(JedisDataException e);
    }

    /**
     * Like {@link #sendAll(UnifiedJedis, int, IntFunction, IntFunction, Resend, int, long,
     * java.util.function.Supplier)}, each call followed by its wake; a call sent again is
     * followed by its wake again. A wake lost with its round costs its reader latency only.
     */
    public static List<Object> sendAll(UnifiedJedis redis, int n, IntFunction<CommandArguments> command,
                                IntFunction<String> sampleKey, Resend resend, int replicas, long waitMs,
                                java.util.function.Supplier<String> what, Wakes wakes) {
        return sendEach(redis, n, command, sampleKey, resend, replicas, waitMs, what, wakes, false, null).all();
    }

    /**
     * Like {@link #sendAll(UnifiedJedis, int, IntFunction, IntFunction, Resend, int, long,
     * java.util.function.Supplier, Wakes)}, except that on a cluster a node that fails fails only
     * the calls sent to it: each of those has a {@link JedisConnectionException} for a reply (a
     * {@link RedisUnavailableException} when only its WAIT failed), and its node is named in
     * {@link Replies#failedNodes()}; the other nodes' replies are delivered. The slot map is then
     * read again, so that later calls reach a failover's new primary (docs/ARCHITECTURE.md, "Redis
     * Cluster"). Another error reply (a script's) fails the lot as a {@link CallFailed}, with the others' replies;
     * so does a call still answered "not here, not now" after {@link #MAX_ROUNDS} sends (a slot whose
     * migration outlasts them), with that answer as its failure: it did nothing.
     *
     * @param idempotent the calls may run twice: a call whose node's connection broke (not one
     *     that timed out) is then sent once more, after that node's idle connections are dropped,
     *     as a whole pipeline sent through {@link StreamClient#call} would be. A connection the
     *     server closed while it sat in the pool (its {@code timeout}, a proxy, {@code CLIENT
     *     KILL}) fails only on use, and would otherwise leave a call's outcome unknown for nothing.
     *     A node that timed out is not asked again: a fresh connection would most likely wait as long
     * @param nodes where a node whose call failed is reported, at once (the reader then leaves it
     *     out), and which closes a timed-out node's connection: the pool replaces a closed broken
     *     connection by opening another, which to a hung node waits a socket timeout more; a call
     *     to a node it already knows down fails at once, unsent, with {@link NodeHealth.NodeDown}.
     *     Null for none of this
     */
    public static Replies sendEach(UnifiedJedis redis, int n, IntFunction<CommandArguments> command,
                                   IntFunction<String> sampleKey, Resend resend, int replicas, long waitMs,
                                   java.util.function.Supplier<String> what, Wakes wakes, boolean idempotent,
                                   NodeHealth nodes) {
        Replies out = new Replies(n);
        boolean nodeFailed = false;
        boolean[] resent = new boolean[n];
        List<Integer> pending = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            // A node known down is not waited on again: its calls fail at once, unsent.
            RuntimeException down = nodes == null ? null : nodes.downFailure(sampleKey.apply(i));
            if (down != null) {
                out.fail(i, down);
            } else {
                pending.add(i);
            }
        }
        if (pending.isEmpty()) {
            return out;
        }
        AskRedirects asks = new AskRedirects();
        for (int round = 1; ; round++) {
            List<Response<Object>> replies = new ArrayList<>(pending.size());
            List<Response<Object>> wakeReplies = wakes == null ? List.of() : new ArrayList<>(pending.size());
            Map<String, Response<Object>> waits = replicas > 0 ? new LinkedHashMap<>() : Map.of();
            List<String> waitOf = new ArrayList<>(pending.size());
            Sender p = Sender.of(redis, nodes);
            try {
                for (int i : pending) {
                    String key = sampleKey.apply(i);
                    replies.add(asks.send(p, i, key, command.apply(i)));
                    if (wakes != null) {
                        wakeReplies.add(p.send(key, wakes.after(i)));
                    }
                }
                if (replicas > 0) {
                    // After every write of this round: a WAIT covers the writes sent before it on
                    // its connection, so one per slot (one connection per node) or asked node suffices.
                    for (int i : pending) {
                        String key = sampleKey.apply(i);
                        HostAndPort asked = asks.nodeOf(i);
                        String slot = asked != null ? asked.toString() : Integer.toString(JedisClusterCRC16.getSlot(key));
                        waitOf.add(slot);
                        if (!waits.containsKey(slot)) {
                            CommandArguments wait = new CommandArguments(Protocol.Command.WAIT).add(replicas).add(waitMs);
                            waits.put(slot, asked != null ? p.sendTo(asked, wait) : p.send(key, wait));
                        }
                    }
                }
                p.sync();
            } finally {
                p.close();
            }
            for (Response<Object> w : wakeReplies) {
                try {
                    w.get();
                } catch (JedisDataException e) {
                    wakes.refused(e);
                } catch (IllegalStateException unanswered) {
                    // Its node's connection failed: the call beside it reports that.
                }
            }
            int[] again = new int[pending.size()];
            int againCount = 0;
            JedisDataException redirect = null;
            // Per call sent again, its redirect (null when it goes again for another reason).
            JedisDataException[] redirects = new JedisDataException[pending.size()];
            List<HostAndPort> broken = new ArrayList<>(0);
            for (int k = 0; k < pending.size(); k++) {
                int i = pending.get(k);
                boolean sendAgain;
                Object reply = null;
                try {
                    reply = replies.get(k).get();
                    sendAgain = false;
                } catch (IllegalStateException unanswered) {
                    // The node's connection failed during the sync: the client leaves its replies
                    // unset. Whether the calls ran is unknown, as after any lost connection.
                    NodeFailure f = p.failureOf(replies.get(k));
                    if (idempotent && !resent[i] && f != null && !timedOut(f.why())) {
                        resent[i] = true;
                        out.markResent(i);
                        if (!broken.contains(f.node())) {
                            broken.add(f.node());
                        }
                        again[againCount++] = i;
                        continue;
                    }
                    out.fail(i, new JedisConnectionException("no reply from a node for call " + i + " of " + n,
                            f != null && f.why() != null ? f.why() : unanswered));
                    if (f != null) {
                        out.nodeFailed(f.node());
                        // A call that may not run twice was not resent after a broken connection,
                        // which may be only a stale pooled one; its idle siblings likely are too, so
                        // they go, or the next calls to a healthy node would fail on them one by one.
                        if (nodes != null && (idempotent || timedOut(f.why()))) {
                            nodes.failed(f.node(), what.get());
                        } else if (!timedOut(f.why()) && !broken.contains(f.node())) {
                            broken.add(f.node());
                        }
                    }
                    // A node that only timed out still serves its slots (or the cluster's own
                    // refresh finds its replacement): reading the map now could wait on it too.
                    nodeFailed |= f == null || !timedOut(f.why());
                    continue;
                } catch (JedisDataException e) {
                    if (notRunHere(e)) {
                        if (!asks.follow(i, n, e)) {
                            redirect = e;
                            redirects[againCount] = e;
                        }
                    } else if (!resend.resend(i, e)) {
                        out.fail(i, e);
                        continue;
                    }
                    sendAgain = true;
                }
                // An array, not a list: on Java 25.0.3 an ArrayList here threw an NPE from within add()
                // ("elementData" is null) in QuickstartOnRedisTest, which no Java-level race explains.
                if (sendAgain) {
                    again[againCount++] = i;
                    continue;
                }
                if (replicas > 0) {
                    long acked;
                    try {
                        acked = StreamEntries.number(waits.get(waitOf.get(k)).get());
                    } catch (JedisDataException | IllegalStateException e) {
                        out.fail(i, new RedisUnavailableException("cannot confirm that " + what.get() + " reached "
                                + replicas + " replica(s): " + e.getMessage(), e));
                        continue;
                    }
                    if (acked < replicas) {
                        out.fail(i, new RedisUnavailableException(what.get() + " reached only " + acked + " of "
                                + replicas + " replica(s) within " + waitMs + " ms; the primary has it, a failover now "
                                + "could lose it", null));
                        continue;
                    }
                }
                out.set(i, reply);
            }
            for (HostAndPort node : broken) {
                clearNode(redis, node);
            }
            if (redirect != null && round >= MAX_ROUNDS) {
                // Out of rounds: the replies the other calls had stand (CallFailed carries them).
                againCount = out.failRedirected(again, redirects, againCount);
                redirect = null;
            }
            if (againCount == 0) {
                if (nodeFailed) {
                    refresh(redis);
                }
                return CallFailed.unless(out);
            }
            if (redirect != null) {
                pauseAfterRedirect(redis, round);
            }
            List<Integer> next = new ArrayList<>(againCount);
            for (int j = 0; j < againCount; j++) {
                next.add(again[j]);
            }
            pending = next;
        }
    }

    /** A cluster node whose pipeline connection failed, and why. */
    record NodeFailure(HostAndPort node, JedisException why) {
    }

    /** {@return true if {@code e} is a read or connect that timed out}: the node may be hung, not gone */
    public static boolean timedOut(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof java.net.SocketTimeoutException) {
                return true;
            }
        }
        return false;
    }

    /** Drops the idle connections to one cluster node: the server may have closed them all at once. */
    static void clearNode(UnifiedJedis redis, HostAndPort node) {
        if (redis instanceof RedisClusterClient cluster) {
            try {
                ConnectionPool pool = cluster.getClusterNodes().get(node.toString());
                if (pool != null) {
                    pool.clear();
                }
            } catch (RuntimeException e) {
                log.debug("Clearing idle connections to {} failed: {}", node, e.toString());
            }
        }
    }

    /** @return true if {@code e} is what Jedis throws for a pipelined call that got no reply */
    public static boolean isUnsetReply(Throwable e) {
        if (!(e instanceof IllegalStateException)) {
            return false;
        }
        StackTraceElement[] at = e.getStackTrace();
        return (at.length > 0 && Response.class.getName().equals(at[0].getClassName()))
                || (e.getMessage() != null && e.getMessage().startsWith("Please close pipeline"));
    }

    public static JedisConnectionException noReply(Throwable e) {
        return new JedisConnectionException("no reply from a cluster node: its connection failed while the pipeline "
                + "was read, so its calls may or may not have run", e);
    }

    /** Sends of one call answered "not here, not now" before the answer is passed on. */
    static final int MAX_ROUNDS = 6;

    static void pauseAfterRedirect(UnifiedJedis redis, int attempt) {
        refresh(redis);
        try {
            // A slot in migration (ASK, TRYAGAIN) or a failover (CLUSTERDOWN) settles within
            // moments; MOVED needs only the refreshed map, so the first retry goes at once.
            if (attempt > 1) {
                Thread.sleep(Math.min(500, 25L << Math.min(attempt, 5)));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new redis.clients.jedis.exceptions.JedisException("interrupted while waiting for the cluster", e);
        }
    }

    /** @return true if a cluster client gave up: no node answered for the slot within its attempts */
    static boolean clusterUnreachable(Throwable e) {
        return e instanceof JedisClusterOperationException;
    }
}
