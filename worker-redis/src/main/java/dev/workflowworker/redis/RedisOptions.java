package dev.workflowworker.redis;

import dev.workflowworker.core.Setting;
import dev.workflowworker.redis.internal.client.RedisUri;
import dev.workflowworker.redis.internal.client.StreamKeys;

import javax.net.ssl.SSLSocketFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import static dev.workflowworker.redis.RedisOptionTable.*;

/**
 * Immutable settings of the Redis transport and lock provider: where Redis is, how to reach it,
 * which keys to use and how long things are kept.
 *
 * <p>Build with {@link #builder()}, start from a URI with {@link #fromUri(String)}, or read the
 * environment with {@link #fromEnvironment()}. Each setter validates its argument and names the
 * setting in the {@link IllegalArgumentException}.
 * The password is never part of {@link #toString()} or of any exception message.
 */
public final class RedisOptions {

    /** Default host. */
    public static final String DEFAULT_HOST = "localhost";
    /** Default port. */
    public static final int DEFAULT_PORT = 6379;
    /** Default prefix of the keys this library owns (markers, locks, fencing counters). */
    public static final String DEFAULT_KEY_PREFIX = "workflow:";
    /** Default stream, as in the Alga PSA Workflow Worker Service. */
    public static final String DEFAULT_STREAM = "workflow:events:global";
    /** Default consumer group, as in the Alga PSA Workflow Worker Service. */
    public static final String DEFAULT_GROUP = "workflow-processors";
    /** Group start id that reads the whole stream, so events published before the first worker are not skipped. */
    public static final String START_FROM_BEGINNING = "0";
    /** Group start id that reads only entries added after the group was created. */
    public static final String START_FROM_LATEST = "$";
    /** Default connect timeout. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(2);
    /** Default socket (read) timeout of non-blocking commands. */
    public static final Duration DEFAULT_SOCKET_TIMEOUT = Duration.ofSeconds(2);
    /** Default size of the shared connection pool (blocking reads use their own connections). */
    public static final int DEFAULT_POOL_SIZE = 16;
    /** Default lifetime of a processed marker. */
    public static final Duration DEFAULT_PROCESSED_TTL = Duration.ofHours(24);
    /** Default approximate cap of the dead-letter stream. */
    public static final long DEFAULT_DEAD_LETTER_MAX_LENGTH = 100_000;
    /** Default limit on {@code payload_json}, in UTF-8 bytes. */
    public static final int DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
    /** Default pause between two runs of the retry mover of one transport. */
    public static final Duration DEFAULT_RETRY_POLL_INTERVAL = Duration.ofMillis(100);
    /** Default pause between two trims of the stream by one transport. */
    public static final Duration DEFAULT_TRIM_INTERVAL = Duration.ofMinutes(1);
    /** Default idle time after which a consumer owning nothing is removed from the group. */
    public static final Duration DEFAULT_CONSUMER_RETENTION = Duration.ofMinutes(10);
    /** Default {@link Builder#partitionLeaseTtl(Duration)}: 10 seconds. */
    public static final Duration DEFAULT_PARTITION_LEASE_TTL = Duration.ofSeconds(10);
    /** Default {@link Builder#commitLinger(Duration)}: 1 ms. */
    public static final Duration DEFAULT_COMMIT_LINGER = Duration.ofMillis(1);
    /** The longest {@link Builder#commitLinger(Duration)}: 100 ms. */
    public static final Duration MAX_COMMIT_LINGER = Duration.ofMillis(100);
    /**
     * Default {@link Builder#partitions(int)}: 16 partitions, the ordered mode. 0 selects the shared
     * stream, the unordered mode for independent events.
     */
    public static final int DEFAULT_PARTITIONS = 16;
    /** The most partitions a stream may have. */
    public static final int MAX_PARTITIONS = 1024;

    /** Never changed; the derived keys are filled in. */
    private final Setting.Values values;
    /** The names of the stream's keys, derived from the settings. */
    private final StreamKeys keys;

    private RedisOptions(Setting.Values values) {
        this.values = values;
        keys = StreamKeys.of(this);
    }

    /** {@return a builder with every default: a local Redis and the default stream and group} */
    public static Builder builder() {
        return new Builder(SETTINGS.defaults());
    }

