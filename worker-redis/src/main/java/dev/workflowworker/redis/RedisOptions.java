package dev.workflowworker.redis;

import dev.workflowworker.core.Setting;
import dev.workflowworker.redis.internal.client.RedisUri;
import dev.workflowworker.redis.internal.client.StreamKeys;

import javax.net.ssl.SSLSocketFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static dev.workflowworker.redis.RedisOptionTable.*;

/**
 * Immutable settings of the Redis transport and lock provider: where Redis is, how to reach it, which keys to use and
 * how long things are kept.
 *
 * <p>Build with {@link #builder()}, start from a URI with {@link #fromUri(String)}, or read the environment with
 * {@link #fromEnvironment()}. Each setting is documented once, on its {@link Builder} setter: what it does, its
 * default, its range and, where it has one, its environment variable; each getter links there. A setter given a value
 * outside the range its parameter states throws an {@link IllegalArgumentException} naming the setting. The password is
 * never part of {@link #toString()} or of any exception message.
 */
public final class RedisOptions {

    /** Default {@link Builder#host(String)}. */
    public static final String DEFAULT_HOST = "localhost";
    /** Default {@link Builder#port(int)}. */
    public static final int DEFAULT_PORT = 6379;
    /** Default {@link Builder#keyPrefix(String)} on one server. */
    public static final String DEFAULT_KEY_PREFIX = "workflow:";
    /** Default {@link Builder#stream(String)}, as in the Alga PSA Workflow Worker Service. */
    public static final String DEFAULT_STREAM = "workflow:events:global";
    /** Default {@link Builder#group(String)}, as in the Alga PSA Workflow Worker Service. */
    public static final String DEFAULT_GROUP = "workflow-processors";
    /** Group start id that reads the whole stream, so events published before the first worker are not skipped. */
    public static final String START_FROM_BEGINNING = "0";
    /** Group start id that reads only entries added after the group was created. */
    public static final String START_FROM_LATEST = "$";
    /** Default {@link Builder#connectTimeout(Duration)}: 2 s. */
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(2);
    /** Default {@link Builder#socketTimeout(Duration)}: 2 s. */
    public static final Duration DEFAULT_SOCKET_TIMEOUT = Duration.ofSeconds(2);
    /** Default {@link Builder#poolSize(int)}. */
    public static final int DEFAULT_POOL_SIZE = 16;
    /** Default {@link Builder#processedTtl(Duration)}: 24 hours. */
    public static final Duration DEFAULT_PROCESSED_TTL = Duration.ofHours(24);
    /** Default {@link Builder#deadLetterMaxLength(long)}. */
    public static final long DEFAULT_DEAD_LETTER_MAX_LENGTH = 100_000;
    /** Default {@link Builder#maxPayloadBytes(int)}: 1 MiB. */
    public static final int DEFAULT_MAX_PAYLOAD_BYTES = 1024 * 1024;
    /** Default {@link Builder#retryPollInterval(Duration)}: 100 ms. */
    public static final Duration DEFAULT_RETRY_POLL_INTERVAL = Duration.ofMillis(100);
    /** Default {@link Builder#trimInterval(Duration)}: 1 minute. */
    public static final Duration DEFAULT_TRIM_INTERVAL = Duration.ofMinutes(1);
    /** Default {@link Builder#consumerRetention(Duration)}: 10 minutes. */
    public static final Duration DEFAULT_CONSUMER_RETENTION = Duration.ofMinutes(10);
    /** Default {@link Builder#partitionLeaseTtl(Duration)}: 10 seconds. */
    public static final Duration DEFAULT_PARTITION_LEASE_TTL = Duration.ofSeconds(10);
    /** Default {@link Builder#commitLinger(Duration)}: 1 ms. */
    public static final Duration DEFAULT_COMMIT_LINGER = Duration.ofMillis(1);
    /** The longest {@link Builder#commitLinger(Duration)}: 100 ms. */
    public static final Duration MAX_COMMIT_LINGER = Duration.ofMillis(100);
    /** Default {@link Builder#partitions(int)}: the ordered mode (0 selects the shared stream). */
    public static final int DEFAULT_PARTITIONS = 16;
    /** The most partitions a stream may have ({@link Builder#partitions(int)}). */
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
    public static Builder builder() { return new Builder(SETTINGS.defaults()); }

