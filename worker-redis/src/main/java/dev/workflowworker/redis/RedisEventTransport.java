package dev.workflowworker.redis;

import dev.workflowworker.api.ErrorClassifier;
import dev.workflowworker.api.PartitionOwnership;
import dev.workflowworker.api.RetryHolds;
import dev.workflowworker.core.order.KeySequencer;
import dev.workflowworker.api.StreamStats;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.LockProvider;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.Cadence;
import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.wire.WireFormat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.Response;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.exceptions.JedisException;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * The Redis Streams transport: events are entries of one stream read through a consumer group,
 * retries wait in a sorted set keyed by due time, dead letters go to a capped stream and
 * processed markers are keys with a TTL. Every outcome is one Lua script, so its ack and its
 * other effect happen together or not at all.
 *
 * <p>Publishing and the outcome operations share a connection pool; each consumer's blocking
 * read has a connection of its own so it never holds up locks, acks or publishes. When Redis is
 * unreachable, operations throw {@link RedisUnavailableException}; the transport reconnects by
 * itself and re-creates its consumer group when Redis comes back empty.
 *
 * <pre>{@code
 * try (RedisEventTransport transport = RedisEventTransport.create(RedisOptions.fromUri("redis://localhost:6379"))) {
 *     transport.publish(WorkflowEvent.builder("TICKET_CREATED").payload(Map.of("ticket_id", 42)).build());
 * }
 * }</pre>
 *
 * Thread-safe.
 */
public final class RedisEventTransport implements EventTransport {

    private static final Logger log = LoggerFactory.getLogger(RedisEventTransport.class);
    /** Most retries one mover run returns to the stream; bounds the script's run time. */
    static final int MOVER_BATCH = 100;

    private final RedisOptions options;
    private final TimeSource clock;
    private final WireFormat codec;
    private final RedisConnector connector;
    private final UnifiedJedis redis;
    private final Scripts scripts = new Scripts();
    private final AtomicBoolean groupReady = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final Set<RedisConsumer> consumers = ConcurrentHashMap.newKeySet();
    private final Cadence mover;
    private final Cadence trim;
    private final Cadence consumerCleanup;
    /** Earliest known due time in the retry set, in clock millis; Long.MAX_VALUE when none is known. */
    private volatile long nextRetryDueMillis = Long.MAX_VALUE;
    private volatile RedisLockProvider lockProvider;
    /** Set when the stream is partitioned; null for one shared stream and for the admin's read-only transport. */
    private volatile Partitions partitions;

    private RedisEventTransport(RedisOptions options, TimeSource clock) {
        this.options = options;
        this.clock = clock;
        this.codec = WireFormat.withMaxPayloadBytes(options.maxPayloadBytes());
        this.connector = new RedisConnector(options, "workflow-worker-" + ManagementFactory.getRuntimeMXBean().getPid());
        this.redis = connector.newPooledClient();
        this.mover = new Cadence(clock, options.retryPollInterval(), Duration.ZERO);
        this.trim = new Cadence(clock, options.trimInterval(), options.trimInterval());
        this.consumerCleanup = new Cadence(clock, options.consumerRetention().dividedBy(2),
                options.consumerRetention().dividedBy(2));
    }

    /**
     * Creates a transport and its consumer group. Redis being unreachable now is not an error:
     * the group is created on the first successful read.
     *
     * @param options the options
     * @return the transport
     * @throws IllegalStateException if Redis answers but refuses the transport, e.g. a wrong password
     *                               or an ACL user lacking a command; the message names the endpoint,
     *                               never the password, and the cause is the client's exception
     */
    public static RedisEventTransport create(RedisOptions options) {
        return create(options, TimeSource.system());
    }

