package dev.workflowworker.redis.internal.client;

import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.wire.WireFormat;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.RedisUnavailableException;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.IntFunction;
import java.util.function.Supplier;

/**
 * What every part of a transport talks to Redis through: the options and key names, the pooled
 * client and its connector, the scripts, the wire format and the clock, and the one way a
 * command is run ({@link #call}): connection failures become {@link RedisUnavailableException}
 * naming the endpoint. Thread-safe.
 */
public final class StreamClient implements AutoCloseable {

    private final RedisOptions options;
    private final StreamKeys keys;
    private final TimeSource clock;
    private final WireFormat codec;
    private final RedisConnector connector;
    private final UnifiedJedis redis;
    private final Scripts scripts = new Scripts();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final TransportThreads threads;
    private final NodeHealth nodes;
    /** Events sent a second time after a broken connection: see {@link #publishedAgain()}. */
    private final java.util.concurrent.atomic.LongAdder publishedAgain = new java.util.concurrent.atomic.LongAdder();
    /** False once a server refused SPUBLISH: wakes are then not sent (see {@link #newsWakes}). */
    private volatile boolean shardedPubSub = true;

    public StreamClient(RedisOptions options, RedisConnector connector, TimeSource clock) {
        this(options, connector, clock, null);
    }

    /** @param threadFactory the host's factory every thread of the transport comes from, or null for plain threads */
    public StreamClient(RedisOptions options, RedisConnector connector, TimeSource clock, ThreadFactory threadFactory) {
        this.options = options;
        this.keys = StreamKeys.of(options);
        this.clock = clock;
        this.codec = WireFormat.withMaxPayloadBytes(options.maxPayloadBytes());
        this.connector = connector;
        this.redis = connector.newPooledClient();
        this.threads = new TransportThreads(options.stream(), threadFactory);
        this.nodes = new NodeHealth(redis, connector, clock, threads);
    }

    /** {@return the cluster nodes whose connection failed lately} */
    public NodeHealth nodes() {
        return nodes;
    }

    /** {@return where the transport's threads come from} */
    public TransportThreads threads() {
        return threads;
    }

    public RedisOptions options() {
        return options;
    }

    public StreamKeys keys() {
        return keys;
    }

    public UnifiedJedis redis() {
        return redis;
    }

    public RedisConnector connector() {
        return connector;
    }

    public Scripts scripts() {
        return scripts;
    }

    public WireFormat codec() {
        return codec;
    }

    public TimeSource clock() {
        return clock;
    }

    /** @return replicas every write must reach before it counts (see RedisOptions#waitReplicas) */
    public int waitReplicas() {
        return options.waitReplicas();
    }

    public long waitMs() {
        return options.waitTimeout().toMillis();
    }

    public boolean isClosed() {
        return closed.get();
    }

