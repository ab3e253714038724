package dev.workflowworker.redis;

import dev.workflowworker.core.Setting;
import dev.workflowworker.redis.internal.client.ClusterSlots;
import dev.workflowworker.redis.internal.client.RedisUri;

import javax.net.ssl.SSLSocketFactory;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * The settings of {@link RedisOptions}, each declared once: name, default, check and, for some,
 * the environment variable; the options and their builder hold a {@link Setting.Values} of them.
 */
final class RedisOptionTable {

    private RedisOptionTable() {
    }

    /** In the order {@code RedisOptions.toString()} shows them. */
    static final Setting.Table SETTINGS = new Setting.Table();
    // Where Redis is: shown only through endpoint(), which never shows the password.
    static final Setting<String> HOST = SETTINGS.add("host", RedisOptions.DEFAULT_HOST, RedisOptionTable::text);
    static final Setting<Integer> PORT = SETTINGS.add("port", RedisOptions.DEFAULT_PORT, (name, v) -> {
        if (v < 1 || v > 65535) {
            throw new IllegalArgumentException(name + " must be in 1..65535: " + v);
        }
    });
    static final Setting<String> USER = SETTINGS.add("user", null, anything());
    static final Setting<String> PASSWORD = SETTINGS.add("password", null, anything());
    static final Setting<Integer> DATABASE = SETTINGS.add("database", 0, atLeast(0));
    static final Setting<Boolean> SSL = SETTINGS.add("ssl", false, anything());
    static final Setting<SSLSocketFactory> SSL_SOCKET_FACTORY =
            SETTINGS.add("sslSocketFactory", null, (name, v) -> Objects.requireNonNull(v, name));
    static final Setting<List<String>> CLUSTER_NODES = SETTINGS.add("clusterNodes", List.of(), (name, nodes) -> {
        for (String v : nodes) {
            if (v.isBlank()) {
                throw new IllegalArgumentException(name + " must not be blank");
            }
            int colon = v.lastIndexOf(':');
            int port;
            try {
                port = colon < 0 ? -1 : Integer.parseInt(v.substring(colon + 1));
            } catch (NumberFormatException e) {
                port = -1;
            }
            if (colon <= 0 || port < 1 || port > 65535) {
                throw new IllegalArgumentException(name + ": expected host:port, got '" + v + "'");
            }
        }
    });
    static final Set<Setting<?>> IN_ENDPOINT =
            Set.of(HOST, PORT, USER, PASSWORD, DATABASE, SSL, SSL_SOCKET_FACTORY, CLUSTER_NODES);
    /** Null in a builder until set: derived from the stream, see {@link #derived}. */
    static final Setting<String> KEY_PREFIX = SETTINGS.add("keyPrefix", null, RedisOptionTable::text);
    static final Setting<String> STREAM = SETTINGS.add("stream", RedisOptions.DEFAULT_STREAM, RedisOptionTable::text,
            "WORKER_STREAM", Setting.Parser.TEXT);
    static final Setting<String> DEAD_LETTER_STREAM = SETTINGS.add("deadLetterStream", null, RedisOptionTable::text);
    static final Setting<String> RETRY_KEY = SETTINGS.add("retryKey", null, RedisOptionTable::text);
    private static final List<Setting<String>> DERIVED = List.of(KEY_PREFIX, DEAD_LETTER_STREAM, RETRY_KEY);
    static final Setting<String> GROUP = SETTINGS.add("group", RedisOptions.DEFAULT_GROUP, RedisOptionTable::text,
            "WORKER_GROUP", Setting.Parser.TEXT);
    static final Setting<String> GROUP_START_ID = SETTINGS.add("groupStartId", RedisOptions.START_FROM_BEGINNING,
            (name, v) -> {
                if (!RedisOptions.START_FROM_BEGINNING.equals(v) && !RedisOptions.START_FROM_LATEST.equals(v)) {
                    throw new IllegalArgumentException(name + " must be '0' or '$': " + v);
                }
            });
    static final Setting<Duration> CONNECT_TIMEOUT =
            SETTINGS.add("connectTimeout", RedisOptions.DEFAULT_CONNECT_TIMEOUT, atLeastMillis(1));
    static final Setting<Duration> SOCKET_TIMEOUT =
            SETTINGS.add("socketTimeout", RedisOptions.DEFAULT_SOCKET_TIMEOUT, atLeastMillis(1));
    static final Setting<Integer> POOL_SIZE = SETTINGS.add("poolSize", RedisOptions.DEFAULT_POOL_SIZE, atLeast(1));
    static final Setting<Duration> PROCESSED_TTL =
            SETTINGS.add("processedTtl", RedisOptions.DEFAULT_PROCESSED_TTL, atLeastMillis(1));
    static final Setting<Long> DEAD_LETTER_MAX_LENGTH =
            SETTINGS.add("deadLetterMaxLength", RedisOptions.DEFAULT_DEAD_LETTER_MAX_LENGTH, atLeast(1));
    static final Setting<Integer> MAX_PAYLOAD_BYTES =
            SETTINGS.add("maxPayloadBytes", RedisOptions.DEFAULT_MAX_PAYLOAD_BYTES, atLeast(1));
    static final Setting<Duration> RETRY_POLL_INTERVAL =
            SETTINGS.add("retryPollInterval", RedisOptions.DEFAULT_RETRY_POLL_INTERVAL, atLeastMillis(1));
    static final Setting<Duration> TRIM_INTERVAL =
            SETTINGS.add("trimInterval", RedisOptions.DEFAULT_TRIM_INTERVAL, atLeastMillis(1));
    static final Setting<Duration> CONSUMER_RETENTION =
            SETTINGS.add("consumerRetention", RedisOptions.DEFAULT_CONSUMER_RETENTION, atLeastMillis(1));
    static final Setting<Integer> PARTITIONS = SETTINGS.add("partitions", RedisOptions.DEFAULT_PARTITIONS, between(0, RedisOptions.MAX_PARTITIONS),
            "WORKER_PARTITIONS", Setting.Parser.INTEGER);
    static final Setting<Duration> PARTITION_LEASE_TTL =
            SETTINGS.add("partitionLeaseTtl", RedisOptions.DEFAULT_PARTITION_LEASE_TTL, atLeastMillis(100));
    static final Setting<Duration> COMMIT_LINGER = SETTINGS.add("commitLinger", RedisOptions.DEFAULT_COMMIT_LINGER,
            (name, v) -> {
                if (v == null || v.isNegative() || v.compareTo(RedisOptions.MAX_COMMIT_LINGER) > 0) {
                    throw new IllegalArgumentException(name + " must be between 0 and "
                            + RedisOptions.MAX_COMMIT_LINGER.toMillis() + " ms: " + v);
                }
            });
    static final Setting<Integer> WAIT_REPLICAS = SETTINGS.add("waitReplicas", 0, between(0, 16),
            "REDIS_WAIT_REPLICAS", Setting.Parser.INTEGER);
    static final Setting<Duration> WAIT_TIMEOUT = SETTINGS.add("waitTimeout", Duration.ofSeconds(1),
            atLeastMillis(1), "REDIS_WAIT_TIMEOUT_MS", Setting.Parser.MILLIS);