    /**
     * Options with every default except the connection, taken from a URI as for {@link Builder#uri(String)}.
     * @param uri the URI
     * @return the options
     * @throws IllegalArgumentException if the URI is malformed (the message never contains the password)
     */
    public static RedisOptions fromUri(String uri) { return builder().uri(uri).build(); }

    /** {@return {@link #fromEnvironment(Map)} of the process environment, which throws as that does} */
    public static RedisOptions fromEnvironment() { return fromEnvironment(System.getenv()); }

    /**
     * Reads the Redis transport's variables: {@code REDIS_URL} (a URI as for {@link #fromUri}, default
     * {@code redis://localhost:6379}), {@code WORKER_STREAM}, {@code WORKER_GROUP}, {@code WORKER_PARTITIONS},
     * {@code REDIS_WAIT_REPLICAS} and {@code REDIS_WAIT_TIMEOUT_MS} (each described, with its default, on the
     * {@link Builder} setter that names it). Unset or blank variables keep their defaults; every other setting keeps
     * its default too. The engine's variables ({@code WORKER_COUNT}, {@code CLAIM_IDLE_MS}, ...) are read by
     * {@code WorkerConfig.fromEnvironment()}.
     * @param env the variables
     * @return the options
     * @throws IllegalArgumentException if a variable is malformed, naming the variable and value (a password in
     *     {@code REDIS_URL} is masked)
     */
    public static RedisOptions fromEnvironment(Map<String, String> env) {
        Builder b = builder();
        readEnvironment(env, b.values);
        return b.build();
    }

    /** {@return a builder pre-filled with these options, to derive a variant of them} */
    public Builder toBuilder() { return new Builder(withoutDerivedKeys(values)); }

