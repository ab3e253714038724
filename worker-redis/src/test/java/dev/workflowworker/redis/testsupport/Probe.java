package dev.workflowworker.redis.testsupport;

import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;

/** Single connections for probing and flushing a test server. */
final class Probe {

    private Probe() {
    }

    static Jedis jedis(String host, int port, int timeoutMillis) {
        // Explicit RESP2 keeps Jedis from warning on every connection that it cannot auto-negotiate.
        return new Jedis(new HostAndPort(host, port), DefaultJedisClientConfig.builder()
                .resp2().autoNegotiateProtocol(false).timeoutMillis(timeoutMillis).build());
    }
}
