package dev.workflowworker.redis.internal.shared;

import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.api.PartitionOwnership;
import dev.workflowworker.api.RetryHolds;
import dev.workflowworker.api.StreamStats;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.LockProvider;
import dev.workflowworker.core.Cadence;
import dev.workflowworker.core.schedule.Schedules;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.internal.StreamMode;
import dev.workflowworker.redis.internal.client.ModeCheck;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.client.StreamEntries;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.exceptions.JedisDataException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * One stream shared by every consumer through a consumer group: retries wait in a sorted set
 * keyed by due time and a mover returns them to the stream, idle consumers are removed and the
 * stream is trimmed of what every group acked, each on a cadence piggybacked on the reads.
 */
public final class SharedStream implements StreamMode {

    private static final Logger log = LoggerFactory.getLogger(SharedStream.class);
    /** Most retries one mover run returns to the stream; bounds the script's run time. */
    static final int MOVER_BATCH = 100;

    private final StreamClient client;
    private final RedisOptions options;
    private final Supplier<? extends LockProvider> provider;
    private final Supplier<KeyLocks> locks;
    private final AtomicBoolean groupReady = new AtomicBoolean();
    private final Set<RedisConsumer> consumers = ConcurrentHashMap.newKeySet();
    private final Cadence mover;
    private final Cadence trim;
    private final Cadence consumerCleanup;
    /** Earliest known due time in the retry set, in clock millis; Long.MAX_VALUE when none is known. */
    private volatile long nextRetryDueMillis = Long.MAX_VALUE;
    /** Delayed events and schedules; empty when the stream's name leaves no key in its cluster slot. */
    private final Optional<SharedTime> time;

    /**
     * @param provider the transport's own lock provider, made on first use
     * @param locks    its locks: consumers take and release them in the scripts that settle entries
     */
    public SharedStream(StreamClient client, Supplier<? extends LockProvider> provider, Supplier<KeyLocks> locks) {
        this.client = client;
        this.options = client.options();
        this.provider = provider;
        this.locks = locks;
        this.mover = new Cadence(client.clock(), options.retryPollInterval(), Duration.ZERO);
        this.trim = new Cadence(client.clock(), options.trimInterval(), options.trimInterval());
        this.consumerCleanup = new Cadence(client.clock(), options.consumerRetention().dividedBy(2),
                options.consumerRetention().dividedBy(2));
        this.time = SharedTime.of(client, () -> !consumers.isEmpty());
    }

    StreamClient client() {
        return client;
    }

    KeyLocks locks() {
        return locks.get();
    }

    /** A stream in the partitioned mode must not be read as one shared stream beside it (ModeCheck). */
    @Override
    public void start() {
        ensureGroup();
    }

    @Override
    public String streamOf(WorkflowEvent event) {
        return options.stream();
    }

    @Override
    public List<String> publishAll(List<WorkflowEvent> events, List<Map<String, String>> encoded) {
        return client.xaddAll(encoded, i -> options.stream());
    }

    @Override
    public EventTransport.Consumer openConsumer(String consumerName) {
        RedisConsumer consumer = new RedisConsumer(this, consumerName);
        consumers.add(consumer);
        time.ifPresent(SharedTime::consuming);
        return consumer;
    }

    void forget(RedisConsumer consumer) {
        consumers.remove(consumer);
    }

    /** The transport's lock provider, whose locks the consumers' scripts release with the ack. */
    @Override
    public Optional<LockProvider> lockProvider() {
        return Optional.of(provider.get());
    }

    @Override
    public boolean locksKeysItself() {
        return false;
    }

    @Override
    public Optional<PartitionOwnership> ownership() {
        return Optional.empty();
    }

    @Override
    public Optional<RetryHolds> retryHolds() {
        return Optional.empty();
    }

    @Override
    public List<Integer> ownedPartitions() {
        return List.of();
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
        ModeCheck.createSharedGroup(client, startId);
        groupReady.set(true);
    }