    /**
     * Options with every default except the connection, taken from a URI of the form
     * {@code redis[s]://[[user]:password@]host[:port][/database]}; {@code rediss} enables TLS.
     *
     * @param uri the URI
     * @return the options
     * @throws IllegalArgumentException if the URI is malformed (the message never contains the password)
     */
    public static RedisOptions fromUri(String uri) {
        return builder().uri(uri).build();
    }

    /**
     * Reads the process environment. See {@link #fromEnvironment(Map)}.
     *
     * @return the options
     * @throws IllegalArgumentException if a variable is malformed, naming the variable and value
     *                                  (a password in {@code REDIS_URL} is masked)
     */
    public static RedisOptions fromEnvironment() {
        return fromEnvironment(System.getenv());
    }

    /**
     * Reads the Redis transport's variables: {@code REDIS_URL} (a URI as for {@link #fromUri},
     * default {@code redis://localhost:6379}), {@code WORKER_STREAM} (default
     * {@value #DEFAULT_STREAM}), {@code WORKER_GROUP} (default {@value #DEFAULT_GROUP}) and
     * {@code WORKER_PARTITIONS} (see {@link Builder#partitions(int)}; default {@value #DEFAULT_PARTITIONS},
     * the ordered mode; 0 for the shared stream, the unordered mode),
     * {@code REDIS_WAIT_REPLICAS} and {@code REDIS_WAIT_TIMEOUT_MS} (see
     * {@link Builder#waitForReplicas(int, Duration)}; default 0 replicas, 1000 ms).
     * Unset or blank variables keep their defaults; every other setting keeps its default too.
     * The engine's variables ({@code WORKER_COUNT}, {@code CLAIM_IDLE_MS}, ...) are read by
     * {@code WorkerConfig.fromEnvironment()}.
     *
     * @param env the variables
     * @return the options
     * @throws IllegalArgumentException if a variable is malformed, naming the variable and value
     *                                  (a password in {@code REDIS_URL} is masked)
     */
    public static RedisOptions fromEnvironment(Map<String, String> env) {
        Builder b = builder();
        String url = Objects.requireNonNull(env, "env").get("REDIS_URL");
        if (url != null && !url.isBlank()) {
            try {
                b.uri(url.trim());
            } catch (IllegalArgumentException e) {
                String shown = RedisUri.redact(url);
                throw new IllegalArgumentException("REDIS_URL=" + shown + " is invalid: " + e.getMessage(), e);
            }
        }
        b.values.read(env);
        return b.build();
    }

    /** {@return a builder pre-filled with these options, to derive a variant of them} */
    public Builder toBuilder() {
        return new Builder(withoutDerivedKeys(values));
    }

    /** {@return the host (from {@code REDIS_URL})} */
    public String host() { return values.get(HOST); }
    /** {@return the port (from {@code REDIS_URL})} */
    public int port() { return values.get(PORT); }
    /** {@return the ACL user (from {@code REDIS_URL}), or null for the default user} */
    public String user() { return values.get(USER); }
    /**
     * {@return whether a password is set}; the password itself is only handed to the Redis client,
     * so it cannot leak through logs or messages.
     */
    public boolean hasPassword() { return password() != null; }

