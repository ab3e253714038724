package dev.workflowworker.redis;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.redis.testsupport.SpawnedRedisCluster;
import dev.workflowworker.redis.testsupport.SpawnedRedisServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Connection;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.RedisClusterClient;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What a cluster does to calls whose reply is lost: a node that stops answering mid-pipeline, and
 * a node that runs a call after its caller gave up on it. Masters without replicas, so that a node
 * made to stall briefly is not failed over.
 */
class ClusterReviewTest {

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

    @BeforeEach
    void emptyCluster() {
        cluster.awaitHealthy(Duration.ofSeconds(30));
        cluster.flush();
    }

    private static RedisOptions.Builder quick() {
        return cluster.options().connectTimeout(Duration.ofMillis(300)).socketTimeout(Duration.ofMillis(500));
    }

    /**
     * Keeps {@code node} busy for {@code ms} with a script of another client: calls sent to it
     * meanwhile wait, and run when it ends, even those whose client gave up and disconnected.
     */
    private static Thread busy(SpawnedRedisServer node, long ms) throws InterruptedException {
        Connection c = new Connection(new HostAndPort("127.0.0.1", node.port()),
                DefaultJedisClientConfig.builder().resp2().autoNegotiateProtocol(false).timeoutMillis(5000).build());
        Thread t = new Thread(() -> {
            try (c) {
                c.executeCommand(new CommandArguments(Protocol.Command.EVAL).add(
                        "local s = redis.call('TIME') local t0 = s[1] * 1000000 + s[2] "
                                + "while true do local n = redis.call('TIME') "
                                + "if n[1] * 1000000 + n[2] - t0 > tonumber(ARGV[1]) * 1000 then break end end return 1")
                        .add(0).add(ms));
            }
        });
        t.start();
        // The script is on its way; the node takes it up at once, before anything sent later.
        Thread.sleep(100);
        return t;
    }

    /**
     * A publish to a node that stops answering mid-pipeline is a connection failure, as on one
     * server: tried once more, else {@link RedisUnavailableException}. Jedis's cluster pipeline
     * leaves the node's replies unset and {@code Response.get()} throws IllegalStateException.
     */
    @Test
    void publishToAStalledNodeFailsAsUnavailable() throws Exception {
        RedisOptions options = quick().stream("{stall}:events").build();
        try (RedisEventTransport transport = RedisEventTransport.create(options)) {
            transport.publish(WorkflowEvent.builder("STEP").eventId("warm").build());
            SpawnedRedisServer node = cluster.masterOf(options.stream());
            Thread b = busy(node, 1200);
            try {
                // Sent again on a fresh connection once (a duplicate entry at worst), which may
                // land once the node answers again; otherwise unavailable.
                transport.publish(WorkflowEvent.builder("STEP").eventId("e1").build());
            } catch (RedisUnavailableException expected) {
                // as on one server
            } catch (RuntimeException e) {
                fail("expected success or RedisUnavailableException, got " + e, e);
            } finally {
                b.join();
            }
        }
    }

    /**
     * The router's read moves entries into its pending list, so it must never run twice for one
     * call: the entries a read returns are exactly those it moved. A node that was busy when the
     * read was sent runs it later, after the caller's socket timed out; a client that sends the read
     * again meanwhile gets another read's reply, and the first read's entries stay pending unseen.
     */
    @Test
    void aReadScriptIsNotSentAgainAfterItsReplyWasLost() throws Exception {
        RedisOptions options = quick().stream("{once}:events").build();
        String stream = "{once}:src";
        String lease = "{once}:lease";
        try (RedisEventTransport transport = RedisEventTransport.create(options);
             RedisClusterClient admin = cluster.client()) {
            admin.xgroupCreate(stream, "g", redis.clients.jedis.StreamEntryID.XGROUP_LAST_ENTRY, true);
            for (int i = 0; i < 3; i++) {
                admin.xadd(stream, redis.clients.jedis.StreamEntryID.NEW_ENTRY, Map.of("n", Integer.toString(i)));
            }
            admin.set(lease, "me");
            admin.xgroupCreate(stream, "g2", new redis.clients.jedis.StreamEntryID(0, 0), false);
            SpawnedRedisServer node = cluster.masterOf(stream);
            Object reply = null;
            RuntimeException failure = null;
            Thread b = busy(node, 800);
            try {
                reply = Router.readOnce(transport, List.of(stream, lease), List.of("g2", "me", "1", ">", "0"));
            } catch (RuntimeException e) {
                failure = e;
            }
            b.join();
            long pending = admin.xpending(stream, "g2").getTotal();
            if (failure != null) {
                // Not known to have run: the caller pages through the pending list again. Fine.
                return;
            }
            List<?> entries = (List<?>) ((List<?>) reply).get(0);
            assertEquals(entries.size(), pending, "entries moved into the pending list by one call vs. returned to it");
        }
    }