    /**
     * Runs an operation that needs the group; if Redis lost it (restart without persistence,
     * stream deleted), re-creates it and runs the operation once more.
     */
    <T> T withGroup(String what, Supplier<T> op) {
        ensureGroup();
        try {
            return client.call(what, op);
        } catch (JedisDataException e) {
            if (!StreamClient.isNoGroup(e)) {
                throw e;
            }
            log.warn("Consumer group {} on stream {} is gone (Redis restarted empty or the stream was deleted); "
                    + "re-creating it", options.group(), options.stream());
            groupReady.set(false);
            // From the start, whatever the configured start id (that is for the first creation):
            // entries written since the group was lost were never delivered, and '$' would skip them.
            ensureGroup("0");
            return client.call(what, op);
        }
    }

    @Override
    public int moveDueRetries() {
        return client.call("move due retries", this::runMover);
    }

    /**
     * Runs the mover when it is due: every {@link RedisOptions#retryPollInterval()} at most, and
     * at once when the earliest known retry falls due. At most one caller per transport runs it
     * at a time; the script itself is safe against movers of other transports.
     *
     * @return milliseconds until the next known retry is due, or Long.MAX_VALUE
     */
    long maybeMoveRetries() {
        if (client.clock().wallMillis() >= nextRetryDueMillis) {
            mover.fireNext();
        }
        if (mover.tryFire()) {
            runMover();
        }
        long due = nextRetryDueMillis;
        return due == Long.MAX_VALUE ? Long.MAX_VALUE : Math.max(0, due - client.clock().wallMillis());
    }

    private int runMover() {
        Object reply = client.scripts().moveDue.eval(client.redis(), List.of(options.retryKey(), options.stream()),
                List.of(Long.toString(client.clock().wallMillis()), Integer.toString(MOVER_BATCH)));
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

    @Override
    public long trim() {
        return client.trim(options.stream());
    }

    void maybeTrim() {
        if (trim.tryFire()) {
            try {
                long removed = trim();
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

    public int removeIdleConsumers(String self) {
        long removed = StreamEntries.number(withGroup("remove idle consumers", () -> client.scripts().removeIdleConsumers.eval(
                client.redis(), List.of(options.stream()),
                List.of(options.group(), Long.toString(options.consumerRetention().toMillis()), self))));
        if (removed > 0) {
            log.info("Removed {} idle consumers owning nothing from group {}", removed, options.group());
        }
        return (int) removed;
    }

    /**
     * Lag and pending count of the group (XINFO GROUPS), retry-set size and dead letters, in one
     * pipelined round trip.
     */
    @Override
    public StreamStats stats() {
        return statsOf(client);
    }

    /**
     * {@return the shared stream's statistics} Also for an admin whose options name a partition
     * count the stream never had (the partitioned default, on a stream in the shared mode).
     *
     * @param client the client of the stream
     */
    public static StreamStats statsOf(StreamClient client) {
        RedisOptions options = client.options();
        return client.call("read stream statistics", () -> {
            long lag = -1;
            long pending = 0;
            if (client.redis().exists(options.stream())) {
                Object groups = client.redis().executeCommand(new CommandArguments(Protocol.Command.XINFO).add("GROUPS")
                        .key(options.stream()));
                for (Object g : (List<?>) groups) {
                    Map<String, Object> info = StreamEntries.pairs((List<?>) g);
                    if (options.group().equals(StreamEntries.text(info.get("name")))) {
                        pending = StreamEntries.number(info.get("pending"));
                        lag = info.get("lag") == null ? -1 : StreamEntries.number(info.get("lag"));
                    }
                }
            }
            long retries = client.redis().zcard(options.retryKey());
            long dead = client.redis().exists(options.deadLetterStream())
                    ? client.redis().xlen(options.deadLetterStream()) : 0;
            return new StreamStats(lag, pending, retries, dead, client.publishedAgain());
        });
    }

    @Override
    public Optional<DelayedEvents> delayed() {
        return time.map(SharedTime::delayed);
    }

    @Override
    public Optional<Schedules> schedules() {
        return time.map(SharedTime::schedules);
    }

    @Override
    public void close() {
        // Time first: a closing service moves and fires nothing more.
        time.ifPresent(SharedTime::close);
        for (RedisConsumer c : new ArrayList<>(consumers)) {
            c.close();
        }
    }
}