    String password() { return values.get(PASSWORD); }
    /** {@return the database index (from {@code REDIS_URL})} */
    public int database() { return values.get(DATABASE); }
    /** {@return whether TLS is used ({@code rediss://} in {@code REDIS_URL})} */
    public boolean ssl() { return values.get(SSL); }
    /** {@return the TLS socket factory, or null for the JDK default} */
    public SSLSocketFactory sslSocketFactory() { return values.get(SSL_SOCKET_FACTORY); }
    /**
     * {@return the prefix of the library's own keys}: {@value #DEFAULT_KEY_PREFIX} on one server;
     * on a cluster {@code "{" + stream + "}:"}, so that locks and markers share the stream's slot
     */
    public String keyPrefix() { return values.get(KEY_PREFIX); }
    /** {@return true when connected to a Redis Cluster ({@code redis-cluster://})} */
    public boolean cluster() { return !clusterNodes().isEmpty(); }
    /** {@return the seed nodes of the cluster as "host:port", empty for one server} */
    public List<String> clusterNodes() { return values.get(CLUSTER_NODES); }
    /**
     * {@return how many replicas must acknowledge a publish or an outcome before it counts as
     * done (Redis {@code WAIT}); 0 waits for none} See {@link Builder#waitForReplicas(int, Duration)}.
     */
    public int waitReplicas() { return values.get(WAIT_REPLICAS); }
    /** {@return how long a write waits for {@link #waitReplicas()} replicas} */
    public Duration waitTimeout() { return values.get(WAIT_TIMEOUT); }
    /** {@return the stream the workers consume ({@code WORKER_STREAM})} */
    public String stream() { return values.get(STREAM); }
    /** {@return the dead-letter stream, {@code <stream>:dlq} unless set} */
    public String deadLetterStream() { return values.get(DEAD_LETTER_STREAM); }
    /** {@return the sorted set of scheduled retries, {@code <stream>:retry} unless set} */
    public String retryKey() { return values.get(RETRY_KEY); }
    /** {@return the consumer group ({@code WORKER_GROUP})} */
    public String group() { return values.get(GROUP); }
    /** {@return the id the group starts from when it is created} */
    public String groupStartId() { return values.get(GROUP_START_ID); }
    /** {@return the connect timeout} */
    public Duration connectTimeout() { return values.get(CONNECT_TIMEOUT); }
    /** {@return the socket timeout of non-blocking commands} */
    public Duration socketTimeout() { return values.get(SOCKET_TIMEOUT); }
    /** {@return the size of the shared connection pool} */
    public int poolSize() { return values.get(POOL_SIZE); }
    /** {@return the lifetime of processed markers} */
    public Duration processedTtl() { return values.get(PROCESSED_TTL); }
    /** {@return the approximate cap of the dead-letter stream} */
    public long deadLetterMaxLength() { return values.get(DEAD_LETTER_MAX_LENGTH); }
    /** {@return the payload limit in UTF-8 bytes} */
    public int maxPayloadBytes() { return values.get(MAX_PAYLOAD_BYTES); }
    /** {@return the pause between two runs of a transport's retry mover} */
    public Duration retryPollInterval() { return values.get(RETRY_POLL_INTERVAL); }
    /** {@return the pause between two trims of the stream} */
    public Duration trimInterval() { return values.get(TRIM_INTERVAL); }
    /** {@return the idle time after which a consumer owning nothing is removed from the group} */
    public Duration consumerRetention() { return values.get(CONSUMER_RETENTION); }
    /**
     * {@return how many partitions the stream has ({@value #DEFAULT_PARTITIONS} unless set); 0 for
     * one shared stream} See {@link Builder#partitions(int)}.
     */
    public int partitions() { return values.get(PARTITIONS); }
    /** {@return true when the stream is partitioned: events of one key in order, one owner per partition} */
    public boolean partitioned() { return partitions() > 0; }
    /** {@return how long a partition's lease lasts without renewal} */
    public Duration partitionLeaseTtl() { return values.get(PARTITION_LEASE_TTL); }
    /** {@return how long a partitioned stream's commit may wait for the handlers still running} */
    public Duration commitLinger() { return values.get(COMMIT_LINGER); }
    // The key names are StreamKeys'; these stay for the tests of this package.
    String partitionStream(int i) { return keys.partitionStream(i); }
    String partitionLease(int i) { return keys.partitionLease(i); }
    String partitionFence(int i) { return keys.partitionFence(i); }
    String partitionHeld(int i) { return keys.partitionHeld(i); }
    String partitionCompleted(int i) { return keys.partitionCompleted(i); }
    String partitionDeadLetters(int i) { return keys.partitionDeadLetters(i); }
    String partitionRouted(int i) { return keys.partitionRouted(i); }
    String routerLease() { return keys.routerLease(); }
    String routerFence() { return keys.routerFence(); }
    String routerGroup() { return keys.routerGroup(); }
    String partitionCountKey() { return keys.partitionCountKey(); }
    String membersKey() { return keys.membersKey(); }
    String processedKey(String eventId) { return keys.processedKey(eventId); }
    String lockKey(String key) { return keys.lockKey(key); }
    String fenceKey() { return keys.fenceKey(); }

    /**
     * {@return where Redis is, for messages: scheme, user, host, port and database, never the
     * password}
     */
    public String endpoint() {
        if (cluster()) {
            return RedisUri.clusterEndpoint(ssl(), user(), hasPassword(), clusterNodes());
        }
        return RedisUri.endpoint(ssl(), user(), hasPassword(), host(), port(), database());
    }