    /** {@return the host} See {@link Builder#host(String)}. */
    public String host() { return values.get(HOST); }
    /** {@return the port} See {@link Builder#port(int)}. */
    public int port() { return values.get(PORT); }
    /** {@return the ACL user, or null for the default user} See {@link Builder#user(String)}. */
    public String user() { return values.get(USER); }
    /** {@return whether a password is set} See {@link Builder#password(String)}. */
    public boolean hasPassword() { return password() != null; }
    String password() { return values.get(PASSWORD); }
    /** {@return the database index} See {@link Builder#database(int)}. */
    public int database() { return values.get(DATABASE); }
    /** {@return whether TLS is used} See {@link Builder#ssl(boolean)}. */
    public boolean ssl() { return values.get(SSL); }
    /** {@return the TLS socket factory, or null for the JDK default} See {@link Builder#sslSocketFactory}. */
    public SSLSocketFactory sslSocketFactory() { return values.get(SSL_SOCKET_FACTORY); }
    /** {@return the prefix of the library's own keys} See {@link Builder#keyPrefix(String)}. */
    public String keyPrefix() { return values.get(KEY_PREFIX); }
    /** {@return true when connected to a Redis Cluster} See {@link Builder#clusterNodes(String...)}. */
    public boolean cluster() { return !clusterNodes().isEmpty(); }
    /** {@return the seed nodes of the cluster as "host:port", empty for one server} */
    public List<String> clusterNodes() { return values.get(CLUSTER_NODES); }
    /** {@return how many replicas must acknowledge a write} See {@link Builder#waitForReplicas}. */
    public int waitReplicas() { return values.get(WAIT_REPLICAS); }
    /** {@return how long a write waits for its replicas} See {@link Builder#waitForReplicas}. */
    public Duration waitTimeout() { return values.get(WAIT_TIMEOUT); }
    /** {@return the stream the workers consume} See {@link Builder#stream(String)}. */
    public String stream() { return values.get(STREAM); }
    /** {@return the dead-letter stream} See {@link Builder#deadLetterStream(String)}. */
    public String deadLetterStream() { return values.get(DEAD_LETTER_STREAM); }
    /** {@return the sorted set of scheduled retries} See {@link Builder#retryKey(String)}. */
    public String retryKey() { return values.get(RETRY_KEY); }
    /** {@return the consumer group} See {@link Builder#group(String)}. */
    public String group() { return values.get(GROUP); }
    /** {@return the id the group starts from when it is created} See {@link Builder#groupStartId}. */
    public String groupStartId() { return values.get(GROUP_START_ID); }
    /** {@return the connect timeout} See {@link Builder#connectTimeout(Duration)}. */
    public Duration connectTimeout() { return values.get(CONNECT_TIMEOUT); }
    /** {@return the socket timeout of non-blocking commands} See {@link Builder#socketTimeout}. */
    public Duration socketTimeout() { return values.get(SOCKET_TIMEOUT); }
    /** {@return the size of the shared connection pool} See {@link Builder#poolSize(int)}. */
    public int poolSize() { return values.get(POOL_SIZE); }
    /** {@return the lifetime of processed markers} See {@link Builder#processedTtl(Duration)}. */
    public Duration processedTtl() { return values.get(PROCESSED_TTL); }
    /** {@return the approximate cap of the dead-letter stream} See {@link Builder#deadLetterMaxLength}. */
    public long deadLetterMaxLength() { return values.get(DEAD_LETTER_MAX_LENGTH); }
    /** {@return the payload limit in UTF-8 bytes} See {@link Builder#maxPayloadBytes(int)}. */
    public int maxPayloadBytes() { return values.get(MAX_PAYLOAD_BYTES); }
    /** {@return the pause between two runs of the retry mover} See {@link Builder#retryPollInterval}. */
    public Duration retryPollInterval() { return values.get(RETRY_POLL_INTERVAL); }
    /** {@return the pause between two trims of the stream} See {@link Builder#trimInterval(Duration)}. */
    public Duration trimInterval() { return values.get(TRIM_INTERVAL); }
    /** {@return the idle time before an idle consumer is removed} See {@link Builder#consumerRetention}. */
    public Duration consumerRetention() { return values.get(CONSUMER_RETENTION); }
    /** {@return how many partitions the stream has, 0 for one shared stream} See {@link Builder#partitions}. */
    public int partitions() { return values.get(PARTITIONS); }
    /** {@return true when the stream is partitioned: events of one key in order, one owner per partition} */
    public boolean partitioned() { return partitions() > 0; }
    /** {@return how long a partition's lease lasts without renewal} See {@link Builder#partitionLeaseTtl}. */
    public Duration partitionLeaseTtl() { return values.get(PARTITION_LEASE_TTL); }
    /** {@return how long a commit may wait for the handlers still running} See {@link Builder#commitLinger}. */
    public Duration commitLinger() { return values.get(COMMIT_LINGER); }
    // The key names are StreamKeys'; these stay for this package's layouts, admin and tests.
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

