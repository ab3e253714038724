package dev.workflowworker.redis.internal.client;

import dev.workflowworker.redis.RedisOptions;
import redis.clients.jedis.Connection;
import redis.clients.jedis.ConnectionPoolConfig;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.JedisClientConfig;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.RedisProtocol;
import redis.clients.jedis.UnifiedJedis;
import redis.clients.jedis.util.JedisClusterCRC16;

import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;

/** Builds the pooled client and the dedicated connections of blocking readers from the options. */
public final class RedisConnector {

    private final RedisOptions options;
    private final HostAndPort address;
    private final JedisClientConfig config;
    private final String clientName;

    /**
     * @param password the password, handed on to the client only; {@link RedisOptions} keeps it
     *                 from everything else
     */
    public RedisConnector(RedisOptions options, String password, String clientName) {
        this.options = options;
        this.clientName = clientName;
        this.address = new HostAndPort(options.host(), options.port());
        DefaultJedisClientConfig.Builder b = DefaultJedisClientConfig.builder()
                // RESP2 keeps raw replies (arrays, not maps) stable for the reply parser.
                .protocol(RedisProtocol.RESP2)
                .autoNegotiateProtocol(false)
                .connectionTimeoutMillis(toMillis(options.connectTimeout()))
                .socketTimeoutMillis(toMillis(options.socketTimeout()))
                .database(options.cluster() ? 0 : options.database())
                .clientName(clientName)
                .ssl(options.ssl());
        if (options.user() != null) {
            b.user(options.user());
        }
        if (password != null) {
            b.password(password);
        }
        if (options.sslSocketFactory() != null) {
            b.sslSocketFactory(options.sslSocketFactory());
        }
        this.config = b.build();
    }

    /**
     * @return the pooled client: a {@link RedisClient} for one server, a {@link RedisClusterClient}
     *     (one pool per node, slot map refreshed on redirects and every few seconds) for a cluster
     */
    public UnifiedJedis newPooledClient() {
        ConnectionPoolConfig pool = poolConfig();
        if (options.cluster()) {
            Set<HostAndPort> nodes = new LinkedHashSet<>();
            for (String node : options.clusterNodes()) {
                nodes.add(HostAndPort.from(node.startsWith("[")
                        ? node.substring(1, node.lastIndexOf(']')) + node.substring(node.lastIndexOf(':')) : node));
            }
            return RedisClusterClient.builder()
                    .nodes(nodes)
                    .clientConfig(config)
                    .poolConfig(pool)
                    // A failover takes the cluster some seconds; commands retry over about that
                    // long, then fail to the transport's own retries.
                    .maxAttempts(5)
                    .maxTotalRetriesDuration(options.connectTimeout().plus(options.socketTimeout()))
                    .topologyRefreshPeriod(Duration.ofSeconds(5))
                    .build();
        }
        return RedisClient.builder()
                .hostAndPort(address)
                .clientConfig(config)
                .poolConfig(pool)
                .build();
    }

    private ConnectionPoolConfig poolConfig() {
        ConnectionPoolConfig pool = new ConnectionPoolConfig();
        pool.setMaxTotal(options.poolSize());
        pool.setMaxIdle(options.poolSize());
        pool.setMinIdle(0);
        pool.setMaxWait(options.connectTimeout().plus(options.socketTimeout()));
        // No PING per borrow: it would double the round trips of every command. Connections left
        // stale by a Redis restart are dropped by the evictor, or at once by the transport when a
        // command fails on one (see StreamClient#call).
        pool.setTestOnBorrow(false);
        pool.setTestWhileIdle(true);
        pool.setTimeBetweenEvictionRuns(Duration.ofSeconds(30));
        pool.setJmxEnabled(false);
        return pool;
    }

    /**
     * @param redis the pooled client, whose slot map locates the key on a cluster
     * @param key   the key the connection will block on
     * @return a new connection of its own, for blocking reads that must not hold a pooled one: to
     *     the server, or on a cluster to the primary serving the key's slot now
     */
    public Connection newDedicatedConnection(UnifiedJedis redis, String key) {
        if (redis instanceof RedisClusterClient cluster) {
            HostAndPort node;
            try (Connection pooled = cluster.getConnectionFromSlot(JedisClusterCRC16.getSlot(key))) {
                node = pooled.getHostAndPort();
            }
            return new Connection(node, config);
        }
        return new Connection(address, config);
    }

    /** {@return a new connection of its own to {@code node}, connected, for one short exchange} */
    public Connection newConnection(HostAndPort node) {
        return new Connection(node, config);
    }

    /** {@return a new connection of its own to {@code node}, for a subscription, not connected yet} */
    public SubscriberConnection newSubscriberConnection(HostAndPort node) {
        return new SubscriberConnection(node, config);
    }

    public String clientName() {
        return clientName;
    }

    public int socketTimeoutMillis() {
        return toMillis(options.socketTimeout());
    }

    private static int toMillis(Duration d) {
        return (int) Math.min(Integer.MAX_VALUE, d.toMillis());
    }
}