    /** {@return the nodes, each trimmed; a null one becomes blank, which the check refuses naming the setting} */
    static List<String> trimmed(String... hostPorts) {
        return Arrays.stream(hostPorts).map(hp -> hp == null ? "" : hp.trim()).toList();
    }

    /** {@return the value, or null for an empty one: an empty user or password counts as none} */
    static String noneIfEmpty(String v) {
        return v == null || v.isEmpty() ? null : v;
    }

    /** Sets where Redis is and how to reach it from a URI, as {@code RedisOptions.Builder.uri} documents. */
    static void setUri(Setting.Values v, String uri) {
        RedisUri parsed = RedisUri.parse(uri);
        v.set(HOST, parsed.host());
        v.set(PORT, parsed.port());
        v.set(DATABASE, parsed.database());
        v.set(CLUSTER_NODES, parsed.clusterNodes());
        v.set(USER, noneIfEmpty(parsed.user()));
        v.set(PASSWORD, noneIfEmpty(parsed.password()));
        v.set(SSL, parsed.ssl());
    }

    /**
     * Reads {@code REDIS_URL} and then every setting's variable; a refused {@code REDIS_URL} is
     * named with its password masked.
     */
    static void readEnvironment(Map<String, String> env, Setting.Values v) {
        String url = Objects.requireNonNull(env, "env").get("REDIS_URL");
        if (url != null && !url.isBlank()) {
            try {
                setUri(v, url.trim());
            } catch (IllegalArgumentException e) {
                String shown = RedisUri.redact(url);
                throw new IllegalArgumentException("REDIS_URL=" + shown + " is invalid: " + e.getMessage(), e);
            }
        }
        v.read(env);
    }

