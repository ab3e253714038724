package dev.workflowworker.redis;

import dev.workflowworker.api.ErrorClassifier;
import dev.workflowworker.api.DelayedEvents;
import dev.workflowworker.core.schedule.Schedules;
import dev.workflowworker.core.schedule.Scheduling;
import dev.workflowworker.api.PartitionOwnership;
import dev.workflowworker.api.RetryHolds;
import dev.workflowworker.api.StreamStats;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.LockProvider;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.TimeSource;
import dev.workflowworker.redis.internal.StreamMode;
import dev.workflowworker.redis.internal.client.RedisConnector;
import dev.workflowworker.redis.internal.client.StreamClient;
import dev.workflowworker.redis.internal.partitioned.PartitionProbe;
import dev.workflowworker.redis.internal.partitioned.PartitionedStream;
import dev.workflowworker.redis.internal.shared.KeyLocks;
import dev.workflowworker.redis.internal.shared.SharedStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ThreadFactory;

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
public final class RedisEventTransport implements EventTransport, Scheduling {

    private static final Logger log = LoggerFactory.getLogger(RedisEventTransport.class);

    private final RedisOptions options;
    private final StreamClient client;
    /** One shared stream or P partition streams: chosen here, once. */
    private final StreamMode mode;
    private volatile RedisLockProvider lockProvider;