    /**
     * Creates a transport on a time source for retry due times, dead-letter timestamps and the
     * cadence of its chores (moving due retries, trimming, removing idle consumers).
     *
     * @param options the options
     * @param clock   the time source
     * @return the transport
     * @throws IllegalStateException if Redis answers but refuses the transport (see {@link #create(RedisOptions)})
     */
    public static RedisEventTransport create(RedisOptions options, TimeSource clock) {
        RedisEventTransport t = new RedisEventTransport(Objects.requireNonNull(options, "options"),
                Objects.requireNonNull(clock, "clock"));
        try {
            if (options.partitioned()) {
                t.partitions = new Partitions(t);
                try {
                    t.partitions.setUp();
                } finally {
                    // Also when Redis is not reachable yet: the rounds set up the layout once it is.
                    t.partitions.start();
                }
            } else {
                t.ensureGroup();
            }
            t.call("load Lua scripts", () -> {
                t.scripts.loadAll(t.redis);
                return null;
            });
        } catch (RedisUnavailableException e) {
            log.warn("Redis at {} is not reachable yet; the transport will connect when it is: {}",
                    options.endpoint(), e.getMessage());
        } catch (IllegalStateException e) {
            // The stream's recorded layout contradicts the options: say so as it is.
            t.close();
            throw e;
        } catch (RuntimeException e) {
            // Reachable but refusing (wrong password, missing ACL permission, ...): waiting will
            // not help. The caller gets no transport to close, so its pool is closed here.
            t.close();
            throw new IllegalStateException("cannot start the Redis transport: Redis at " + options.endpoint()
                    + " refused it: " + e.getMessage(), e);
        }
        return t;
    }

    @Override
    public Optional<PartitionOwnership> ownership() {
        Partitions p = partitions;
        return p == null ? Optional.empty()
                : Optional.of(new PartitionOwnership(p.count(), p.owned(), p.share(), p.renewalFailing()));
    }

    @Override
    public Optional<RetryHolds> retryHolds() {
        Partitions p = partitions;
        if (p == null) {
            return Optional.empty();
        }
        KeySequencer.Holds h = p.sequencer.holds();
        return Optional.of(new RetryHolds(h.keys(), h.longestMillis()));
    }

    /**
     * {@return the partitions this process owns now, empty for one shared stream}; ownership
     * moves as instances join and leave.
     */
    public List<Integer> ownedPartitions() {
        Partitions p = partitions;
        return p == null ? List.of() : p.owned();
    }

    /**
     * A transport that writes nothing to Redis when it opens: unlike {@link #create}, it neither
     * creates the consumer group (nor, through {@code MKSTREAM}, the stream) nor loads the scripts.
     * For tools that inspect a stream that may not exist, so that a mistyped name is reported as
     * empty instead of being created. Opening a consumer on it would create the group on first
     * use, as on any transport.
     */
    static RedisEventTransport createWithoutSetup(RedisOptions options) {
        return new RedisEventTransport(Objects.requireNonNull(options, "options"), TimeSource.system());
    }

    /** {@return the options this transport was created with} */
    public RedisOptions options() {
        return options;
    }

    /** {@return {@link RedisOptions#stream()}} */
    @Override
    public String stream() {
        return options.stream();
    }

    /**
     * {@link RedisErrorClassifier}: a Jedis connection failure that a handler lets escape is
     * transient, a Jedis data or script error is left to the defaults (recoverable).
     *
     * @return the Redis classifier
     */
    @Override
    public List<ErrorClassifier> errorClassifiers() {
        return List.of(RedisErrorClassifier.INSTANCE);
    }

    /**
     * The lock provider on this transport's connection pool; a {@code WorkerService} given this
     * transport and no lock provider uses it.
     *
     * @return the lock provider, closed with the transport
     */
    @Override
    public Optional<LockProvider> lockProvider() {
        return Optional.of(partitions != null ? PartitionLeases.INSTANCE : locks());
    }

    /**
     * {@return the transport's lock provider, sharing its connection pool}, so locks cost no
     * connections of their own.
     */
    public RedisLockProvider locks() {
        RedisLockProvider p = lockProvider;
        if (p == null) {
            synchronized (this) {
                if (lockProvider == null) {
                    lockProvider = new RedisLockProvider(options, redis, scripts, false);
                }
                p = lockProvider;
            }
        }
        return p;
    }

    @Override
    public String publish(WorkflowEvent event) {
        Objects.requireNonNull(event, "event");
        checkOpen();
        Map<String, String> fields = codec.encode(event, 1);
        if (options.waitReplicas() > 0 || options.cluster()) {
            // Through the pipeline path: WAIT must follow the XADD on its connection, and a
            // cluster's redirects are answered there without repeating a write that happened.
            return publishAll(List.of(event)).get(0);
        }
        return call("publish event " + event.eventId(), () -> xadd(streamOf(event), fields));
    }

