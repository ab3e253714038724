package dev.workflowworker.redis.internal.client;

import dev.workflowworker.redis.testsupport.SpawnedCluster;
import dev.workflowworker.redis.testsupport.SpawnedRedisCluster;
import dev.workflowworker.redis.testsupport.SpawnedRedisServer;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.BuilderFactory;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.RedisClusterClient;
import redis.clients.jedis.exceptions.JedisConnectionException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A cluster pipeline closed before its sync (its caller failed while queueing, e.g. no node was
 * known for a later call's slot): the commands it queued must not stay on a pooled connection,
 * where the next borrower would send them with its own and read their reply as its own. And a
 * node that fails during the sync fails only its own calls, while its half-read connection is
 * never pooled.
 */
@SpawnedCluster(before = SpawnedCluster.Before.HEALTHY)
class NodePipelinesTest {

    private static SpawnedRedisCluster cluster;

    @Test
    void aPipelineClosedWithoutItsSyncLeavesNoCommandOnAPooledConnection() {
        try (RedisClusterClient c = cluster.client()) {
            c.set("{np}a", "A");
            c.set("{np}b", "B");
            NodePipelines p = new NodePipelines(c, null);
            p.send("{np}a", new CommandArguments(Protocol.Command.GET).key("{np}a"), BuilderFactory.STRING);
            p.close();
            for (int i = 0; i < 4; i++) {
                assertEquals("B", c.get("{np}b"), "read " + i + " after the unsynced pipeline");
            }
        }
    }

    /**
     * One master frozen (SIGSTOP) while a pipeline over all three is read: its read times out, so
     * its call has no reply and the others have theirs. It then wakes and answers the command it
     * was sent; had its connection gone back to the pool, the next borrower would read that reply
     * as its own.
     */
    @Test
    void aNodeThatFailsDuringTheSyncFailsOnlyItsOwnCallsAndItsConnectionIsNotPooled() {
        List<String> tags = oneTagPerMaster();
        try (RedisClusterClient c = quickClient()) {
            for (String t : tags) {
                c.set("{" + t + "}a", "A-" + t);
                c.set("{" + t + "}b", "B-" + t);
            }
            SpawnedRedisServer frozen = cluster.masterOf("{" + tags.get(1) + "}");
            Replies r;
            frozen.freeze();
            try {
                r = Topology.sendEach(c, 3, i -> new CommandArguments(Protocol.Command.GET).key("{" + tags.get(i) + "}a"),
                        i -> "{" + tags.get(i) + "}a", (i, e) -> false, 0, 0, () -> "three reads", null, false, null);
            } finally {
                frozen.thaw();
            }
            assertEquals("A-" + tags.get(0), StreamEntries.text(r.get(0)));
            assertEquals("A-" + tags.get(2), StreamEntries.text(r.get(2)));
            assertTrue(r.failed(1), "the frozen node's call has no reply");
            assertFalse(r.failed(0) || r.failed(2) || r.allFailed());
            assertThrows(JedisConnectionException.class, () -> r.get(1));
            assertThrows(JedisConnectionException.class, r::all, "all-or-nothing callers still see the failure");
            cluster.awaitHealthy(Duration.ofSeconds(30));
            for (int i = 0; i < 4; i++) {
                assertEquals("B-" + tags.get(1), c.get("{" + tags.get(1) + "}b"), "read " + i + " after the thaw");
            }
        }
    }

    /**
     * Review (review11b): a node that closed the pooled connections (CLIENT KILL here; a server
     * {@code timeout} or a proxy does the same) fails a call only on use. Idempotent calls are
     * sent once more on a fresh connection and all get their reply; calls that are not stay
     * without one, their outcome unknown. Before the resend, the first assertion failed.
     */
    @Test
    void idempotentCallsOfANodeThatClosedItsPooledConnectionsAreSentOnceMore() {
        List<String> tags = oneTagPerMaster();
        try (RedisClusterClient c = quickClient()) {
            for (String t : tags) {
                c.set("{" + t + "}a", "A-" + t);
            }
            SpawnedRedisServer closing = cluster.masterOf("{" + tags.get(1) + "}");
            for (boolean idempotent : new boolean[] {true, false}) {
                assertEquals(3, Topology.sendEach(c, 3, i -> get(tags, i), i -> "{" + tags.get(i) + "}a",
                        (i, e) -> false, 0, 0, () -> "warm", null, false, null).all().size());
                try (var j = closing.jedis()) {
                    j.sendCommand(Protocol.Command.CLIENT, "KILL", "TYPE", "normal", "SKIPME", "yes");
                }
                Replies r = Topology.sendEach(c, 3, i -> get(tags, i), i -> "{" + tags.get(i) + "}a",
                        (i, e) -> false, 0, 0, () -> "three reads", null, idempotent, null);
                if (idempotent) {
                    for (int i = 0; i < 3; i++) {
                        assertEquals("A-" + tags.get(i), StreamEntries.text(r.get(i)), "call " + i);
                    }
                    assertTrue(r.failedNodes().isEmpty());
                } else {
                    assertTrue(r.failed(1), "a call that may not run twice is not sent again");
                    assertEquals(List.of(new HostAndPort("127.0.0.1", closing.port())), r.failedNodes());
                    assertEquals("A-" + tags.get(0), StreamEntries.text(r.get(0)));
                }
            }
        }
    }

    /**
     * A node reported failed is down until a PING on a connection of its own reaches it: while it
     * is hung the probes time out, once it answers it is up, and other nodes are never down.
     */
    @Test
    void aFailedNodeIsDownUntilAProbeReachesIt() {
        List<String> tags = oneTagPerMaster();
        dev.workflowworker.redis.RedisOptions options = cluster.options().socketTimeout(Duration.ofMillis(300))
                .connectTimeout(Duration.ofMillis(300)).build();
        RedisConnector connector = new RedisConnector(options, null, "node-health-test");
        try (RedisClusterClient c = quickClient();
             NodeHealth health = new NodeHealth(c, connector, dev.workflowworker.core.TimeSource.system(),
                     new TransportThreads("node-health-test"))) {
            SpawnedRedisServer hung = cluster.masterOf("{" + tags.get(1) + "}");
            String onHung = "{" + tags.get(1) + "}a";
            assertFalse(health.anyDown());
            hung.freeze();
            try {
                health.failed(new HostAndPort("127.0.0.1", hung.port()), "test");
                assertTrue(health.anyDown());
                assertFalse(health.isDown("{" + tags.get(0) + "}a"), "another node is not down");
                // Each check starts a probe when one is due; a hung node answers none of them.
                long until = System.nanoTime() + Duration.ofSeconds(2).toNanos();
                while (System.nanoTime() < until) {
                    assertTrue(health.isDown(onHung), "a hung node came up");
                    java.util.concurrent.locks.LockSupport.parkNanos(10_000_000);
                }
            } finally {
                hung.thaw();
            }
            dev.workflowworker.core.testing.Await.until(Duration.ofSeconds(10), () -> !health.isDown(onHung),
                    () -> "the node answers again and is still down");
            assertFalse(health.anyDown());
        }
    }

    /**
     * Review (review-jnode): a monotonic reading is only meaningful as a difference of two
     * (TimeSource's contract; a host's clock, e.g. a fake one, may start anywhere, below zero
     * too). A node reported failed that answers at once must come up again on the first probe,
     * whatever the clock's origin; with the first probe due at reading 0, a clock reading below
     * zero never starts one, and the node's partitions are never read again.
     */
    @Test
    void aFailedNodeComesUpWhateverTheOriginOfTheMonotonicClock() {
        List<String> tags = oneTagPerMaster();
        dev.workflowworker.redis.RedisOptions options = cluster.options().socketTimeout(Duration.ofMillis(300))
                .connectTimeout(Duration.ofMillis(300)).build();
        RedisConnector connector = new RedisConnector(options, null, "node-health-test");
        dev.workflowworker.core.TimeSource belowZero = new dev.workflowworker.core.TimeSource() {
            @Override
            public long wallMillis() {
                return System.currentTimeMillis();
            }

            @Override
            public long nanoTime() {
                return System.nanoTime() - (1L << 62);
            }
        };
        try (RedisClusterClient c = quickClient();
             NodeHealth health = new NodeHealth(c, connector, belowZero, new TransportThreads("node-health-test"))) {
            SpawnedRedisServer node = cluster.masterOf("{" + tags.get(1) + "}");
            String onNode = "{" + tags.get(1) + "}a";
            health.failed(new HostAndPort("127.0.0.1", node.port()), "test");
            dev.workflowworker.core.testing.Await.until(Duration.ofSeconds(10), () -> !health.isDown(onNode),
                    () -> "a node that answers PING is still down: no probe started");
            assertFalse(health.anyDown());
        }
    }

    /**
     * A call whose only node timed out is not sent again by {@link StreamClient#call}, nor are the
     * pools dropped and the slot map read (which may ask the hung node too): each would wait about
     * as long again, on the one thread that commits (docs/ARCHITECTURE.md, "Redis Cluster").
     */
    @Test
    void aCallWhoseNodeTimedOutFailsAfterOneSocketTimeout() {
        List<String> tags = oneTagPerMaster();
        dev.workflowworker.redis.RedisOptions options = cluster.options().socketTimeout(Duration.ofMillis(300))
                .connectTimeout(Duration.ofMillis(300)).build();
        RedisConnector connector = new RedisConnector(options, null, "node-health-test");
        try (RedisClusterClient c = quickClient();
             NodeHealth health = new NodeHealth(c, connector, dev.workflowworker.core.TimeSource.system(),
                     new TransportThreads("node-health-test"))) {
            assertEquals(3, Topology.sendEach(c, 3, i -> get(tags, i), i -> "{" + tags.get(i) + "}a",
                    (i, e) -> false, 0, 0, () -> "warm", null, true, health).all().size());
            SpawnedRedisServer hung = cluster.masterOf("{" + tags.get(1) + "}");
            hung.freeze();
            try {
                long t0 = System.nanoTime();
                assertThrows(dev.workflowworker.redis.RedisUnavailableException.class,
                        () -> StreamClient.callRetryingOnce(c, options, "commit", () -> Topology.sendEach(c, 1,
                                i -> get(tags, 1), i -> "{" + tags.get(1) + "}a", (i, e) -> false, 0, 0,
                                () -> "commit", null, true, health).requireAny()));
                long ms = (System.nanoTime() - t0) / 1_000_000;
                // The client's socket timeout is 500 ms; a second send (or a map read) would double it.
                assertTrue(ms < 900, "a call to a hung node took " + ms + " ms");
            } finally {
                hung.thaw();
            }
        }
    }

    /** A node known down is not waited on: its calls fail at once, unsent; the other nodes answer. */
    @Test
    void callsToANodeKnownDownFailAtOnceAndTheOthersAreAnswered() {
        List<String> tags = oneTagPerMaster();
        dev.workflowworker.redis.RedisOptions options = cluster.options().socketTimeout(Duration.ofMillis(300))
                .connectTimeout(Duration.ofMillis(300)).build();
        RedisConnector connector = new RedisConnector(options, null, "node-health-test");
        try (RedisClusterClient c = quickClient();
             NodeHealth health = new NodeHealth(c, connector, dev.workflowworker.core.TimeSource.system(),
                     new TransportThreads("node-health-test"))) {
            assertEquals(3, Topology.sendEach(c, 3, i -> get(tags, i), i -> "{" + tags.get(i) + "}a",
                    (i, e) -> false, 0, 0, () -> "warm", null, true, health).all().size());
            SpawnedRedisServer hung = cluster.masterOf("{" + tags.get(1) + "}");
            hung.freeze();
            try {
                health.failed(new HostAndPort("127.0.0.1", hung.port()), "test");
                long t0 = System.nanoTime();
                Replies r = Topology.sendEach(c, 3, i -> get(tags, i), i -> "{" + tags.get(i) + "}a",
                        (i, e) -> false, 0, 0, () -> "round", null, true, health);
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertTrue(ms < 400, "calls beside a node known down took " + ms + " ms (socket timeout 500 ms)");
                assertTrue(r.failed(1));
                assertFalse(r.failed(0) || r.failed(2));
            } finally {
                hung.thaw();
            }
        }
    }

    private static CommandArguments get(List<String> tags, int i) {
        return new CommandArguments(Protocol.Command.GET).key("{" + tags.get(i) + "}a");
    }

    /** Hash tags whose slots lie on three different masters, in the order found. */
    private static List<String> oneTagPerMaster() {
        List<String> tags = new ArrayList<>();
        Set<Integer> ports = new HashSet<>();
        for (int i = 0; tags.size() < 3; i++) {
            if (ports.add(cluster.masterOf("{np" + i + "}").port())) {
                tags.add("np" + i);
            }
        }
        return tags;
    }

    /** A client whose reads give up within half a second, well inside the cluster's node timeout. */
    private static RedisClusterClient quickClient() {
        Set<HostAndPort> seeds = new HashSet<>();
        for (SpawnedRedisServer n : cluster.nodes()) {
            seeds.add(new HostAndPort("127.0.0.1", n.port()));
        }
        return RedisClusterClient.builder().nodes(seeds)
                .clientConfig(DefaultJedisClientConfig.builder().resp2().autoNegotiateProtocol(false)
                        .timeoutMillis(500).build())
                .build();
    }
}