    private RedisEventTransport(RedisOptions options, TimeSource clock, ThreadFactory threadFactory,
                                PartitionProbe probe) {
        this.options = options;
        this.client = new StreamClient(options, new RedisConnector(options, options.password(),
                "workflow-worker-" + ManagementFactory.getRuntimeMXBean().getPid()), clock, threadFactory);
        this.mode = options.partitioned() ? new PartitionedStream(client, probe)
                : new SharedStream(client, this::locks, () -> locks().keyLocks());
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
     * cadence of its chores (moving due retries, trimming, removing idle consumers). Fencing
     * counters lost with Redis's data restart from Redis's clock, never this one.
     *
     * @param options the options
     * @param clock   the time source
     * @return the transport
     * @throws IllegalStateException if Redis answers but refuses the transport (see {@link #create(RedisOptions)})
     */
    public static RedisEventTransport create(RedisOptions options, TimeSource clock) {
        return create(options, clock, null, PartitionProbe.NONE);
    }

    /**
     * Like {@link #create(RedisOptions, TimeSource)}, with every thread the transport starts (its
     * partition rounds, waits, timers, probes and chores) taken from the host's factory, as a
     * {@code WorkerService} takes its own from {@code threadFactory}; the transport names them
     * {@code workflow-worker-<role>-<stream>} and makes them daemons.
     *
     * <p>A factory of virtual threads is not advised. These threads live as long as the transport
     * and spend it blocked in Redis reads and in waits, some of them (the router's wait for its
     * lease, for one) in {@code Object.wait} under a monitor, which on Java 21 to 23 pins a virtual
     * thread to its carrier for the whole wait: the JDK makes up for it with extra carriers, up to a
     * limit, so nothing is gained over platform threads. There are few of them, so platform threads
     * cost little.
     *
     * @param options       the options
     * @param clock         the time source
     * @param threadFactory the host's thread factory
     * @return the transport
     * @throws IllegalStateException if Redis answers but refuses the transport (see {@link #create(RedisOptions)})
     */
    public static RedisEventTransport create(RedisOptions options, TimeSource clock, ThreadFactory threadFactory) {
        return create(options, clock, Objects.requireNonNull(threadFactory, "threadFactory"), PartitionProbe.NONE);
    }

    /** Like {@link #create(RedisOptions, TimeSource, ThreadFactory)}, with a probe that tests make races with. */
    static RedisEventTransport create(RedisOptions options, TimeSource clock, PartitionProbe probe) {
        return create(options, clock, null, probe);
    }

    private static RedisEventTransport create(RedisOptions options, TimeSource clock, ThreadFactory threadFactory,
                                              PartitionProbe probe) {
        RedisEventTransport t = new RedisEventTransport(Objects.requireNonNull(options, "options"),
                Objects.requireNonNull(clock, "clock"), threadFactory, probe);
        try {
            t.mode.start();
            t.client.call("load Lua scripts", () -> {
                t.client.scripts().loadAll(t.client.redis());
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
        return mode.ownership();
    }

    @Override
    public Optional<RetryHolds> retryHolds() {
        return mode.retryHolds();
    }

    /**
     * {@return the delayed events of the stream}: on a partitioned stream each waits in its
     * partition until the partition's owner moves it into the stream at its due time, by Redis
     * TIME; on the shared stream any consuming process moves it, unordered. Empty only for a shared
     * stream on a Redis Cluster whose name has a '}' and no hash tag (no key shares its slot).
     */
    @Override
    public Optional<DelayedEvents> delayed() {
        return mode.delayed();
    }

    /**
     * {@return the recurring schedules of the stream}: on a partitioned stream each lives in the
     * partition its occurrences go to and is fired by that partition's owner; on the shared stream
     * by whichever consuming process looks first. Empty when {@link #delayed()} is.
     */
    @Override
    public Optional<Schedules> schedules() {
        return mode.schedules();
    }

    /**
     * {@return the partitions this process owns now, empty for one shared stream}; ownership
     * moves as instances join and leave.
     */
    public List<Integer> ownedPartitions() {
        return mode.ownedPartitions();
    }

    /**
     * A transport that writes nothing to Redis when it opens: unlike {@link #create}, it neither
     * creates the consumer group (nor, through {@code MKSTREAM}, the stream) nor loads the scripts.
     * For tools that inspect a stream that may not exist, so that a mistyped name is reported as
     * empty instead of being created. Opening a consumer on it would create the group on first
     * use, as on any transport.
     */
    static RedisEventTransport createWithoutSetup(RedisOptions options) {
        return new RedisEventTransport(Objects.requireNonNull(options, "options"), TimeSource.system(), null,
                PartitionProbe.NONE);
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
     * On one shared stream, the lock provider on this transport's connection pool, which a
     * {@code WorkerService} given this transport and no lock provider of its own uses. Empty on a
     * partitioned stream: its partition leases order and fence each key's events themselves (see
     * {@link #locksKeysItself()}), and a service there refuses a lock provider of its own.
     *
     * @return the lock provider, closed with the transport; empty on a partitioned stream
     */
    @Override
    public Optional<LockProvider> lockProvider() {
        return mode.lockProvider();
    }

    /** True on a partitioned stream: its partition leases order and fence each key's events. */
    @Override
    public boolean locksKeysItself() {
        return mode.locksKeysItself();
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
                    lockProvider = new RedisLockProvider(new KeyLocks(options, client.redis(), client.scripts(), false));
                }
                p = lockProvider;
            }
        }
        return p;
    }

    @Override
    public String publish(WorkflowEvent event) {
        Objects.requireNonNull(event, "event");
        client.checkOpen();
        Map<String, String> fields = client.codec().encode(event, 1);
        if (options.waitReplicas() > 0 || options.cluster()) {
            // Through the pipeline path: WAIT must follow the XADD on its connection, and a
            // cluster's redirects are answered there without repeating a write that happened.
            return publishAll(List.of(event)).get(0);
        }
        return client.callPublish("publish event " + event.eventId(), 1,
                () -> client.xadd(mode.streamOf(event), mode.entry(fields)));
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
        client.checkOpen();
        List<Map<String, String>> encoded = new ArrayList<>(events.size());
        for (WorkflowEvent event : events) {
            encoded.add(client.codec().encode(Objects.requireNonNull(event, "event"), 1));
        }
        if (encoded.isEmpty()) {
            return List.of();
        }
        return mode.publishAll(events, encoded);
    }

    @Override
    public Consumer openConsumer(String consumerName) {
        if (consumerName == null || consumerName.isBlank()) {
            throw new IllegalArgumentException("consumerName must not be blank");
        }
        client.checkOpen();
        return mode.openConsumer(consumerName);
    }

    /**
     * {@return administration of this transport's dead-letter stream}, to list, inspect and replay
     * what failed for good.
     */
    public RedisDeadLetters deadLetters() {
        client.checkOpen();
        return new RedisDeadLetters(this);
    }

    /**
     * Returns due retries to the stream now. Consumers do this by themselves while polling;
     * this is for tools and tests. On a partitioned stream there is nothing to move: a retry waits
     * as a hold in place in its partition, read again by the partition's owner when it is due, so
     * this answers 0 there (see {@link #retryHolds()} and {@link #stats()} for what holds wait).
     *
     * @return how many retries were moved; always 0 on a partitioned stream
     */
    public int moveDueRetries() {
        client.checkOpen();
        return mode.moveDueRetries();
    }

    /**
     * Trims the stream now, removing only entries that every group has delivered and acked.
     * Consumers do this by themselves every {@link RedisOptions#trimInterval()}.
     *
     * @return how many entries were removed
     */
    public long trimStream() {
        client.checkOpen();
        return mode.trim();
    }

    @Override
    public void close() {
        if (!client.markClosed()) {
            return;
        }
        mode.close();
        client.close();
        log.debug("Redis transport for {} closed", options.endpoint());
    }

    /**
     * Lag and pending count of the group (XINFO GROUPS), retry-set size and dead letters. On a
     * partitioned stream, summed over the partitions: pending counts the entries not yet settled,
     * read or not, retries the entries a retry holds, and the lag is unknown (-1), as a partition
     * read as a log keeps its read position in its owner's memory only.
     *
     * @throws RedisUnavailableException if Redis cannot be reached
     */
    @Override
    public Optional<StreamStats> stats() {
        return Optional.of(mode.stats());
    }

    /** The shared stream's statistics, also for an admin whose options name a count the stream never had. */
    StreamStats sharedStats() {
        return SharedStream.statsOf(client);
    }

    /** The client the transport's parts talk to Redis through. */
    StreamClient client() {
        return client;
    }
}