    /**
     * Publishes the events in one pipelined round trip. Every event is encoded first, so an event
     * over the size limit fails the call before anything is written.
     *
     * @throws IllegalArgumentException if an event exceeds the size limit
     * @throws RedisUnavailableException if Redis cannot be reached; some events may have been written
     */
    @Override
    public List<String> publishAll(List<WorkflowEvent> events) {
        checkOpen();
        List<Map<String, String>> encoded = new ArrayList<>(events.size());
        for (WorkflowEvent event : events) {
            encoded.add(codec.encode(Objects.requireNonNull(event, "event"), 1));
        }
        if (encoded.isEmpty()) {
            return List.of();
        }
        if (options.cluster() && options.partitioned()) {
            return publishPerPartition(events, encoded);
        }
        return call("publish " + encoded.size() + " events", () -> {
            List<Object> replies = Topology.sendAll(redis, encoded.size(),
                    i -> xaddArguments(streamOf(events.get(i)), encoded.get(i)),
                    i -> streamOf(events.get(i)), (i, e) -> false,
                    options.waitReplicas(), options.waitTimeout().toMillis(), () -> "a publish of " + encoded.size() + " event(s)");
            List<String> ids = new ArrayList<>(replies.size());
            for (Object r : replies) {
                ids.add(StreamEntries.text(r));
            }
            return ids;
        });
    }

    /**
     * On a cluster, each partition's events go in one script call, so a slot moving mid-batch
     * cannot write a later event of a key before an earlier one that was redirected.
     */
    private List<String> publishPerPartition(List<WorkflowEvent> events, List<Map<String, String>> encoded) {
        Map<String, List<Integer>> byStream = new java.util.LinkedHashMap<>();
        for (int i = 0; i < events.size(); i++) {
            byStream.computeIfAbsent(streamOf(events.get(i)), k -> new ArrayList<>()).add(i);
        }
        List<String> streams = new ArrayList<>(byStream.keySet());
        List<Object> replies = call("publish " + events.size() + " events", () -> scripts.publishAll.evalAll(redis,
                streams.size(), i -> List.of(streams.get(i)), i -> {
                    List<String> args = new ArrayList<>();
                    for (int e : byStream.get(streams.get(i))) {
                        Map<String, String> fields = encoded.get(e);
                        args.add(Integer.toString(fields.size() * 2));
                        fields.forEach((k, v) -> {
                            args.add(k);
                            args.add(v);
                        });
                    }
                    return args;
                }, options.waitReplicas(), options.waitTimeout().toMillis()));
        String[] ids = new String[events.size()];
        for (int s = 0; s < streams.size(); s++) {
            List<?> written = (List<?>) replies.get(s);
            List<Integer> order = byStream.get(streams.get(s));
            for (int k = 0; k < order.size(); k++) {
                ids[order.get(k)] = StreamEntries.text(written.get(k));
            }
        }
        return List.of(ids);
    }

    /** The stream an event is written to: its partition's, routed by lock key, or the one shared stream. */
    private String streamOf(WorkflowEvent event) {
        if (!options.partitioned()) {
            return options.stream();
        }
        return options.partitionStream(PartitionRouting.partitionOf(event.lockKey(), options.partitions()));
    }

    @Override
    public Consumer openConsumer(String consumerName) {
        if (consumerName == null || consumerName.isBlank()) {
            throw new IllegalArgumentException("consumerName must not be blank");
        }
        checkOpen();
        Partitions p = partitions;
        if (p != null) {
            return new PartitionedConsumer(this, p, consumerName);
        }
        RedisConsumer consumer = new RedisConsumer(this, consumerName);
        consumers.add(consumer);
        return consumer;
    }

    /**
     * {@return administration of this transport's dead-letter stream}, to list, inspect and replay
     * what failed for good.
     */
    public RedisDeadLetters deadLetters() {
        checkOpen();
        return new RedisDeadLetters(this);
    }