    @Override
    public String toString() {
        String settings = values.render(s -> !IN_ENDPOINT.contains(s), String::valueOf);
        return "RedisOptions{endpoint=" + endpoint() + ", " + settings + '}';
    }

    /** Builds {@link RedisOptions}; not thread-safe. */
    public static final class Builder {
        private final Setting.Values values;

        private Builder(Setting.Values values) {
            this.values = values;
        }

        private <T> Builder set(Setting<T> setting, T value) {
            values.set(setting, value);
            return this;
        }

        /**
         * Chooses the mode. {@code v > 0} (the default, {@value #DEFAULT_PARTITIONS}) is the
         * partitioned, ordered mode: the stream is split into {@code v} partitions, each owned by
         * one instance at a time; events of one lock key ({@code executionId}, else
         * {@code eventId}) are processed one at a time in publish order, a retry holds its key's
         * place, and no per-event lock is taken. Producers that write the seed format to the
         * stream itself keep working: a router moves their entries into the partitions. See
         * docs/ARCHITECTURE.md, "Ordered processing".
         *
         * <p>0 selects the shared stream, the unordered mode for independent events: every
         * instance reads one stream through the consumer group; events of a key never run at once
         * but may run out of order.
         *
         * <p>The mode and count are recorded in Redis when the first instance starts. An instance
         * started with another count, or in the other mode, fails at start naming both, before it
         * reads anything; a stream is moved from the shared to the partitioned mode with
         * {@link WorkflowAdmin#switchToPartitioned(int)} once its shared group is drained (see
         * docs/operations.md, "Switching a stream to the partitioned mode"). An event goes to
         * partition {@code crc32(utf8(lockKey)) mod partitions} ({@link PartitionRouting}).
         *
         * @param v the partition count, 0 (shared stream) to {@value #MAX_PARTITIONS}
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder partitions(int v) { return set(PARTITIONS, v); }

        /**
         * Sets how long a partition's lease lasts without renewal: the longest a killed instance's
         * partitions wait before another instance takes them over. Leases are renewed every
         * fifth of it; an instance that could not renew for nine tenths of it stops processing
         * the partition. A leaving instance hands its partitions over at once.
         *
         * @param v the lease time, at least 100 ms
         * @return this builder
         * @throws IllegalArgumentException if shorter than 100 ms
         */
        public Builder partitionLeaseTtl(Duration v) { return set(PARTITION_LEASE_TTL, v); }

        /**
         * Sets how long, on a partitioned stream, a worker's commit of successes may wait for the
         * handlers of that worker still running, so that they commit together: with few keys only
         * a few events are out at a time (each key's next one waits for this commit), and
         * committing each on its own pays a round trip and a script per event. The wait ends as
         * soon as no handler of the worker runs, and is skipped while more than a quarter of its
         * handler slots are taken (many keys keep a worker busy, and its batches fill by
         * themselves). 0 commits at once. See docs/ARCHITECTURE.md, "Ordered processing".
         *
         * @param v the longest wait, 0 to {@link #MAX_COMMIT_LINGER} (100 ms)
         * @return this builder
         * @throws IllegalArgumentException if negative or longer than 100 ms
         */
        public Builder commitLinger(Duration v) { return set(COMMIT_LINGER, v); }

        /**
         * Sets host, port, user, password, database and TLS from a URI
         * {@code redis[s]://[[user]:password@]host[:port][/database]}.
         *
         * @param uri the URI
         * @return this builder
         * @throws IllegalArgumentException if the URI is malformed; the message never contains the password
         */
        public Builder uri(String uri) {
            RedisUri parsed = RedisUri.parse(uri);
            host(parsed.host());
            port(parsed.port());
            database(parsed.database());
            return set(CLUSTER_NODES, parsed.clusterNodes()).user(parsed.user()).password(parsed.password())
                    .ssl(parsed.ssl());
        }

        /**
         * Connects to a Redis Cluster through these seed nodes instead of one server; usually
         * given as {@code REDIS_URL=redis-cluster://host:port,host:port}. The rest of the cluster
         * is discovered from them. See docs/ARCHITECTURE.md, "Redis Cluster".
         *
         * @param hostPorts "host:port" of one or more nodes; none to go back to one server
         * @return this builder
         */
        public Builder clusterNodes(String... hostPorts) {
            return set(CLUSTER_NODES, Arrays.stream(hostPorts).map(hp -> hp == null ? "" : hp.trim()).toList());
        }