    /**
     * Every node drops the pooled connections (CLIENT KILL), so the next cluster pipeline's reads
     * fail at once on every node. Jedis reads the nodes in parallel, and its reader threads remove
     * their node from the map the submitting thread is still iterating. Whatever that does, a
     * publish must succeed (tried again on fresh connections) or fail as unavailable.
     */
    @Test
    void aPipelineWhoseConnectionsAllDropFailsAsUnavailable() throws Exception {
        RedisOptions options = quick().stream("drops").partitions(12).build();
        List<WorkflowEvent> batch = new java.util.ArrayList<>();
        for (int i = 0; i < 24; i++) {
            batch.add(WorkflowEvent.builder("STEP").eventId("d" + i).executionId("x" + i).build());
        }
        try (RedisEventTransport transport = RedisEventTransport.create(options)) {
            for (int round = 0; round < 30; round++) {
                transport.publishAll(batch);
                for (SpawnedRedisServer m : cluster.masters()) {
                    try (redis.clients.jedis.Jedis j = m.jedis()) {
                        j.sendCommand(Protocol.Command.CLIENT, "KILL", "TYPE", "normal", "SKIPME", "yes");
                    }
                }
                try {
                    transport.publishAll(batch);
                } catch (RedisUnavailableException expected) {
                    // fine
                } catch (RuntimeException e) {
                    fail("round " + round + ": expected success or RedisUnavailableException, got " + e, e);
                }
            }
        }
    }

    /**
     * The idle wait keeps a blocking connection per owned partition. When another instance takes
     * partitions over, the waits of the partitions this one no longer owns must not keep their
     * connections open for the life of the transport.
     */
    @Test
    void waitsOfPartitionsNoLongerOwnedLetTheirConnectionsGo() throws Exception {
        RedisOptions options = quick().stream("waits").partitions(6).partitionLeaseTtl(Duration.ofSeconds(2)).build();
        try (RedisEventTransport a = RedisEventTransport.create(options)) {
            dev.workflowworker.api.spi.EventTransport.Consumer ca = a.openConsumer("a");
            dev.workflowworker.core.testing.Await.until(Duration.ofSeconds(15), () -> a.ownedPartitions().size() == 6,
                    "a owns every partition");
            ca.read(10, Duration.ofMillis(300));
            ClusterWaits waits = a.partitions().clusterWaits();
            assertEquals(6, waits.connections(), "one wait connection per owned partition");
            try (RedisEventTransport b = RedisEventTransport.create(options)) {
                dev.workflowworker.api.spi.EventTransport.Consumer cb = b.openConsumer("b");
                long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
                while (!(a.ownedPartitions().size() == 3 && b.ownedPartitions().size() == 3)) {
                    if (System.nanoTime() - deadline > 0) {
                        fail("no even share: a " + a.ownedPartitions() + ", b " + b.ownedPartitions());
                    }
                    cb.read(10, Duration.ofMillis(100));
                    ca.read(10, Duration.ofMillis(100));
                }
                // Two idle waits, longer than the blocks left from before the hand-over.
                ca.read(10, Duration.ofMillis(400));
                ca.read(10, Duration.ofMillis(400));
                assertEquals(3, waits.connections(), "wait connections of " + a.ownedPartitions() + " owned now");
            }
        }
    }
}
