package dev.workflowworker.redis.internal.client;

import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.RedisOptions;
import dev.workflowworker.redis.testsupport.SpawnedCluster;
import dev.workflowworker.redis.testsupport.SpawnedRedisCluster;
import dev.workflowworker.redis.testsupport.SpawnedRedisServer;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.RedisClusterClient;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A node marked down whose replica then took its slots over: no key leads to it any more, so no
 * probe of it ever starts, and it stayed listed for good (every round then located each key it
 * sent, for nothing). It now leaves the list once the slot map no longer has it as a primary.
 */
@SpawnedCluster(replicas = 1)
class NodeHealthFailoverTest {

    private static SpawnedRedisCluster cluster;

    @Test
    void aFailedOverNodeLeavesTheDownListWhenTheSlotMapChanges() {
        RedisOptions options = cluster.options().socketTimeout(Duration.ofMillis(300))
                .connectTimeout(Duration.ofMillis(300)).build();
        RedisConnector connector = new RedisConnector(options, null, "node-health-failover-test");
        String key = "{fo}a";
        try (RedisClusterClient c = cluster.client();
             NodeHealth health = new NodeHealth(c, connector, TimeSource.system(),
                     new TransportThreads("node-health-failover-test"))) {
            SpawnedRedisServer old = cluster.masterOf(key);
            // Asked about no key before the kill: a probe then would find it up and forget it.
            health.failed(new HostAndPort("127.0.0.1", old.port()), "test");
            assertTrue(health.anyDown());
            cluster.killMasterAndAwaitFailover(old, Duration.ofSeconds(30));
            Topology.refresh(c);
            assertFalse(health.isDown(key), "the key's new primary is not down");
            Await.until(Duration.ofSeconds(5), () -> !health.anyDown(),
                    () -> "the failed-over node " + old + " is still listed down");
        }
    }
}