        /**
         * Makes every publish and every outcome wait until {@code replicas} replicas have it
         * (Redis {@code WAIT}), so that a failover that promotes one of them keeps it. Without it a
         * write acknowledged by a primary that dies before replicating it is lost (a published
         * event) or undone (an event completed twice). A write that times out waiting is reported
         * as failed, although the primary has it; see docs/ARCHITECTURE.md, "Redis Cluster".
         *
         * @param replicas replicas that must acknowledge, 0 (the default) for none
         * @param timeout  how long to wait for them, at least 1 ms
         * @return this builder
         */
        public Builder waitForReplicas(int replicas, Duration timeout) {
            return set(WAIT_REPLICAS, replicas).set(WAIT_TIMEOUT, timeout);
        }

        /**
         * Sets the host of the Redis server; usually taken from {@code REDIS_URL} with {@link
         * #uri(String)} instead.
         *
         * @param v the host
         * @return this builder
         * @throws IllegalArgumentException if blank
         */
        public Builder host(String v) { return set(HOST, v); }

        /**
         * Sets the port of the Redis server; usually part of {@code REDIS_URL}.
         *
         * @param v the port, 1–65535
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder port(int v) { return set(PORT, v); }

        /**
         * Sets the ACL user, for servers where the default user lacks the stream and key
         * permissions the transport needs; usually part of {@code REDIS_URL}.
         *
         * @param v the ACL user, or null for the default user
         * @return this builder
         */
        public Builder user(String v) { return set(USER, v == null || v.isEmpty() ? null : v); }

        /**
         * Sets the password; it is only handed to the Redis client and never appears in {@link
         * RedisOptions#endpoint()}, {@code toString()} or error messages. Usually part of {@code
         * REDIS_URL}.
         *
         * @param v the password, or null for none
         * @return this builder
         */
        public Builder password(String v) { return set(PASSWORD, v == null || v.isEmpty() ? null : v); }

        /**
         * Sets the database index, so that several setups can share one server without their keys
         * meeting; usually part of {@code REDIS_URL}.
         *
         * @param v the database index, at least 0
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder database(int v) { return set(DATABASE, v); }

        /**
         * Turns TLS on or off; a {@code rediss://} {@code REDIS_URL} turns it on, and a managed
         * Redis reached over a network usually needs it.
         *
         * @param v whether to use TLS
         * @return this builder
         */
        public Builder ssl(boolean v) { return set(SSL, v); }

        /**
         * Uses a custom TLS socket factory (client certificates, private CAs); implies TLS.
         *
         * @param v the factory
         * @return this builder
         */
        public Builder sslSocketFactory(SSLSocketFactory v) { return set(SSL_SOCKET_FACTORY, v).set(SSL, true); }

        /**
         * Trusts the certificates of a trust store file (for a private CA); implies TLS.
         *
         * @param path     the trust store
         * @param password its password, or null
         * @param type     the store type, e.g. {@code PKCS12} or {@code JKS}
         * @return this builder
         * @throws IllegalArgumentException if the store cannot be read
         */
        public Builder trustStore(Path path, char[] password, String type) {
            return sslSocketFactory(RedisUri.trustStoreSocketFactory(path, password, type));
        }

        /**
         * Sets the prefix of the library's own keys (processed markers, locks, the fencing
         * counter), so that they do not collide with the application's keys or those of another
         * setup on the same database.
         *
         * @param v the prefix
         * @return this builder
         * @throws IllegalArgumentException if blank
         */
        public Builder keyPrefix(String v) { return set(KEY_PREFIX, v); }

        /**
         * Sets the stream the workers consume ({@code WORKER_STREAM}); the dead-letter stream and
         * retry set are named after it unless set.
         *
         * @param v the stream
         * @return this builder
         * @throws IllegalArgumentException if blank
         */
        public Builder stream(String v) { return set(STREAM, v); }

        /**
         * Sets the dead-letter stream, for when it must not be named after the stream; it must
         * differ from the stream and the retry key.
         *
         * @param v the dead-letter stream (default {@code <stream>:dlq})
         * @return this builder
         * @throws IllegalArgumentException if blank
         */
        public Builder deadLetterStream(String v) { return set(DEAD_LETTER_STREAM, v); }