    /** {@return where Redis is, for messages: scheme, user, host, port and database, never the password} */
    public String endpoint() {
        return cluster() ? RedisUri.clusterEndpoint(ssl(), user(), hasPassword(), clusterNodes())
                : RedisUri.endpoint(ssl(), user(), hasPassword(), host(), port(), database());
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
         * Chooses the mode ({@code WORKER_PARTITIONS}). {@code v > 0} (the default, {@value #DEFAULT_PARTITIONS}) is
         * the partitioned, ordered mode: the stream is split into {@code v} partitions, each owned by one instance at a
         * time; events of one lock key ({@code executionId}, else {@code eventId}) are processed one at a time in
         * publish order, a retry holds its key's place, and no per-event lock is taken. Producers that write the seed
         * format to the stream itself keep working: a router moves their entries into the partitions. See
         * docs/ARCHITECTURE.md, "Ordered processing".
         *
         * <p>0 selects the shared stream, the unordered mode for independent events: every instance reads one stream
         * through the consumer group; events of a key never run at once but may run out of order.
         *
         * <p>The first instance to start records the mode and count in Redis; one started with another count or in the
         * other mode fails at start naming both, before it reads anything. A drained shared stream moves to the
         * partitioned mode with {@link WorkflowAdmin#switchToPartitioned(int)} (docs/operations.md, "Switching a stream
         * to the partitioned mode"). An event goes to partition {@code crc32(utf8(lockKey)) mod partitions}
         * ({@link PartitionRouting}).
         * @param v the partition count, 0 (shared stream) to {@value #MAX_PARTITIONS}
         * @return this builder
         */
        public Builder partitions(int v) { return set(PARTITIONS, v); }

        /**
         * Sets how long a partition's lease lasts without renewal: the longest a killed instance's partitions wait
         * before another instance takes them over. Leases are renewed every fifth of it; an instance that could not
         * renew for nine tenths of it stops processing the partition. A leaving instance hands its partitions over at
         * once.
         * @param v the lease time, at least 100 ms (default 10 s)
         * @return this builder
         */
        public Builder partitionLeaseTtl(Duration v) { return set(PARTITION_LEASE_TTL, v); }

        /**
         * Sets how long, on a partitioned stream, a worker's commit of successes may wait for the handlers of that
         * worker still running, so that they commit together: with few keys only a few events are out at a time (each
         * key's next one waits for this commit), and committing each on its own pays a round trip and a script per
         * event. The wait ends as soon as no handler of the worker runs, and is skipped while more than a quarter of
         * its handler slots are taken (many keys keep a worker busy, and its batches fill by themselves). 0 commits at
         * once. See docs/ARCHITECTURE.md, "Ordered processing".
         * @param v the longest wait, 0 to {@link #MAX_COMMIT_LINGER} (100 ms; default 1 ms)
         * @return this builder
         */
        public Builder commitLinger(Duration v) { return set(COMMIT_LINGER, v); }

        /**
         * Sets host, port, user, password, database and TLS from a URI
         * {@code redis[s]://[[user]:password@]host[:port][/database]} ({@code REDIS_URL}, default
         * {@code redis://localhost:6379}); {@code rediss} enables TLS, and {@code redis-cluster://host:port,host:port}
         * sets {@link #clusterNodes(String...)}.
         * @param uri the URI
         * @return this builder
         * @throws IllegalArgumentException if the URI is malformed; the message never contains the password
         */
        public Builder uri(String uri) { setUri(values, uri); return this; }

        /**
         * Connects to a Redis Cluster through these seed nodes instead of one server; usually given as
         * {@code REDIS_URL=redis-cluster://host:port,host:port}. The rest of the cluster is discovered from them. See
         * docs/ARCHITECTURE.md, "Redis Cluster".
         * @param hostPorts "host:port" of one or more nodes; none (the default) to go back to one server
         * @return this builder
         */
        public Builder clusterNodes(String... hostPorts) { return set(CLUSTER_NODES, trimmed(hostPorts)); }

        /**
         * Makes every publish and every outcome wait until {@code replicas} replicas have it (Redis {@code WAIT}), so
         * that a failover that promotes one of them keeps it. Without it a write acknowledged by a primary that dies
         * before replicating it is lost (a published event) or undone (an event completed twice). A write that times
         * out waiting is reported as failed, although the primary has it; see docs/ARCHITECTURE.md, "Redis Cluster".
         * @param replicas replicas that must acknowledge, 0 to 16; 0 (the default) waits for none
         *     ({@code REDIS_WAIT_REPLICAS})
         * @param timeout how long to wait for them, at least 1 ms (default 1000 ms; {@code REDIS_WAIT_TIMEOUT_MS})
         * @return this builder
         */
        public Builder waitForReplicas(int replicas, Duration timeout) {
            return set(WAIT_REPLICAS, replicas).set(WAIT_TIMEOUT, timeout);
        }

        /**
         * Sets the host of the Redis server; usually taken from {@code REDIS_URL} with {@link #uri(String)} instead.
         * @param v the host, not blank (default {@value #DEFAULT_HOST})
         * @return this builder
         */
        public Builder host(String v) { return set(HOST, v); }

        /**
         * Sets the port of the Redis server; usually part of {@code REDIS_URL}.
         * @param v the port, 1–65535 (default {@value #DEFAULT_PORT})
         * @return this builder
         */
        public Builder port(int v) { return set(PORT, v); }

        /**
         * Sets the ACL user, for servers where the default user lacks the stream and key permissions the transport
         * needs; usually part of {@code REDIS_URL}.
         * @param v the ACL user, or null (the default) for the default user
         * @return this builder
         */
        public Builder user(String v) { return set(USER, noneIfEmpty(v)); }

        /**
         * Sets the password; it is only handed to the Redis client and never appears in
         * {@link RedisOptions#endpoint()}, {@code toString()} or error messages, so it cannot leak through logs.
         * Usually part of {@code REDIS_URL}.
         * @param v the password, or null (the default) for none
         * @return this builder
         */
        public Builder password(String v) { return set(PASSWORD, noneIfEmpty(v)); }

        /**
         * Sets the database index, so that several setups can share one server without their keys meeting; usually part
         * of {@code REDIS_URL}.
         * @param v the database index, at least 0 (default 0)
         * @return this builder
         */
        public Builder database(int v) { return set(DATABASE, v); }

        /**
         * Turns TLS on or off; a {@code rediss://} {@code REDIS_URL} turns it on, and a managed Redis reached over a
         * network usually needs it.
         * @param v whether to use TLS (default false)
         * @return this builder
         */
        public Builder ssl(boolean v) { return set(SSL, v); }

        /**
         * Uses a custom TLS socket factory (client certificates, private CAs); implies TLS.
         * @param v the factory (default none: the JDK's)
         * @return this builder
         */
        public Builder sslSocketFactory(SSLSocketFactory v) { return set(SSL_SOCKET_FACTORY, v).set(SSL, true); }

        /**
         * Trusts the certificates of a trust store file (for a private CA); implies TLS.
         * @param path the trust store
         * @param password its password, or null
         * @param type the store type, e.g. {@code PKCS12} or {@code JKS}
         * @return this builder
         * @throws IllegalArgumentException if the store cannot be read
         */
        public Builder trustStore(Path path, char[] password, String type) {
            return sslSocketFactory(RedisUri.trustStoreSocketFactory(path, password, type));
        }

        /**
         * Sets the prefix of the library's own keys (processed markers, locks, the fencing counter), so that they do
         * not collide with the application's keys or those of another setup on the same database. Unless set it is
         * {@value #DEFAULT_KEY_PREFIX} on one server and, on a cluster, {@code "{" + stream + "}:"}, so that locks and
         * markers share the stream's slot.
         * @param v the prefix, not blank
         * @return this builder
         */
        public Builder keyPrefix(String v) { return set(KEY_PREFIX, v); }

        /**
         * Sets the stream the workers consume ({@code WORKER_STREAM}); the dead-letter stream and retry set are named
         * after it unless set.
         * @param v the stream, not blank (default {@value #DEFAULT_STREAM})
         * @return this builder
         */
        public Builder stream(String v) { return set(STREAM, v); }

        /**
         * Sets the dead-letter stream, for when it must not be named after the stream; it must differ from the stream
         * and the retry key.
         * @param v the dead-letter stream, not blank (default {@code <stream>:dlq})
         * @return this builder
         */
        public Builder deadLetterStream(String v) { return set(DEAD_LETTER_STREAM, v); }

        /**
         * Sets the sorted set that holds scheduled retries, for when it must not be named after the stream; it must
         * differ from the stream and the dead-letter stream.
         * @param v the retry sorted set, not blank (default {@code <stream>:retry})
         * @return this builder
         */
        public Builder retryKey(String v) { return set(RETRY_KEY, v); }

        /**
         * Sets the consumer group ({@code WORKER_GROUP}); services in one group share the stream's events, services in
         * different groups each get every event.
         * @param v the consumer group, not blank (default {@value #DEFAULT_GROUP})
         * @return this builder
         */
        public Builder group(String v) { return set(GROUP, v); }

        /**
         * Where a newly created group starts: {@link #START_FROM_BEGINNING} (default) or {@link #START_FROM_LATEST}.
         * @param v {@code 0} or {@code $}
         * @return this builder
         */
        public Builder groupStartId(String v) { return set(GROUP_START_ID, v); }

        /**
         * Sets how long opening a connection may take before Redis counts as unavailable, which bounds how long a start
         * or reconnect hangs on an unreachable server.
         * @param v the connect timeout, positive (default 2 s)
         * @return this builder
         */
        public Builder connectTimeout(Duration v) { return set(CONNECT_TIMEOUT, v); }

        /**
         * Sets how long a command may wait for its reply before Redis counts as unavailable, so a hung server fails
         * calls instead of stalling workers; blocking reads get it on top of their own wait.
         * @param v the socket timeout, positive (default 2 s)
         * @return this builder
         */
        public Builder socketTimeout(Duration v) { return set(SOCKET_TIMEOUT, v); }

        /**
         * Sets the size of the transport's shared connection pool, which its commands and locks borrow from (blocking
         * reads use their own connections); too small a pool makes workers wait for a connection under load.
         * @param v the pool size, at least 1 (default {@value #DEFAULT_POOL_SIZE})
         * @return this builder
         */
        public Builder poolSize(int v) { return set(POOL_SIZE, v); }

        /**
         * Sets how long a processed marker is kept; within it a redelivered event is recognised as done and not
         * processed again, at the cost of one key per event.
         * @param v the marker lifetime, positive (default 24 hours)
         * @return this builder
         */
        public Builder processedTtl(Duration v) { return set(PROCESSED_TTL, v); }

        /**
         * Sets the approximate cap of the dead-letter stream, beyond which its oldest entries are trimmed, so a flood
         * of failures cannot fill Redis.
         * @param v the cap, at least 1 (default {@value #DEFAULT_DEAD_LETTER_MAX_LENGTH})
         * @return this builder
         */
        public Builder deadLetterMaxLength(long v) { return set(DEAD_LETTER_MAX_LENGTH, v); }

        /**
         * Sets the largest accepted {@code payload_json} in UTF-8 bytes, so that an oversized event is refused rather
         * than straining Redis and every worker that reads it.
         * @param v the limit, at least 1 (default {@value #DEFAULT_MAX_PAYLOAD_BYTES}, 1 MiB)
         * @return this builder
         */
        public Builder maxPayloadBytes(int v) { return set(MAX_PAYLOAD_BYTES, v); }

        /**
         * Sets the pause between two runs of a transport's retry mover, which moves due retries back to the stream; it
         * bounds how late a retry runs after its due time.
         * @param v the pause, positive (default 100 ms)
         * @return this builder
         */
        public Builder retryPollInterval(Duration v) { return set(RETRY_POLL_INTERVAL, v); }

        /**
         * Sets the pause between two trims of the stream by one transport, which remove entries every group has
         * delivered and acknowledged; it trades the cost of trimming against the memory the settled entries hold
         * meanwhile.
         * @param v the pause, positive (default 1 minute)
         * @return this builder
         */
        public Builder trimInterval(Duration v) { return set(TRIM_INTERVAL, v); }

        /**
         * Sets the idle time after which a consumer owning nothing is removed from the group, so that consumers of
         * stopped or replaced workers do not pile up.
         * @param v the idle time, positive (default 10 minutes)
         * @return this builder
         */
        public Builder consumerRetention(Duration v) { return set(CONSUMER_RETENTION, v); }

        /**
         * Builds the options, checking only now the settings that constrain each other, so that setters can be called
         * in any order.
         * @return the options
         * @throws IllegalStateException naming the settings if they contradict each other: the stream, the dead-letter
         *     stream and the retry key must be three different keys (one key cannot be a stream and a sorted set, and
         *     dead letters written to the stream would be read again as events); a TLS socket factory or trust store
         *     needs TLS, which a {@code redis://} URI or {@code ssl(false)} given after it turned off
         */
        public RedisOptions build() {
            Setting.Values v = withDerivedKeys(values);
            checkTogether(v);
            return new RedisOptions(v);
        }
    }
}
