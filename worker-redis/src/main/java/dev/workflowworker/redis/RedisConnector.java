package dev.workflowworker.redis;

import redis.clients.jedis.Connection;
import redis.clients.jedis.ConnectionPoolConfig;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.RedisProtocol;

import java.time.Duration;

/** Builds the pooled client and the dedicated connections of blocking readers from the options. */
final class RedisConnector {

    private final RedisOptions options;
    private final HostAndPort address;
    private final JedisClientConfig config;
    private final String clientName;

    RedisConnector(RedisOptions options, String clientName) {
        this.options = options;
        this.clientName = clientName;
        this.address = new HostAndPort(options.host(), options.port());
        DefaultJedisClientConfig.Builder b = DefaultJedisClientConfig.builder()
                // RESP2 keeps raw replies (arrays, not maps) stable for the reply parser.
                .protocol(RedisProtocol.RESP2)
                .autoNegotiateProtocol(false)
                .connectionTimeoutMillis(toMillis(options.connectTimeout()))
                .socketTimeoutMillis(toMillis(options.socketTimeout()))
                .database(options.database())
                .clientName(clientName)
                .ssl(options.ssl());
        if (options.user() != null) {
            b.user(options.user());
        }
        if (options.hasPassword()) {
            b.password(options.password());
        }
        if (options.sslSocketFactory() != null) {
            b.sslSocketFactory(options.sslSocketFactory());
        }
        this.config = b.build();
    }

    RedisClient newPooledClient() {
        ConnectionPoolConfig pool = new ConnectionPoolConfig();
        pool.setMaxTotal(options.poolSize());
        pool.setMaxIdle(options.poolSize());
        pool.setMinIdle(0);
        pool.setMaxWait(options.connectTimeout().plus(options.socketTimeout()));
        // No PING per borrow: it would double the round trips of every command. Connections left
        // stale by a Redis restart are dropped by the evictor, or at once by the transport when a
        // command fails on one (see RedisEventTransport#call).
        pool.setTestOnBorrow(false);
        pool.setTestWhileIdle(true);
        pool.setTimeBetweenEvictionRuns(Duration.ofSeconds(30));
        pool.setJmxEnabled(false);
        return RedisClient.builder()
                .hostAndPort(address)
                .clientConfig(config)
                .poolConfig(pool)
                .build();
    }

    /** @return a new connection of its own, for blocking reads that must not hold a pooled one */
    Connection newDedicatedConnection() {
        return new Connection(address, config);
    }

    String clientName() {
        return clientName;
    }

    int socketTimeoutMillis() {
        return toMillis(options.socketTimeout());
    }

    private static int toMillis(Duration d) {
        return (int) Math.min(Integer.MAX_VALUE, d.toMillis());
    }
}