    /**
     * Returns due retries to the stream now. Consumers do this by themselves while polling;
     * this is for tools and tests.
     *
     * @return how many retries were moved
     */
    public int moveDueRetries() {
        checkOpen();
        return call("move due retries", this::runMover);
    }

    /**
     * Trims the stream now, removing only entries that every group has delivered and acked.
     * Consumers do this by themselves every {@link RedisOptions#trimInterval()}.
     *
     * @return how many entries were removed
     */
    public long trimStream() {
        checkOpen();
        return call("trim stream", () -> StreamEntries.number(
                scripts.trim.eval(redis, List.of(options.stream()), List.of())));
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        for (RedisConsumer c : new ArrayList<>(consumers)) {
            c.close();
        }
        Partitions p = partitions;
        if (p != null) {
            p.close();
        }
        redis.close();
        log.debug("Redis transport for {} closed", options.endpoint());
    }

    // ---- shared by consumers ----

    UnifiedJedis redis() {
        return redis;
    }

    /** @return replicas every write must reach before it counts (see RedisOptions#waitReplicas) */
    int waitReplicas() {
        return options.waitReplicas();
    }

    long waitMs() {
        return options.waitTimeout().toMillis();
    }

    /** For tests: the partitioned state, or null. */
    Partitions partitions() {
        return partitions;
    }

    RedisConnector connector() {
        return connector;
    }

    Scripts scripts() {
        return scripts;
    }

    WireFormat codec() {
        return codec;
    }

    TimeSource clock() {
        return clock;
    }

    boolean isClosed() {
        return closed.get();
    }

    void forget(RedisConsumer consumer) {
        consumers.remove(consumer);
    }

    void checkOpen() {
        if (closed.get()) {
            throw new IllegalStateException("the Redis transport is closed");
        }
    }

    String xadd(String stream, Map<String, String> fields) {
        return StreamEntries.text(redis.executeCommand(xaddArguments(stream, fields)));
    }

    private static CommandArguments xaddArguments(String stream, Map<String, String> fields) {
        CommandArguments args = new CommandArguments(Protocol.Command.XADD).key(stream).add("*");
        for (Map.Entry<String, String> f : fields.entrySet()) {
            args.add(f.getKey()).add(f.getValue());
        }
        return args;
    }

    /** Creates the group unless this transport already knows it exists. */
    void ensureGroup() {
        ensureGroup(options.groupStartId());
    }

    private void ensureGroup(String startId) {
        if (groupReady.get()) {
            return;
        }
        // Not on a stream in the partitioned mode: its router would route what the group reads.
        ModeCheck.createSharedGroup(this, startId);
        groupReady.set(true);
    }

    /**
     * Runs an operation that needs the group; if Redis lost it (restart without persistence,
     * stream deleted), re-creates it and runs the operation once more.
     */
    <T> T withGroup(String what, Supplier<T> op) {
        ensureGroup();
        try {
            return call(what, op);
        } catch (JedisDataException e) {
            if (!isNoGroup(e)) {
                throw e;
            }
            log.warn("Consumer group {} on stream {} is gone (Redis restarted empty or the stream was deleted); "
                    + "re-creating it", options.group(), options.stream());
            groupReady.set(false);
            // From the start, whatever the configured start id (that is for the first creation):
            // entries written since the group was lost were never delivered, and '$' would skip them.
            ensureGroup("0");
            return call(what, op);
        }
    }