    public void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException("the Redis transport is closed");
        }
    }

    /** @return true for the first close only: the caller then closes what it built on this client */
    public boolean markClosed() {
        return closed.compareAndSet(false, true);
    }

    /** Closes the pool. */
    @Override
    public void close() {
        closed.set(true);
        nodes.close();
        redis.close();
    }

    /**
     * {@return the wakes that follow writes to partition streams on a cluster: an SPUBLISH on
     * each stream's news channel, which the owner's node waiter listens to}; null on one server,
     * whose reader blocks on the streams themselves, and once a server refused SPUBLISH (older
     * than Redis 7), whose readers wait per partition instead. See docs/ARCHITECTURE.md, "Redis Cluster".
     */
    public Topology.Wakes newsWakes(IntFunction<String> streamOf) {
        if (!Topology.isCluster(redis) || !shardedPubSub) {
            return null;
        }
        return new Topology.Wakes() {
            @Override
            public CommandArguments after(int call) {
                return new CommandArguments(Protocol.Command.SPUBLISH).key(StreamKeys.newsChannel(streamOf.apply(call)))
                        .add("");
            }

            @Override
            public void refused(JedisDataException e) {
                if (lacksShardedPubSub(e) && shardedPubSub) {
                    shardedPubSub = false;
                    org.slf4j.LoggerFactory.getLogger(StreamClient.class).info("Redis refused SPUBLISH ({}): no "
                            + "wakes follow writes to partitions; readers find them by their per-partition waits",
                            e.getMessage());
                }
            }
        };
    }

    /**
     * Wakes the owner of partition stream {@code stream} on a cluster, after a write that had no
     * wake of its own (see {@link #newsWakes}); a wake lost costs latency only, so a failure is not passed on.
     */
    public void announce(String stream) {
        Topology.Wakes w = newsWakes(i -> stream);
        if (w == null) {
            return;
        }
        try {
            redis.executeCommand(w.after(0));
        } catch (JedisDataException e) {
            w.refused(e);
        } catch (JedisException e) {
            org.slf4j.LoggerFactory.getLogger(StreamClient.class).debug("waking the reader of {} failed: {}", stream,
                    e.toString());
        }
    }

    /**
     * @return true if the error says the server lacks sharded pub/sub (older than Redis 7, or
     *     the command renamed away) or this user may not use it
     */
    public static boolean lacksShardedPubSub(JedisDataException e) {
        String m = e.getMessage();
        return m != null && (m.startsWith("ERR unknown command") || m.startsWith("NOPERM"));
    }

    public String xadd(String stream, Map<String, String> fields) {
        return StreamEntries.text(redis.executeCommand(xaddArguments(stream, fields)));
    }

    /**
     * Writes encoded events in one pipelined round trip (with WAIT when replicas are asked for);
     * on a cluster, redirects are answered without repeating a write that happened.
     *
     * @return the entry ids, in the order of the events
     */
    public List<String> xaddAll(List<Map<String, String>> encoded, IntFunction<String> streamOf) {
        return callPublish("publish " + encoded.size() + " events", encoded.size(), () -> {
            List<Object> replies = Topology.sendAll(redis, encoded.size(),
                    i -> xaddArguments(streamOf.apply(i), encoded.get(i)), streamOf, (i, e) -> false,
                    options.waitReplicas(), options.waitTimeout().toMillis(),
                    () -> "a publish of " + encoded.size() + " event(s)");
            List<String> ids = new ArrayList<>(replies.size());
            for (Object r : replies) {
                ids.add(StreamEntries.text(r));
            }
            return ids;
        });
    }

    private static CommandArguments xaddArguments(String stream, Map<String, String> fields) {
        CommandArguments args = new CommandArguments(Protocol.Command.XADD).key(stream).add("*");
        for (Map.Entry<String, String> f : fields.entrySet()) {
            args.add(f.getKey()).add(f.getValue());
        }
        return args;
    }

    /**
     * Runs {@code script} once on the node of its first key. On a cluster it goes around a node
     * known down (it fails at once, unsent, with {@link NodeHealth.NodeDown}) and waits at most one
     * socket timeout on a hung one, which it then marks down, as the reader's and the ownership
     * round's pipelines do (docs/ARCHITECTURE.md, "Redis Cluster"): the cluster client would retry
     * a timed-out call for up to its retry budget and leave the node to be waited on again. On one
     * server, {@link LuaScript#eval}.
     *
     * @param idempotent the call may run twice (see {@link Topology#sendEach})
     * @param replicas   replicas the call's write must reach, 0 for none
     */
    public Object evalOnNode(LuaScript script, List<?> keys, List<?> args, int replicas, boolean idempotent) {
        if (!Topology.isCluster(redis)) {
            return replicas > 0 ? script.eval(redis, keys, args, replicas, waitMs()) : script.eval(redis, keys, args);
        }
        return script.evalEach(redis, 1, i -> keys, i -> args, replicas, waitMs(), null, idempotent, nodes).get(0);
    }

    /** Trims a stream of the entries every group has delivered and acked; returns how many went. */
    public long trim(String stream) {
        return call("trim stream", () -> StreamEntries.number(scripts.trim.eval(redis, List.of(stream), List.of())));
    }

    /**
     * Creates a consumer group (and through {@code MKSTREAM} its stream) unless it exists.
     *
     * @return true when this call created it
     */
    public boolean createGroup(String stream, String group, String startId) {
        try {
            redis.executeCommand(new CommandArguments(Protocol.Command.XGROUP).add("CREATE")
                    .key(stream).add(group).add(startId).add("MKSTREAM"));
            return true;
        } catch (JedisDataException e) {
            if (e.getMessage() == null || !e.getMessage().startsWith("BUSYGROUP")) {
                throw e;
            }
            return false;
        }
    }

    public static boolean isNoGroup(JedisDataException e) {
        return e.getMessage() != null && e.getMessage().contains("NOGROUP");
    }

    /**
     * Runs a command on the pool, translating connection failures into
     * {@link RedisUnavailableException} naming the endpoint. Every operation that goes through here is
     * safe to repeat (the outcome scripts check that the entry is still pending; a repeated publish
     * makes a duplicate entry, which processed markers settle; the batch claim, which is not, uses
     * {@link #callOnce}), so after a connection failure the
     * pool's idle connections, likely stale after a Redis restart, are dropped and the command is
     * tried once more on a fresh connection.
     */
    public <T> T call(String what, Supplier<T> op) {
        return callRetryingOnce(redis, options, what, op);
    }

    /**
     * {@link #call} for a publish of {@code events} events: sending it again after a connection
     * failure is counted in {@link #publishedAgain()}, since the first send may have written them.
     */
    public <T> T callPublish(String what, int events, Supplier<T> op) {
        return callWith(redis, options, what, op, true, () -> publishedAgain.add(events));
    }

    /** Counts {@code events} events sent a second time within a publish (a cluster node's calls after its connection broke). */
    public void publishedAgain(long events) {
        publishedAgain.add(events);
    }

    /**
     * {@return the events this client sent a second time because the connection broke before
     * the first send was answered} Each may be in the stream twice (StreamStats#publishedAgain).
     */
    public long publishedAgain() {
        return publishedAgain.sum();
    }

    /** Like {@link #call} but never repeats the operation: for one that is not safe to repeat. */
    public <T> T callOnce(String what, Supplier<T> op) {
        return callWith(redis, options, what, op, false, null);
    }

    public static <T> T callRetryingOnce(UnifiedJedis redis, RedisOptions options, String what, Supplier<T> op) {
        return callWith(redis, options, what, op, true, null);
    }

    /** @param repeating told just before {@code op} is run the second time; null for nobody */
    private static <T> T callWith(UnifiedJedis redis, RedisOptions options, String what, Supplier<T> op,
                                  boolean repeat, Runnable repeating) {
        try {
            return noReplyAsConnectionFailure(op);
        } catch (JedisException first) {
            if (!isConnectionFailure(first)) {
                throw first;
            }
            if (Topology.isCluster(redis) && NodeHealth.hungOrDown(first)) {
                // A node that timed out or is down: not the stale pooled connections that a fresh
                // one would fix; again would wait as long (docs/ARCHITECTURE.md, "Redis Cluster").
                throw unavailable(options, what, first);
            }
            Topology.clearIdle(redis);
            if (!repeat) {
                throw unavailable(options, what, first);
            }
            if (repeating != null) {
                repeating.run();
            }
            try {
                return noReplyAsConnectionFailure(op);
            } catch (JedisException second) {
                if (isConnectionFailure(second)) {
                    throw unavailable(options, what, second);
                }
                throw second;
            }
        }
    }

    /** A cluster pipeline call left without a reply by a failed node connection is a connection failure. */
    private static <T> T noReplyAsConnectionFailure(Supplier<T> op) {
        try {
            return op.get();
        } catch (IllegalStateException e) {
            if (Topology.isUnsetReply(e)) {
                throw Topology.noReply(e);
            }
            throw e;
        }
    }

    public RedisUnavailableException unavailable(String what, Throwable cause) {
        return unavailable(options, what, cause);
    }

    public static RedisUnavailableException unavailable(RedisOptions options, String what, Throwable cause) {
        return new RedisUnavailableException("cannot " + what + ": Redis at " + options.endpoint()
                + " is unreachable (" + rootMessage(cause) + ")", cause);
    }

    static boolean isConnectionFailure(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            // A cluster client that ran out of attempts, or a cluster that lost its quorum for
            // the slot, is as unreachable as a server that refuses connections.
            if (t instanceof JedisConnectionException || Topology.clusterUnreachable(t)
                    || (t instanceof JedisDataException && t.getMessage() != null
                        && t.getMessage().startsWith("CLUSTERDOWN"))) {
                return true;
            }
            if (t instanceof JedisDataException) {
                return false;
            }
        }
        // A pool that cannot create a connection reports a bare JedisException.
        return e instanceof JedisException && e.getMessage() != null
                && e.getMessage().contains("Could not get a resource");
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null && t.getCause() != t) {
            t = t.getCause();
        }
        return t.getClass().getSimpleName() + ": " + t.getMessage();
    }
}
