package dev.workflowworker.redis.testsupport;

import dev.workflowworker.redis.RedisOptions;
import redis.clients.jedis.RedisClient;

/**
 * A Redis server for tests, provided by {@link RedisServerExtension}: an external server named by
 * {@code REDIS_URL}, a Testcontainers {@code redis:7} container, or a {@code redis-server} process
 * spawned from {@code PATH}. Fault tests stop and restart it on the same address.
 */
public interface RedisServer extends AutoCloseable {

    /** How the server was provided. */
    enum Kind {
        /** From {@code REDIS_URL}; not restartable. */
        EXTERNAL,
        /** A Testcontainers container; stop pauses it, start resumes it. */
        CONTAINER,
        /** A {@code redis-server} child process. */
        SPAWNED
    }

    /** @return how the server was provided */
    Kind kind();

    /** @return the URI to connect to, e.g. {@code redis://127.0.0.1:40123} */
    String uri();

    /** @return options for this server with short timeouts suited to tests */
    default RedisOptions.Builder options() {
        return RedisOptions.builder().uri(uri())
                .connectTimeout(java.time.Duration.ofMillis(500))
                .socketTimeout(java.time.Duration.ofSeconds(2));
    }

    /** @return a new pooled client for inspecting and preparing state; close it after use */
    default RedisClient client() {
        java.net.URI u = java.net.URI.create(uri());
        return RedisClient.builder().hostAndPort(u.getHost(), u.getPort())
                .clientConfig(redis.clients.jedis.DefaultJedisClientConfig.builder()
                        .resp2().autoNegotiateProtocol(false).build())
                .build();
    }

    /** @return whether {@link #stop()} and {@link #start()} are supported */
    boolean isRestartable();

    /**
     * Makes the server unreachable (its data is lost for a spawned server, which does not persist).
     *
     * @throws UnsupportedOperationException for an external server
     */
    void stop();

    /**
     * Makes a stopped server reachable again on the same address; waits until it answers PING.
     *
     * @throws UnsupportedOperationException for an external server
     */
    void start();

    /** Stops and starts the server. */
    default void restart() {
        stop();
        start();
    }

    /** @return whether the server answers PING */
    boolean isRunning();

    /** Removes every key, so each test starts from an empty database. */
    void flush();

    /** Stops the server for good (an external server is left running). */
    @Override
    void close();
}
