package dev.workflowworker.redis;

import javax.net.ssl.SSLSocketFactory;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

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
    /** The most partitions a stream may have. */
    public static final int MAX_PARTITIONS = 1024;

    private final String host;
    private final int port;
    private final String user;
    private final String password;
    private final int database;
    private final boolean ssl;
    private final SSLSocketFactory sslSocketFactory;
    private final String keyPrefix;
    private final String stream;
    private final String deadLetterStream;
    private final String retryKey;
    private final String group;
    private final String groupStartId;
    private final Duration connectTimeout;
    private final Duration socketTimeout;
    private final int poolSize;
    private final Duration processedTtl;
    private final long deadLetterMaxLength;
    private final int maxPayloadBytes;
    private final Duration retryPollInterval;
    private final Duration trimInterval;
    private final Duration consumerRetention;
    private final int partitions;
    private final Duration partitionLeaseTtl;
    private final List<String> clusterNodes;
    private final int waitReplicas;
    private final Duration waitTimeout;
    /** On a cluster, the hash tag of each partition, chosen to spread them evenly over the slots; null otherwise. */
    private final String[] partitionTags;

    private RedisOptions(Builder b) {
        host = b.host;
        port = b.port;
        user = b.user;
        password = b.password;
        database = b.database;
        ssl = b.ssl;
        sslSocketFactory = b.sslSocketFactory;
        clusterNodes = b.clusterNodes;
        keyPrefix = b.keyPrefix != null ? b.keyPrefix : b.defaultKeyPrefix();
        stream = b.stream;
        deadLetterStream = b.deadLetterStream != null ? b.deadLetterStream : b.defaultDeadLetterStream();
        retryKey = b.retryKey != null ? b.retryKey : b.defaultRetryKey();
        waitReplicas = b.waitReplicas;
        waitTimeout = b.waitTimeout;
        group = b.group;
        groupStartId = b.groupStartId;
        connectTimeout = b.connectTimeout;
        socketTimeout = b.socketTimeout;
        poolSize = b.poolSize;
        processedTtl = b.processedTtl;
        deadLetterMaxLength = b.deadLetterMaxLength;
        maxPayloadBytes = b.maxPayloadBytes;
        retryPollInterval = b.retryPollInterval;
        trimInterval = b.trimInterval;
        consumerRetention = b.consumerRetention;
        partitions = b.partitions;
        partitionLeaseTtl = b.partitionLeaseTtl;
        partitionTags = cluster() && partitions > 0 ? balancedTags(stream, partitions) : null;
    }

    /**
     * The hash tags of a partitioned stream on a cluster. A tag of {@code stream#i} puts partition
     * i in whatever slot CRC16 gives, and few partitions then crowd onto some masters (16 over
     * three came out 4/4/8). Instead partition i's tag is the first of {@code stream#i},
     * {@code stream#i~1}, {@code stream#i~2}, ... whose slot lies within a quarter of a range's
     * width of the middle of the i-th of P equal slot ranges, so partitions follow the slot
     * ranges the cluster assigns to its masters. See docs/ARCHITECTURE.md, "Redis Cluster".
     */
    static String[] balancedTags(String stream, int p) {
        String[] tags = new String[p];
        int half = Math.max(1, 16384 / (4 * p));
        for (int i = 0; i < p; i++) {
            int middle = (int) ((2L * i + 1) * 16384 / (2L * p));
            String base = stream + "#" + i;
            String tag = base;
            for (int k = 1; Math.abs(redis.clients.jedis.util.JedisClusterCRC16.getSlot("{" + tag + "}") - middle) >= half; k++) {
                tag = base + "~" + k;
            }
            tags[i] = tag;
        }
        return tags;
    }

    /** {@return a builder with every default: a local Redis and the default stream and group} */
    public static Builder builder() {
        return new Builder();
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
     * {@code WORKER_PARTITIONS} (see {@link Builder#partitions(int)}; default 0, one shared stream),
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
        Objects.requireNonNull(env, "env");
        Builder b = builder();
        envVar(env, "REDIS_URL", b::uri);
        envVar(env, "WORKER_STREAM", b::stream);
        envVar(env, "WORKER_GROUP", b::group);
        envVar(env, "WORKER_PARTITIONS", v -> b.partitions(parsePartitions(v)));
        envVar(env, "REDIS_WAIT_REPLICAS", v -> b.waitForReplicas(Integer.parseInt(v.trim()), b.waitTimeout));
        envVar(env, "REDIS_WAIT_TIMEOUT_MS", v -> b.waitForReplicas(b.waitReplicas,
                Duration.ofMillis(Long.parseLong(v.trim()))));
        return b.build();
    }

    private static int parsePartitions(String v) {
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a whole number", e);
        }
    }

    private static void envVar(Map<String, String> env, String name, Consumer<String> setter) {
        String raw = env.get(name);
        if (raw == null || raw.isBlank()) {
            return;
        }
        try {
            setter.accept(raw.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + "=" + RedisUri.redact(raw) + " is invalid: " + e.getMessage(), e);
        }
    }

    /** {@return a builder pre-filled with these options, to derive a variant of them} */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.host = host;
        b.port = port;
        b.user = user;
        b.password = password;
        b.database = database;
        b.ssl = ssl;
        b.sslSocketFactory = sslSocketFactory;
        b.clusterNodes = clusterNodes;
        b.stream = stream;
        b.keyPrefix = keyPrefix.equals(b.defaultKeyPrefix()) ? null : keyPrefix;
        b.deadLetterStream = deadLetterStream.equals(b.defaultDeadLetterStream()) ? null : deadLetterStream;
        b.retryKey = retryKey.equals(b.defaultRetryKey()) ? null : retryKey;
        b.waitReplicas = waitReplicas;
        b.waitTimeout = waitTimeout;
        b.group = group;
        b.groupStartId = groupStartId;
        b.connectTimeout = connectTimeout;
        b.socketTimeout = socketTimeout;
        b.poolSize = poolSize;
        b.processedTtl = processedTtl;
        b.deadLetterMaxLength = deadLetterMaxLength;
        b.maxPayloadBytes = maxPayloadBytes;
        b.retryPollInterval = retryPollInterval;
        b.trimInterval = trimInterval;
        b.consumerRetention = consumerRetention;
        b.partitions = partitions;
        b.partitionLeaseTtl = partitionLeaseTtl;
        return b;
    }

    /** {@return the host (from {@code REDIS_URL})} */
    public String host() { return host; }

    /** {@return the port (from {@code REDIS_URL})} */
    public int port() { return port; }

    /** {@return the ACL user (from {@code REDIS_URL}), or null for the default user} */
    public String user() { return user; }

    /**
     * {@return whether a password is set}; the password itself is only handed to the Redis client,
     * so it cannot leak through logs or messages.
     */
    public boolean hasPassword() { return password != null; }

    String password() { return password; }

    /** {@return the database index (from {@code REDIS_URL})} */
    public int database() { return database; }

    /** {@return whether TLS is used ({@code rediss://} in {@code REDIS_URL})} */
    public boolean ssl() { return ssl; }

    /** {@return the TLS socket factory, or null for the JDK default} */
    public SSLSocketFactory sslSocketFactory() { return sslSocketFactory; }

    /**
     * {@return the prefix of the library's own keys}: {@value #DEFAULT_KEY_PREFIX} on one server;
     * on a cluster {@code "{" + stream + "}:"}, so that locks and markers share the stream's slot
     */
    public String keyPrefix() { return keyPrefix; }

    /** {@return true when connected to a Redis Cluster ({@code redis-cluster://})} */
    public boolean cluster() { return !clusterNodes.isEmpty(); }

    /** {@return the seed nodes of the cluster as "host:port", empty for one server} */
    public List<String> clusterNodes() { return clusterNodes; }

    /**
     * {@return how many replicas must acknowledge a publish or an outcome before it counts as
     * done (Redis {@code WAIT}); 0 waits for none} See {@link Builder#waitForReplicas(int, Duration)}.
     */
    public int waitReplicas() { return waitReplicas; }

    /** {@return how long a write waits for {@link #waitReplicas()} replicas} */
    public Duration waitTimeout() { return waitTimeout; }

    /** {@return the stream the workers consume ({@code WORKER_STREAM})} */
    public String stream() { return stream; }

    /** {@return the dead-letter stream, {@code <stream>:dlq} unless set} */
    public String deadLetterStream() { return deadLetterStream; }

    /** {@return the sorted set of scheduled retries, {@code <stream>:retry} unless set} */
    public String retryKey() { return retryKey; }

    /** {@return the consumer group ({@code WORKER_GROUP})} */
    public String group() { return group; }

    /** {@return the id the group starts from when it is created} */
    public String groupStartId() { return groupStartId; }

    /** {@return the connect timeout} */
    public Duration connectTimeout() { return connectTimeout; }

    /** {@return the socket timeout of non-blocking commands} */
    public Duration socketTimeout() { return socketTimeout; }

    /** {@return the size of the shared connection pool} */
    public int poolSize() { return poolSize; }

    /** {@return the lifetime of processed markers} */
    public Duration processedTtl() { return processedTtl; }

    /** {@return the approximate cap of the dead-letter stream} */
    public long deadLetterMaxLength() { return deadLetterMaxLength; }

    /** {@return the payload limit in UTF-8 bytes} */
    public int maxPayloadBytes() { return maxPayloadBytes; }

    /** {@return the pause between two runs of a transport's retry mover} */
    public Duration retryPollInterval() { return retryPollInterval; }

    /** {@return the pause between two trims of the stream} */
    public Duration trimInterval() { return trimInterval; }

    /**
     * {@return the idle time after which a consumer owning nothing is removed from the group}
     */
    public Duration consumerRetention() { return consumerRetention; }

    /**
     * {@return how many partitions the stream has; 0 for one shared stream} See
     * {@link Builder#partitions(int)}.
     */
    public int partitions() { return partitions; }

    /** {@return true when the stream is partitioned: events of one key in order, one owner per partition} */
    public boolean partitioned() { return partitions > 0; }

    /** {@return how long a partition's lease lasts without renewal} */
    public Duration partitionLeaseTtl() { return partitionLeaseTtl; }

    /**
     * {@return the stream key of partition {@code i}}: the whole key is its hash tag, so every key
     * of the partition lives in one Redis Cluster slot, and partitions spread over the slots.
     */
    String partitionStream(int i) { return "{" + (partitionTags != null ? partitionTags[i] : stream + "#" + i) + "}"; }

    /** @return the lease key of partition {@code i}: "owner|token" of its current owner */
    String partitionLease(int i) { return partitionStream(i) + ":lease"; }

    /** @return the counter the lease tokens of partition {@code i} are drawn from */
    String partitionFence(int i) { return partitionStream(i) + ":fence"; }

    /** @return the hash of partition {@code i}'s entries a retry holds: id to "attempt:dueMillis" */
    String partitionHeld(int i) { return partitionStream(i) + ":held"; }

    /**
     * @return the sorted set of partition {@code i}'s completed event ids, scored by completion
     *     time and kept for {@link #processedTtl()}: the partitioned form of processed markers
     */
    String partitionCompleted(int i) { return partitionStream(i) + ":completed"; }

    /** @return the dead-letter stream of partition {@code i} */
    String partitionDeadLetters(int i) { return partitionStream(i) + ":dlq"; }

    /** @return the last source-stream id routed into partition {@code i} */
    String partitionRouted(int i) { return partitionStream(i) + ":routed"; }

    /**
     * @return the router's lease: its hash tag is the stream's whole name, so it shares the slot
     *     of the single stream it reads
     */
    String routerLease() { return "{" + stream + "}:router"; }

    /** @return the counter the router's lease tokens are drawn from */
    String routerFence() { return "{" + stream + "}:router-fence"; }

    /** @return the group the router reads the single stream with */
    String routerGroup() { return group + "-router"; }

    /** @return where the stream's partition count is recorded */
    String partitionCountKey() { return stream + ":partitions"; }

    /** @return the sorted set of live instances sharing the partitions, scored by heartbeat expiry */
    String membersKey() { return stream + ":members"; }

    /** @return the processed-marker key of an event */
    String processedKey(String eventId) { return keyPrefix + "processed:" + eventId; }

    /** @return the lock key of a lock key */
    String lockKey(String key) { return keyPrefix + "lock:" + key; }

    /** @return the fencing counter of a lock key */
    String fenceKey() { return keyPrefix + "fence"; }

    /**
     * {@return where Redis is, for messages: scheme, user, host, port and database, never the
     * password}
     */
    public String endpoint() {
        if (cluster()) {
            return RedisUri.clusterEndpoint(ssl, user, password != null, clusterNodes);
        }
        return RedisUri.endpoint(ssl, user, password != null, host, port, database);
    }

    @Override
    public String toString() {
        return "RedisOptions{endpoint=" + endpoint()
                + ", keyPrefix=" + keyPrefix
                + ", stream=" + stream
                + ", deadLetterStream=" + deadLetterStream
                + ", retryKey=" + retryKey
                + ", group=" + group
                + ", groupStartId=" + groupStartId
                + ", connectTimeout=" + connectTimeout
                + ", socketTimeout=" + socketTimeout
                + ", poolSize=" + poolSize
                + ", processedTtl=" + processedTtl
                + ", deadLetterMaxLength=" + deadLetterMaxLength
                + ", maxPayloadBytes=" + maxPayloadBytes
                + ", partitions=" + partitions
                + ", partitionLeaseTtl=" + partitionLeaseTtl
                + ", waitReplicas=" + waitReplicas
                + ", waitTimeout=" + waitTimeout + '}';
    }

    /** Builds {@link RedisOptions}; not thread-safe. */
    public static final class Builder {
        private String host = DEFAULT_HOST;
        private int port = DEFAULT_PORT;
        private String user;
        private String password;
        private int database;
        private boolean ssl;
        private SSLSocketFactory sslSocketFactory;
        /** Null for the default, which depends on whether Redis is a cluster. */
        private String keyPrefix;
        private List<String> clusterNodes = List.of();
        private int waitReplicas;
        private Duration waitTimeout = Duration.ofSeconds(1);
        private String stream = DEFAULT_STREAM;
        private String deadLetterStream;
        private String retryKey;
        private String group = DEFAULT_GROUP;
        private String groupStartId = START_FROM_BEGINNING;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration socketTimeout = DEFAULT_SOCKET_TIMEOUT;
        private int poolSize = DEFAULT_POOL_SIZE;
        private Duration processedTtl = DEFAULT_PROCESSED_TTL;
        private long deadLetterMaxLength = DEFAULT_DEAD_LETTER_MAX_LENGTH;
        private int maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES;
        private Duration retryPollInterval = DEFAULT_RETRY_POLL_INTERVAL;
        private Duration trimInterval = DEFAULT_TRIM_INTERVAL;
        private Duration consumerRetention = DEFAULT_CONSUMER_RETENTION;
        private int partitions;
        private Duration partitionLeaseTtl = DEFAULT_PARTITION_LEASE_TTL;

        private Builder() {
        }

        /**
         * Splits the stream into {@code v} partitions, each owned by one instance at a time: events
         * of one lock key ({@code executionId}, else {@code eventId}) are processed one at a time in
         * publish order, a retry holds its key's place, and no per-event lock is taken. 0 (the
         * default) keeps one shared stream, where events of a key never run at once but may run
         * out of order. See docs/ARCHITECTURE.md, "Ordered processing".
         *
         * <p>The count is recorded in Redis when the first instance starts; an instance started
         * with another count fails at start naming both. An event goes to partition
         * {@code crc32(utf8(lockKey)) mod partitions} ({@link PartitionRouting}).
         *
         * @param v the partition count, 0 to {@value #MAX_PARTITIONS}
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder partitions(int v) {
            if (v < 0 || v > MAX_PARTITIONS) {
                throw new IllegalArgumentException("partitions must be between 0 and " + MAX_PARTITIONS + ": " + v);
            }
            this.partitions = v;
            return this;
        }

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
        public Builder partitionLeaseTtl(Duration v) {
            requirePositiveMillis(v, "partitionLeaseTtl");
            if (v.toMillis() < 100) {
                throw new IllegalArgumentException("partitionLeaseTtl must be at least 100 ms: " + v);
            }
            this.partitionLeaseTtl = v;
            return this;
        }

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
            this.clusterNodes = parsed.clusterNodes();
            this.user = parsed.user();
            this.password = parsed.password();
            this.ssl = parsed.ssl();
            return this;
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
            List<String> nodes = new java.util.ArrayList<>();
            for (String hp : hostPorts) {
                String v = requireText(hp, "clusterNodes").trim();
                int colon = v.lastIndexOf(':');
                int port;
                try {
                    port = colon < 0 ? -1 : Integer.parseInt(v.substring(colon + 1));
                } catch (NumberFormatException e) {
                    port = -1;
                }
                if (colon <= 0 || port < 1 || port > 65535) {
                    throw new IllegalArgumentException("clusterNodes: expected host:port, got '" + v + "'");
                }
                nodes.add(v);
            }
            this.clusterNodes = List.copyOf(nodes);
            return this;
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
            if (replicas < 0 || replicas > 16) {
                throw new IllegalArgumentException("waitReplicas must be between 0 and 16: " + replicas);
            }
            this.waitTimeout = requirePositiveMillis(timeout, "waitTimeout");
            this.waitReplicas = replicas;
            return this;
        }

        private String hashTagOfStream() {
            int open = stream.indexOf('{');
            if (open >= 0) {
                int close = stream.indexOf('}', open + 1);
                if (close > open + 1) {
                    return stream.substring(open + 1, close);
                }
            }
            return stream;
        }

        String defaultKeyPrefix() {
            return clusterNodes.isEmpty() ? DEFAULT_KEY_PREFIX : "{" + hashTagOfStream() + "}:";
        }

        String defaultDeadLetterStream() {
            return clusterNodes.isEmpty() ? stream + ":dlq" : "{" + hashTagOfStream() + "}:dlq";
        }

        String defaultRetryKey() {
            return clusterNodes.isEmpty() ? stream + ":retry" : "{" + hashTagOfStream() + "}:retry";
        }

        /**
         * Sets the host of the Redis server; usually taken from {@code REDIS_URL} with {@link
         * #uri(String)} instead.
         *
         * @param v the host
         * @return this builder
         * @throws IllegalArgumentException if blank
         */
        public Builder host(String v) {
            this.host = requireText(v, "host");
            return this;
        }

        /**
         * Sets the port of the Redis server; usually part of {@code REDIS_URL}.
         *
         * @param v the port, 1–65535
         * @return this builder
         * @throws IllegalArgumentException if out of range
         */
        public Builder port(int v) {
            if (v < 1 || v > 65535) {
                throw new IllegalArgumentException("port must be in 1..65535: " + v);
            }
            this.port = v;
            return this;
        }

        /**
         * Sets the ACL user, for servers where the default user lacks the stream and key
         * permissions the transport needs; usually part of {@code REDIS_URL}.
         *
         * @param v the ACL user, or null for the default user
         * @return this builder
         */
        public Builder user(String v) {
            this.user = v == null || v.isEmpty() ? null : v;
            return this;
        }

        /**
         * Sets the password; it is only handed to the Redis client and never appears in {@link
         * RedisOptions#endpoint()}, {@code toString()} or error messages. Usually part of {@code
         * REDIS_URL}.
         *
         * @param v the password, or null for none
         * @return this builder
         */
        public Builder password(String v) {
            this.password = v == null || v.isEmpty() ? null : v;
            return this;
        }

        /**
         * Sets the database index, so that several setups can share one server without their keys
         * meeting; usually part of {@code REDIS_URL}.
         *
         * @param v the database index, at least 0
         * @return this builder
         * @throws IllegalArgumentException if negative
         */
        public Builder database(int v) {
            if (v < 0) {
                throw new IllegalArgumentException("database must be >= 0: " + v);
            }
            this.database = v;
            return this;
        }

        /**
         * Turns TLS on or off; a {@code rediss://} {@code REDIS_URL} turns it on, and a managed
         * Redis reached over a network usually needs it.
         *
         * @param v whether to use TLS
         * @return this builder
         */
        public Builder ssl(boolean v) {
            this.ssl = v;
            return this;
        }

        /**
         * Uses a custom TLS socket factory (client certificates, private CAs); implies TLS.
         *
         * @param v the factory
         * @return this builder
         */
        public Builder sslSocketFactory(SSLSocketFactory v) {
            this.sslSocketFactory = Objects.requireNonNull(v, "sslSocketFactory");
            this.ssl = true;
            return this;
        }

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
        public Builder keyPrefix(String v) {
            this.keyPrefix = requireText(v, "keyPrefix");
            return this;
        }

        /**
         * Sets the stream the workers consume ({@code WORKER_STREAM}); the dead-letter stream and
         * retry set are named after it unless set.
         *
         * @param v the stream
         * @return this builder
         * @throws IllegalArgumentException if blank
         */
        public Builder stream(String v) {
            this.stream = requireText(v, "stream");
            return this;
        }

        /**
         * Sets the dead-letter stream, for when it must not be named after the stream; it must
         * differ from the stream and the retry key.
         *
         * @param v the dead-letter stream (default {@code <stream>:dlq})
         * @return this builder
         * @throws IllegalArgumentException if blank
         */
        public Builder deadLetterStream(String v) {
            this.deadLetterStream = requireText(v, "deadLetterStream");
            return this;
        }

        /**
         * Sets the sorted set that holds scheduled retries, for when it must not be named after the
         * stream; it must differ from the stream and the dead-letter stream.
         *
         * @param v the retry sorted set (default {@code <stream>:retry})
         * @return this builder
         * @throws IllegalArgumentException if blank
         */
        public Builder retryKey(String v) {
            this.retryKey = requireText(v, "retryKey");
            return this;
        }

        /**
         * Sets the consumer group ({@code WORKER_GROUP}); services in one group share the stream's
         * events, services in different groups each get every event.
         *
         * @param v the consumer group
         * @return this builder
         * @throws IllegalArgumentException if blank
         */
        public Builder group(String v) {
            this.group = requireText(v, "group");
            return this;
        }

        /**
         * Where a newly created group starts: {@link #START_FROM_BEGINNING} (default) or
         * {@link #START_FROM_LATEST}.
         *
         * @param v {@code 0} or {@code $}
         * @return this builder
         * @throws IllegalArgumentException for any other value
         */
        public Builder groupStartId(String v) {
            if (!START_FROM_BEGINNING.equals(v) && !START_FROM_LATEST.equals(v)) {
                throw new IllegalArgumentException("groupStartId must be '0' or '$': " + v);
            }
            this.groupStartId = v;
            return this;
        }

        /**
         * Sets how long opening a connection may take before Redis counts as unavailable, which
         * bounds how long a start or reconnect hangs on an unreachable server.
         *
         * @param v the connect timeout, positive
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder connectTimeout(Duration v) {
            this.connectTimeout = requirePositiveMillis(v, "connectTimeout");
            return this;
        }

        /**
         * Sets how long a command may wait for its reply before Redis counts as unavailable, so a
         * hung server fails calls instead of stalling workers; blocking reads get it on top of
         * their own wait.
         *
         * @param v the socket timeout, positive
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder socketTimeout(Duration v) {
            this.socketTimeout = requirePositiveMillis(v, "socketTimeout");
            return this;
        }

        /**
         * Sets the size of the transport's shared connection pool, which its commands and locks
         * borrow from; too small a pool makes workers wait for a connection under load.
         *
         * @param v the pool size, at least 1
         * @return this builder
         * @throws IllegalArgumentException if below 1
         */
        public Builder poolSize(int v) {
            if (v < 1) {
                throw new IllegalArgumentException("poolSize must be >= 1: " + v);
            }
            this.poolSize = v;
            return this;
        }

        /**
         * Sets how long a processed marker is kept; within it a redelivered event is recognised as
         * done and not processed again, at the cost of one key per event.
         *
         * @param v the marker lifetime, positive
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder processedTtl(Duration v) {
            this.processedTtl = requirePositiveMillis(v, "processedTtl");
            return this;
        }

        /**
         * Sets the approximate cap of the dead-letter stream, beyond which its oldest entries are
         * trimmed, so a flood of failures cannot fill Redis.
         *
         * @param v the cap, at least 1
         * @return this builder
         * @throws IllegalArgumentException if below 1
         */
        public Builder deadLetterMaxLength(long v) {
            if (v < 1) {
                throw new IllegalArgumentException("deadLetterMaxLength must be >= 1: " + v);
            }
            this.deadLetterMaxLength = v;
            return this;
        }

        /**
         * Sets the largest accepted {@code payload_json} in UTF-8 bytes, so that an oversized event
         * is refused rather than straining Redis and every worker that reads it.
         *
         * @param v the limit, at least 1
         * @return this builder
         * @throws IllegalArgumentException if below 1
         */
        public Builder maxPayloadBytes(int v) {
            if (v < 1) {
                throw new IllegalArgumentException("maxPayloadBytes must be >= 1: " + v);
            }
            this.maxPayloadBytes = v;
            return this;
        }

        /**
         * Sets the pause between two runs of the retry mover, which moves due retries back to the
         * stream; it bounds how late a retry runs after its due time.
         *
         * @param v the pause, positive
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder retryPollInterval(Duration v) {
            this.retryPollInterval = requirePositiveMillis(v, "retryPollInterval");
            return this;
        }

        /**
         * Sets the pause between two trims of the stream, which remove entries every group has
         * delivered and acknowledged; it trades the cost of trimming against the memory the settled
         * entries hold meanwhile.
         *
         * @param v the pause, positive
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder trimInterval(Duration v) {
            this.trimInterval = requirePositiveMillis(v, "trimInterval");
            return this;
        }

        /**
         * Sets the idle time after which a consumer owning nothing is removed from the group, so
         * that consumers of stopped or replaced workers do not pile up.
         *
         * @param v the idle time, positive
         * @return this builder
         * @throws IllegalArgumentException if not positive
         */
        public Builder consumerRetention(Duration v) {
            this.consumerRetention = requirePositiveMillis(v, "consumerRetention");
            return this;
        }

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
            String dlq = deadLetterStream != null ? deadLetterStream : defaultDeadLetterStream();
            String retry = retryKey != null ? retryKey : defaultRetryKey();
            requireDistinct("deadLetterStream", dlq, "stream", stream);
            requireDistinct("retryKey", retry, "stream", stream);
            requireDistinct("deadLetterStream", dlq, "retryKey", retry);
            if (sslSocketFactory != null && !ssl) {
                throw new IllegalStateException("sslSocketFactory (or trustStore) is set but ssl is false: "
                        + "use a rediss:// uri or ssl(true), or drop the socket factory");
            }
            if (!clusterNodes.isEmpty()) {
                if (database != 0) {
                    throw new IllegalStateException("database (" + database + ") must be 0 on a Redis Cluster, "
                            + "which has no other database");
                }
                // The shared stream's scripts touch the stream, its dead letters, retries, locks and
                // markers at once; on a cluster they run only if all of them live in one slot.
                int slot = redis.clients.jedis.util.JedisClusterCRC16.getSlot(stream);
                requireSlot("deadLetterStream", dlq, slot);
                requireSlot("retryKey", retry, slot);
                String prefix = keyPrefix != null ? keyPrefix : defaultKeyPrefix();
                requireSlot("keyPrefix", prefix + "lock:x", slot);
                requireSlot("keyPrefix", prefix + "processed:y", slot);
                if (partitions > 0 && stream.indexOf('}') >= 0) {
                    // Each partition's key is a hash tag made from the stream's name; a '}' in it
                    // would end every such tag early, putting all partitions (and the router's
                    // lease, away from the stream) in slots the design does not expect.
                    throw new IllegalStateException("stream (" + stream + ") must not contain '}' when partitioned "
                            + "on a Redis Cluster: each partition gets a hash tag of its own made from the stream's name");
                }
            }
            return new RedisOptions(this);
        }

        private void requireSlot(String name, String key, int slot) {
            if (redis.clients.jedis.util.JedisClusterCRC16.getSlot(key) != slot) {
                throw new IllegalStateException(name + " (" + key + ") must hash to the slot of stream " + stream
                        + " on a Redis Cluster: give it the stream's hash tag, e.g. {" + hashTagOfStream() + "}");
            }
        }

        private static void requireDistinct(String name, String value, String otherName, String otherValue) {
            if (value.equals(otherValue)) {
                throw new IllegalStateException(name + " (" + value + ") must differ from " + otherName + " ("
                        + otherValue + ")");
            }
        }

        private static String requireText(String v, String name) {
            if (v == null || v.isBlank()) {
                throw new IllegalArgumentException(name + " must not be blank");
            }
            return v;
        }

        private static Duration requirePositiveMillis(Duration v, String name) {
            if (v == null) {
                throw new IllegalArgumentException(name + " must not be null");
            }
            if (v.isNegative() || v.toMillis() < 1) {
                throw new IllegalArgumentException(name + " must be at least 1 ms: " + v);
            }
            if (v.toMillis() > Integer.MAX_VALUE && (name.endsWith("Timeout"))) {
                throw new IllegalArgumentException(name + " is too large: " + v);
            }
            return v;
        }
    }
}
