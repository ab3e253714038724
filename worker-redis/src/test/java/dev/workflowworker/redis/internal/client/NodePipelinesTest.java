package dev.workflowworker.redis.internal.client;

import dev.workflowworker.redis.testsupport.SpawnedRedisCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.BuilderFactory;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.RedisClusterClient;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A cluster pipeline closed before its sync (its caller failed while queueing, e.g. no node was
 * known for a later call's slot): the commands it queued must not stay on a pooled connection,
 * where the next borrower would send them with its own and read their reply as its own.
 */
class NodePipelinesTest {

    private static SpawnedRedisCluster cluster;

    @BeforeAll
    static void startCluster() {
        cluster = SpawnedRedisCluster.start(3, 0);
    }

    @AfterAll
    static void stopCluster() {
        if (cluster != null) {
            cluster.close();
        }
    }

    @Test
    void aPipelineClosedWithoutItsSyncLeavesNoCommandOnAPooledConnection() {
        try (RedisClusterClient c = cluster.client()) {
            c.set("{np}a", "A");
            c.set("{np}b", "B");
            NodePipelines p = new NodePipelines(c);
            p.send("{np}a", new CommandArguments(Protocol.Command.GET).key("{np}a"), BuilderFactory.STRING);
            p.close();
            for (int i = 0; i < 4; i++) {
                assertEquals("B", c.get("{np}b"), "read " + i + " after the unsynced pipeline");
            }
        }
    }
}