    static boolean isNoGroup(JedisDataException e) {
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
    <T> T call(String what, Supplier<T> op) {
        return callRetryingOnce(redis, options, what, op);
    }

    /** Like {@link #call} but never repeats the operation: for one that is not safe to repeat. */
    <T> T callOnce(String what, Supplier<T> op) {
        return callWith(redis, options, what, op, false);
    }

    static <T> T callRetryingOnce(UnifiedJedis redis, RedisOptions options, String what, Supplier<T> op) {
        return callWith(redis, options, what, op, true);
    }

    private static <T> T callWith(UnifiedJedis redis, RedisOptions options, String what, Supplier<T> op,
                                  boolean repeat) {
        try {
            return noReplyAsConnectionFailure(op);
        } catch (JedisException first) {
            if (!isConnectionFailure(first)) {
                throw first;
            }
            clearIdle(redis);
            if (!repeat) {
                throw unavailable(options, what, first);
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

    private static void clearIdle(UnifiedJedis redis) {
        Topology.clearIdle(redis);
    }

    RedisUnavailableException unavailable(String what, Throwable cause) {
        return unavailable(options, what, cause);
    }

    static RedisUnavailableException unavailable(RedisOptions options, String what, Throwable cause) {
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

    /**
     * Runs the mover when it is due: every {@link RedisOptions#retryPollInterval()} at most, and
     * at once when the earliest known retry falls due. At most one caller per transport runs it
     * at a time; the script itself is safe against movers of other transports.
     *
     * @return milliseconds until the next known retry is due, or Long.MAX_VALUE
     */
    long maybeMoveRetries() {
        if (clock.wallMillis() >= nextRetryDueMillis) {
            mover.fireNext();
        }
        if (mover.tryFire()) {
            runMover();
        }
        long due = nextRetryDueMillis;
        return due == Long.MAX_VALUE ? Long.MAX_VALUE : Math.max(0, due - clock.wallMillis());
    }

    private int runMover() {
        Object reply = scripts.moveDue.eval(redis, List.of(options.retryKey(), options.stream()),
                List.of(Long.toString(clock.wallMillis()), Integer.toString(MOVER_BATCH)));
        List<?> r = (List<?>) reply;
        int moved = (int) StreamEntries.number(r.get(0));
        String next = StreamEntries.text(r.get(1));
        double nextDue = Double.parseDouble(next);
        nextRetryDueMillis = nextDue < 0 ? Long.MAX_VALUE : (long) nextDue;
        if (moved > 0) {
            log.debug("Moved {} due retries back to stream {}", moved, options.stream());
            if (moved == MOVER_BATCH) {
                // More may be due; let the next poll run the mover again at once.
                mover.fireNext();
            }
        }
        return moved;
    }

    /** Learns about a retry scheduled by this transport so the mover runs when it falls due. */
    void noteRetryDue(long dueMillis) {
        if (dueMillis < nextRetryDueMillis) {
            nextRetryDueMillis = dueMillis;
        }
    }

    void maybeTrim() {
        if (trim.tryFire()) {
            try {
                long removed = trimStream();
                if (removed > 0) {
                    log.debug("Trimmed {} settled entries from stream {}", removed, options.stream());
                }
            } catch (JedisDataException e) {
                // Trimming only saves memory; a failure must not fail the read it piggybacks on.
                log.warn("Trimming stream {} failed: {}", options.stream(), e.getMessage());
            }
        }
    }

    void maybeRemoveIdleConsumers(String self) {
        if (consumerCleanup.tryFire()) {
            removeIdleConsumers(self);
        }
    }

    int removeIdleConsumers(String self) {
        long removed = StreamEntries.number(withGroup("remove idle consumers", () -> scripts.removeIdleConsumers.eval(
                redis, List.of(options.stream()),
                List.of(options.group(), Long.toString(options.consumerRetention().toMillis()), self))));
        if (removed > 0) {
            log.info("Removed {} idle consumers owning nothing from group {}", removed, options.group());
        }
        return (int) removed;
    }

    /**
     * Lag and pending count of the group (XINFO GROUPS), retry-set size and dead letters, in one
     * pipelined round trip.
     *
     * @throws RedisUnavailableException if Redis cannot be reached
     */
    @Override
    public Optional<StreamStats> stats() {
        if (options.partitioned()) {
            return Optional.of(call("read stream statistics", this::partitionedStats));
        }
        return Optional.of(sharedStats());
    }

    /** The shared stream's statistics, also for an admin whose options name a count the stream never had. */
    StreamStats sharedStats() {
        return call("read stream statistics", () -> {
            long lag = -1;
            long pending = 0;
            if (redis().exists(options.stream())) {
                Object groups = redis().executeCommand(new CommandArguments(Protocol.Command.XINFO).add("GROUPS")
                        .key(options.stream()));
                for (Object g : (List<?>) groups) {
                    java.util.Map<String, Object> info = StreamEntries.pairs((List<?>) g);
                    if (options.group().equals(StreamEntries.text(info.get("name")))) {
                        pending = StreamEntries.number(info.get("pending"));
                        lag = info.get("lag") == null ? -1 : StreamEntries.number(info.get("lag"));
                    }
                }
            }
            long retries = redis().zcard(options.retryKey());
            long dead = redis().exists(options.deadLetterStream()) ? redis().xlen(options.deadLetterStream()) : 0;
            return new StreamStats(lag, pending, retries, dead);
        });
    }

    /** Sums over the partitions, in two pipelined round trips. */
    private StreamStats partitionedStats() {
        int n = options.partitions();
        List<Response<Long>> held = new ArrayList<>(n);
        List<Response<Object>> dead = new ArrayList<>(n);
        try (AbstractPipeline p = Topology.pipeline(redis)) {
            for (int i = 0; i < n; i++) {
                held.add(p.hlen(options.partitionHeld(i)));
                // XLEN of a missing key is 0.
                dead.add(p.sendCommand(new CommandArguments(Protocol.Command.XLEN).key(options.partitionDeadLetters(i))));
            }
            p.sync();
        }
        long pending = 0;
        for (long u : PartitionKeys.unsettled(redis, options, n)) {
            pending += u;
        }
        long retries = 0;
        long deadLetters = 0;
        for (int i = 0; i < n; i++) {
            retries += held.get(i).get();
            deadLetters += StreamEntries.number(dead.get(i).get());
        }
        return new StreamStats(pending, pending, retries, deadLetters);
    }

    /** The Lua scripts, loaded once per transport. */
    static final class Scripts {
        final LuaScript reschedule = LuaScript.load("reschedule");
        final LuaScript deadLetter = LuaScript.load("dead_letter");
        final LuaScript moveDue = LuaScript.load("move_due");
        final LuaScript keepAlive = LuaScript.load("keep_alive");
        final LuaScript release = LuaScript.load("release");
        final LuaScript removeIdleConsumers = LuaScript.load("remove_idle_consumers");
        final LuaScript trim = LuaScript.load("trim");
        final LuaScript lockAcquire = LuaScript.load("lock_acquire");
        final LuaScript lockRenew = LuaScript.load("lock_renew");
        final LuaScript lockRelease = LuaScript.load("lock_release");
        final LuaScript lockAcquireAll = LuaScript.load("lock_acquire_all");
        final LuaScript lockReleaseAll = LuaScript.load("lock_release_all");
        final LuaScript completeAll = LuaScript.load("complete_all");
        final LuaScript existsAll = LuaScript.load("exists_all");
        final LuaScript completeRelease = LuaScript.load("complete_release");
        final LuaScript partitionRead = LuaScript.load("partition_read");
        final LuaScript partitionCommit = LuaScript.load("partition_commit");
        final LuaScript partitionOpen = LuaScript.load("partition_open");
        final LuaScript partitionInit = LuaScript.load("partition_init");
        final LuaScript partitionTrim = LuaScript.load("partition_trim");
        final LuaScript partitionHold = LuaScript.load("partition_hold");
        final LuaScript partitionDeadLetter = LuaScript.load("partition_dead_letter");
        final LuaScript leaseAcquire = LuaScript.load("lease_acquire");
        final LuaScript leaseRenew = LuaScript.load("lease_renew");
        final LuaScript leaseRelease = LuaScript.load("lease_release");
        final LuaScript route = LuaScript.load("route");
        final LuaScript publishAll = LuaScript.load("publish_all");

        List<LuaScript> all() {
            return List.of(reschedule, deadLetter, moveDue, keepAlive, release, removeIdleConsumers, trim,
                    lockAcquire, lockRenew, lockRelease, lockAcquireAll, lockReleaseAll, completeAll, existsAll, completeRelease,
                    partitionRead, partitionCommit, partitionOpen, partitionInit, partitionTrim, partitionHold, partitionDeadLetter, leaseAcquire, leaseRenew,
                    leaseRelease, route, publishAll);
        }

        void loadAll(UnifiedJedis redis) {
            for (LuaScript s : all()) {
                s.loadInto(redis);
            }
        }
    }
}