    private static <T> Setting.Check<T> anything() {
        return (name, v) -> { };
    }

    private static void text(String name, String v) {
        if (v == null || v.isBlank()) {
            throw new IllegalArgumentException(name + " must not be blank");
        }
    }

    private static <N extends Number> Setting.Check<N> atLeast(long min) {
        return (name, v) -> {
            if (v.longValue() < min) {
                throw new IllegalArgumentException(name + " must be >= " + min + ": " + v);
            }
        };
    }

    private static Setting.Check<Integer> between(int min, int max) {
        return (name, v) -> {
            if (v < min || v > max) {
                throw new IllegalArgumentException(name + " must be between " + min + " and " + max + ": " + v);
            }
        };
    }

    private static Setting.Check<Duration> atLeastMillis(long min) {
        return (name, v) -> {
            if (v == null) {
                throw new IllegalArgumentException(name + " must not be null");
            }
            if (v.isNegative() || v.toMillis() < min) {
                throw new IllegalArgumentException(name + " must be at least " + min + " ms: " + v);
            }
            // the client takes timeouts as int milliseconds
            if (v.toMillis() > Integer.MAX_VALUE && name.endsWith("Timeout")) {
                throw new IllegalArgumentException(name + " is too large: " + v);
            }
        };
    }

    /**
     * {@return the name a derived key has when not set}: on one server the stream's name plus a
     * suffix; on a cluster the stream's hash tag, so that the key shares the stream's slot (see
     * docs/ARCHITECTURE.md, "Redis Cluster").
     */
    private static String derived(Setting.Values v, Setting<String> key) {
        String stream = v.get(STREAM);
        boolean cluster = !v.get(CLUSTER_NODES).isEmpty();
        if (key == KEY_PREFIX) {
            return cluster ? "{" + ClusterSlots.hashTag(stream) + "}:" : RedisOptions.DEFAULT_KEY_PREFIX;
        }
        String suffix = key == DEAD_LETTER_STREAM ? "dlq" : "retry";
        return (cluster ? "{" + ClusterSlots.hashTag(stream) + "}" : stream) + ":" + suffix;
    }

    /** {@return a copy of a builder's values with every derived key that is not set filled in} */
    static Setting.Values withDerivedKeys(Setting.Values builder) {
        Setting.Values v = builder.copy();
        for (Setting<String> key : DERIVED) {
            if (v.get(key) == null) {
                v.set(key, derived(v, key));
            }
        }
        return v;
    }

    /**
     * {@return a copy of built values in which a key that still has its derived name is not set},
     * so that it follows the stream when a variant renames the stream
     */
    static Setting.Values withoutDerivedKeys(Setting.Values built) {
        Setting.Values v = built.copy();
        for (Setting<String> key : DERIVED) {
            if (built.get(key).equals(derived(built, key))) {
                v.reset(key);
            }
        }
        return v;
    }

    /**
     * Checks the settings that constrain each other.
     *
     * @throws IllegalStateException naming the settings that contradict each other
     */
    static void checkTogether(Setting.Values v) {
        String stream = v.get(STREAM);
        String dlq = v.get(DEAD_LETTER_STREAM);
        String retry = v.get(RETRY_KEY);
        requireDistinct("deadLetterStream", dlq, "stream", stream);
        requireDistinct("retryKey", retry, "stream", stream);
        requireDistinct("deadLetterStream", dlq, "retryKey", retry);
        if (v.get(SSL_SOCKET_FACTORY) != null && !v.get(SSL)) {
            throw new IllegalStateException("sslSocketFactory (or trustStore) is set but ssl is false: "
                    + "use a rediss:// uri or ssl(true), or drop the socket factory");
        }
        if (!v.get(CLUSTER_NODES).isEmpty()) {
            ClusterSlots.check(v.get(DATABASE), stream, dlq, retry, v.get(KEY_PREFIX), v.get(PARTITIONS));
        }
    }

    private static void requireDistinct(String name, String value, String otherName, String otherValue) {
        if (value.equals(otherValue)) {
            throw new IllegalStateException(name + " (" + value + ") must differ from " + otherName + " ("
                    + otherValue + ")");
        }
    }
}