        /**
         * Sets the sorted set that holds scheduled retries, for when it must not be named after the
         * stream; it must differ from the stream and the dead-letter stream.
         *
         * @param v the retry sorted set (default {@code <stream>:retry})
         * @return this builder
         * @throws IllegalArgumentException if blank
         */
        public Builder retryKey(String v) { return set(RETRY_KEY, v); }

        /**
         * Sets the consumer group ({@code WORKER_GROUP}); services in one group share the stream's
         * events, services in different groups each get every event.
         *
         * @param v the consumer group
         * @return this builder
         * @throws IllegalArgumentException if blank
         */
        public Builder group(String v) { return set(GROUP, v); }

        /**
         * Where a newly created group starts: {@link #START_FROM_BEGINNING} (default) or
         * {@link #START_FROM_LATEST}.
         *
         * @param v {@code 0} or {@code $}
         * @return this builder
         * @throws IllegalArgumentException for any other value
         */
        public Builder groupStartId(String v) { return set(GROUP_START_ID, v); }

        /**
         * Sets how long opening a connection may take before Redis counts as unavailable, which
         * bounds how long a start or reconnect hangs on an unreachable server.
         *
         * @param v the connect timeout, positive
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder connectTimeout(Duration v) { return set(CONNECT_TIMEOUT, v); }

        /**
         * Sets how long a command may wait for its reply before Redis counts as unavailable, so a
         * hung server fails calls instead of stalling workers; blocking reads get it on top of
         * their own wait.
         *
         * @param v the socket timeout, positive
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder socketTimeout(Duration v) { return set(SOCKET_TIMEOUT, v); }

        /**
         * Sets the size of the transport's shared connection pool, which its commands and locks
         * borrow from; too small a pool makes workers wait for a connection under load.
         *
         * @param v the pool size, at least 1
         * @return this builder
         * @throws IllegalArgumentException if below 1
         */
        public Builder poolSize(int v) { return set(POOL_SIZE, v); }

        /**
         * Sets how long a processed marker is kept; within it a redelivered event is recognised as
         * done and not processed again, at the cost of one key per event.
         *
         * @param v the marker lifetime, positive
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder processedTtl(Duration v) { return set(PROCESSED_TTL, v); }

        /**
         * Sets the approximate cap of the dead-letter stream, beyond which its oldest entries are
         * trimmed, so a flood of failures cannot fill Redis.
         *
         * @param v the cap, at least 1
         * @return this builder
         * @throws IllegalArgumentException if below 1
         */
        public Builder deadLetterMaxLength(long v) { return set(DEAD_LETTER_MAX_LENGTH, v); }

        /**
         * Sets the largest accepted {@code payload_json} in UTF-8 bytes, so that an oversized event
         * is refused rather than straining Redis and every worker that reads it.
         *
         * @param v the limit, at least 1
         * @return this builder
         * @throws IllegalArgumentException if below 1
         */
        public Builder maxPayloadBytes(int v) { return set(MAX_PAYLOAD_BYTES, v); }

        /**
         * Sets the pause between two runs of the retry mover, which moves due retries back to the
         * stream; it bounds how late a retry runs after its due time.
         *
         * @param v the pause, positive
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder retryPollInterval(Duration v) { return set(RETRY_POLL_INTERVAL, v); }

        /**
         * Sets the pause between two trims of the stream, which remove entries every group has
         * delivered and acknowledged; it trades the cost of trimming against the memory the settled
         * entries hold meanwhile.
         *
         * @param v the pause, positive
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder trimInterval(Duration v) { return set(TRIM_INTERVAL, v); }

        /**
         * Sets the idle time after which a consumer owning nothing is removed from the group, so
         * that consumers of stopped or replaced workers do not pile up.
         *
         * @param v the idle time, positive
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder consumerRetention(Duration v) { return set(CONSUMER_RETENTION, v); }

        /**
         * Builds the options, checking only now the settings that constrain each other, so that
         * setters can be called in any order.
         *
         * @return the options
         * @throws IllegalStateException naming the settings if they contradict each other: the
         *     stream, the dead-letter stream and the retry key must be three different keys (one
         *     key cannot be a stream and a sorted set, and dead letters written to the stream would
         *     be read again as events); a TLS socket factory or trust store needs TLS, which a
         *     {@code redis://} URI or {@code ssl(false)} given after it turned off
         */
        public RedisOptions build() {
            Setting.Values v = withDerivedKeys(values);
            checkTogether(v);
            return new RedisOptions(v);
        }
    }
}
