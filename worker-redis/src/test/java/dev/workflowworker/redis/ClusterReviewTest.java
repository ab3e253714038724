package dev.workflowworker.redis;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.internal.client.Topology;
import dev.workflowworker.redis.internal.partitioned.PartitionProbe;
import dev.workflowworker.redis.internal.partitioned.RouterRead;
import dev.workflowworker.redis.testsupport.SpawnedCluster;
import dev.workflowworker.redis.testsupport.SpawnedRedisCluster;
import dev.workflowworker.redis.testsupport.SpawnedRedisServer;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.CommandArguments;
import redis.clients.jedis.Connection;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.RedisClusterClient;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What a cluster does to calls whose reply is lost: a node that stops answering mid-pipeline, and
 * a node that runs a call after its caller gave up on it. Masters without replicas, so that a node
 * made to stall briefly is not failed over, and a node timeout longer than any stall here: past the
 * usual 1.5 s the other masters flag the stalled one failed and refuse every call for seconds after.
 */
@SpawnedCluster(before = SpawnedCluster.Before.EMPTY, args = {"--cluster-node-timeout", "10000"})
class ClusterReviewTest {

    private static SpawnedRedisCluster cluster;

    /**
     * How long a node is made to stall: two socket timeouts of {@link #quick()} (a call's read, and
     * the pool's replacement of the broken connection) fit in it four times over, and it stays under
     * Redis's 5 s busy-script threshold, past which the node would answer BUSY instead of nothing.
     */
    private static final long STALL_MILLIS = 4_000;

    private static RedisOptions.Builder quick() {
        return cluster.options().connectTimeout(Duration.ofMillis(300)).socketTimeout(Duration.ofMillis(500));
    }

    /**
     * Keeps {@code node} busy for {@code ms} with a script of another client: calls sent to it
     * meanwhile wait, and run when it ends, even those whose client gave up and disconnected. The
     * thread ends when the script's reply comes, so while it is alive the node has not answered.
     */
    private static Thread busy(SpawnedRedisServer node, long ms) throws InterruptedException {
        Connection c = new Connection(new HostAndPort("127.0.0.1", node.port()),
                DefaultJedisClientConfig.builder().resp2().autoNegotiateProtocol(false).timeoutMillis(10_000).build());
        java.util.concurrent.CountDownLatch sent = new java.util.concurrent.CountDownLatch(1);
        Thread t = new Thread(() -> {
            try (c) {
                c.sendCommand(new CommandArguments(Protocol.Command.EVAL).add(
                        "local s = redis.call('TIME') local t0 = s[1] * 1000000 + s[2] "
                                + "while true do local n = redis.call('TIME') "
                                + "if n[1] * 1000000 + n[2] - t0 > tonumber(ARGV[1]) * 1000 then break end end return 1")
                        .add(0).add(ms));
                c.getMany(0); // flushes, reads nothing
                sent.countDown();
                c.getOne();
            }
        });
        t.start();
        // A PING unanswered within 50 ms means busy only once the script is on its way: on a loaded
        // machine an idle node can be that slow too, and the caller's call would then run first.
        assertTrue(sent.await(10, java.util.concurrent.TimeUnit.SECONDS), "the script was not sent");
        Await.until(Duration.ofSeconds(5), () -> !answers(node), () -> node + " to be busy with the script");
        return t;
    }

    /** Whether {@code node} answers a PING within 50 ms; a busy node answers none until the script ends. */
    private static boolean answers(SpawnedRedisServer node) {
        try (Jedis j = new Jedis(new HostAndPort("127.0.0.1", node.port()),
                DefaultJedisClientConfig.builder().resp2().autoNegotiateProtocol(false).timeoutMillis(50).build())) {
            return "PONG".equals(j.ping());
        } catch (redis.clients.jedis.exceptions.JedisConnectionException e) {
            return false;
        }
    }

    /**
     * A publish to a node that stops answering mid-pipeline is a connection failure, as on one
     * server: tried once more, else {@link RedisUnavailableException}. Jedis's cluster pipeline
     * leaves the node's replies unset and {@code Response.get()} throws IllegalStateException.
     * The node stalls longer than both tries (each at most the 300 ms connect and 500 ms socket
     * timeout), so unavailable is the one right outcome.
     */
    @Test
    void publishToAStalledNodeFailsAsUnavailable() throws Exception {
        RedisOptions options = quick().partitions(0).stream("{stall}:events").build();
        try (RedisEventTransport transport = RedisEventTransport.create(options)) {
            transport.publish(WorkflowEvent.builder("STEP").eventId("warm").build());
            SpawnedRedisServer node = cluster.masterOf(options.stream());
            Thread b = busy(node, STALL_MILLIS);
            try {
                assertThrows(RedisUnavailableException.class,
                        () -> transport.publish(WorkflowEvent.builder("STEP").eventId("e1").build()));
            } finally {
                b.join();
            }
        }
    }

    /**
     * The router's read moves entries into its pending list, so it must never run twice for one
     * call: the entries a read returns are exactly those it moved. Its second round trip (MULTI,
     * XREADGROUP, XREVRANGE, EXEC) runs on the node and its reply is lost: the node closes the
     * connection instead of sending it, as it does to a normal client whose reply passes the
     * output buffer's hard limit (set low here, below the EXEC's reply and far above the lease
     * check's). A client that sent the read again would move a second entry; the caller must
     * instead fail and page through the pending list, where the one entry moved is, once.
     */
    @Test
    void aReadScriptIsNotSentAgainAfterItsReplyWasLost() throws Exception {
        RedisOptions options = quick().partitions(0).stream("{once}:events").build();
        String stream = "{once}:src";
        String lease = "{once}:lease";
        String big = "x".repeat(256 * 1024);
        try (RedisEventTransport transport = RedisEventTransport.create(options);
             RedisClusterClient admin = cluster.client()) {
            admin.xgroupCreate(stream, "g2", redis.clients.jedis.StreamEntryID.XGROUP_LAST_ENTRY, true);
            List<String> ids = new java.util.ArrayList<>();
            for (int i = 0; i < 3; i++) {
                ids.add(admin.xadd(stream, redis.clients.jedis.StreamEntryID.NEW_ENTRY,
                        Map.of("n", Integer.toString(i), "pad", big)).toString());
            }
            admin.set(lease, "me");
            SpawnedRedisServer node = cluster.masterOf(stream);
            long watches;
            long execs;
            try (Jedis j = node.jedis()) {
                watches = calls(j, "watch");
                execs = calls(j, "exec");
                // 64 KiB: the EXEC's reply (two 256 KiB entries) passes it, the WATCH/GET replies and
                // the test's own small calls stay far below it.
                j.configSet("client-output-buffer-limit", "normal 65536 65536 0");
            }
            try {
                assertThrows(RedisUnavailableException.class,
                        () -> new RouterRead(transport.client(), stream, lease, "g2").read(List.of(), "me", 1, ">"),
                        "a read whose reply was lost fails; the caller pages through the pending list again");
            } finally {
                try (Jedis j = node.jedis()) {
                    j.configSet("client-output-buffer-limit", "normal 0 0 0");
                }
            }
            try (Jedis j = node.jedis()) {
                assertEquals(1, calls(j, "exec") - execs, "the read's transaction ran once: its reply, not the lease "
                        + "check's, was lost, and it was not sent again");
                assertEquals(1, calls(j, "watch") - watches, "the read was not begun again");
            }
            assertEquals(1, admin.xpending(stream, "g2").getTotal(), "the one lost read moved one entry (COUNT 1)");
            // The caller's recovery: the pending list holds that entry, once; the next new entry is the second.
            RouterRead again = new RouterRead(transport.client(), stream, lease, "g2");
            RouterRead.Batch pending = again.read(List.of(), "me", 10, "0");
            assertEquals(List.of(ids.get(0)), entryIds(pending), "the entry the lost read moved, once");
            assertEquals(List.of(ids.get(1)), entryIds(again.read(List.of(), "me", 1, ">")),
                    "the next read moves the next entry: nothing is routed twice");
            again.close();
        }
    }

    /** {@return how many times {@code command} ran on the server so far, from INFO commandstats} */
    private static long calls(Jedis j, String command) {
        for (String line : j.info("commandstats").split("\r?\n")) {
            if (line.startsWith("cmdstat_" + command + ":calls=")) {
                String v = line.substring(("cmdstat_" + command + ":calls=").length());
                return Long.parseLong(v.substring(0, v.indexOf(',')));
            }
        }
        return 0;
    }

    private static List<String> entryIds(RouterRead.Batch batch) {
        List<String> out = new java.util.ArrayList<>();
        for (Object e : batch.entries()) {
            out.add(dev.workflowworker.redis.internal.client.StreamEntries.text(((List<?>) e).get(0)));
        }
        return out;
    }

    /**
     * Every node drops the pooled connections (CLIENT KILL), so the next cluster pipeline's reads
     * fail at once on every node. Jedis reads the nodes in parallel, and its reader threads remove
     * their node from the map the submitting thread is still iterating. Whatever that does, it is
     * a connection failure, tried again on fresh connections to nodes that are up: the publish
     * succeeds, and each round's events are written once.
     */
    @Test
    void aPipelineWhoseConnectionsAllDropIsTriedAgainOnFreshConnections() throws Exception {
        publishAroundDrops("drops", 30, (round, master) -> true);
    }

    /**
     * Two of the three masters drop their connections (CLIENT KILL) and the third keeps its own:
     * the next publish across them finds two nodes' pooled connections closed by the server while
     * they sat idle. That is a stale pool, not a failed node, as when every node's connections
     * dropped: those nodes' calls go again on fresh connections, and the publish succeeds with
     * each event written once. (The transport's own ownership round, meeting one node's dropped
     * connection first and replacing it, now and then left the case above with this mix, and the
     * publish failed as partial for nothing.)
     */
    @Test
    void aPublishWhoseConnectionsDroppedOnSomeNodesIsTriedAgainThereOnFreshConnections() throws Exception {
        publishAroundDrops("mixed", 6, (round, master) -> master != round % cluster.masters().size());
    }

    /**
     * Publishes a batch over 12 partitions twice a round, the masters {@code drops} names (by round
     * and master index) dropping every connection in between, and checks each batch was written once.
     */
    private static void publishAroundDrops(String stream, int rounds,
                                           java.util.function.BiPredicate<Integer, Integer> drops) {
        // Not the quick timeouts: what these cases are about is dropped connections, and under load a
        // reply slower than 500 ms would be a timeout, which is (rightly) not sent again.
        RedisOptions options = cluster.options().stream(stream).partitions(12).build();
        List<WorkflowEvent> batch = new java.util.ArrayList<>();
        for (int i = 0; i < 24; i++) {
            batch.add(WorkflowEvent.builder("STEP").eventId(stream + i).executionId("x" + i).build());
        }
        List<SpawnedRedisServer> masters = cluster.masters();
        try (RedisEventTransport transport = RedisEventTransport.create(options)) {
            for (int round = 0; round < rounds; round++) {
                transport.publishAll(batch);
                for (int m = 0; m < masters.size(); m++) {
                    if (drops.test(round, m)) {
                        try (Jedis j = masters.get(m).jedis()) {
                            j.sendCommand(Protocol.Command.CLIENT, "KILL", "TYPE", "normal", "SKIPME", "yes");
                        }
                    }
                }
                transport.publishAll(batch);
            }
        }
        try (RedisClusterClient admin = cluster.client()) {
            long written = 0;
            for (int p = 0; p < 12; p++) {
                written += admin.xlen(TestKeys.partitionStream(options, p));
            }
            assertEquals(rounds * 2 * batch.size(), written, "two batches a round, each written once");
        }
    }

    /**
     * The idle wait keeps one subscription connection per node that serves an owned partition,
     * not one per partition. When another instance takes partitions over, this one's connections
     * to nodes where it owns nothing any more must go, not stay for the life of the transport.
     */
    @Test
    void waitsOfPartitionsNoLongerOwnedLetTheirConnectionsGo() throws Exception {
        RedisOptions options = quick().stream("waits").partitions(6).partitionLeaseTtl(Duration.ofSeconds(2)).build();
        java.util.concurrent.atomic.AtomicInteger waitConnections = new java.util.concurrent.atomic.AtomicInteger();
        PartitionProbe probe = new PartitionProbe() {
            @Override
            public void waitConnection(int change) {
                waitConnections.addAndGet(change);
            }
        };
        try (RedisEventTransport a = RedisEventTransport.create(options, dev.workflowworker.core.TimeSource.system(), probe)) {
            dev.workflowworker.api.spi.EventTransport.Consumer ca = a.openConsumer("a");
            dev.workflowworker.core.testing.Await.until(Duration.ofSeconds(15), () -> a.ownedPartitions().size() == 6,
                    "a owns every partition");
            ca.read(10, Duration.ofMillis(300));
            dev.workflowworker.core.testing.Await.until(Duration.ofSeconds(5),
                    () -> readOnce(ca) && waitConnections.get() == 3,
                    () -> "one wait connection per master, not per partition: " + waitConnections.get());
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
                java.util.Set<Integer> masters = new java.util.HashSet<>();
                for (int p : a.ownedPartitions()) {
                    masters.add(cluster.masterOf(TestKeys.partitionStream(options, p)).port());
                }
                dev.workflowworker.core.testing.Await.until(Duration.ofSeconds(5),
                        () -> readOnce(ca) && waitConnections.get() == masters.size(),
                        () -> "wait connections " + waitConnections.get() + " for the masters " + masters + " of "
                                + a.ownedPartitions() + " owned now");
            }
        }
    }

    private static final String SPIN = "local s = redis.call('TIME') local t0 = s[1] * 1000000 + s[2] "
            + "while true do local n = redis.call('TIME') "
            + "if n[1] * 1000000 + n[2] - t0 > tonumber(ARGV[1]) * 1000 then break end end return ARGV[2]";

    /** {@return one key on each master, named {@code prefix} and a number} */
    private static List<String> keyPerMaster(String prefix) {
        List<String> keys = new java.util.ArrayList<>();
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (int i = 0; keys.size() < cluster.masters().size(); i++) {
            String k = prefix + i;
            if (seen.add(cluster.masterOf(k).port())) {
                keys.add(k);
            }
        }
        return keys;
    }

    /**
     * A pipeline over three masters whose calls each keep their node busy 400 ms: the nodes work
     * at once (about 400 ms), not one after the other (at least 1200 ms, as when each node's
     * commands were flushed only once the node before it had answered).
     */
    @Test
    void aPipelineOverSeveralNodesKeepsThemBusyAtOnce() throws Exception {
        RedisOptions options = cluster.options().partitions(0).stream("{overlap}:events").build();
        List<String> keys = keyPerMaster("overlap-");
        try (RedisEventTransport t = RedisEventTransport.create(options)) {
            for (int round = 0; round < 2; round++) {
                long t0 = System.nanoTime();
                List<Object> replies = Topology.sendAll(t.client().redis(), keys.size(),
                        i -> new CommandArguments(Protocol.Command.EVAL).add(SPIN).add(1).key(keys.get(i)).add(400)
                                .add("r" + i), keys::get, (i, e) -> false, 0, 0, () -> "spin");
                long ms = (System.nanoTime() - t0) / 1_000_000;
                assertEquals(List.of("r0", "r1", "r2"), replies.stream()
                        .map(dev.workflowworker.redis.internal.client.StreamEntries::text).toList());
                assertTrue(ms < 1000, "three nodes busy 400 ms each answered in " + ms + " ms");
            }
        }
    }

    /**
     * A node that stops answering mid-pipeline fails the call within the socket timeout, and the
     * other nodes' connections go back clean: the next pipeline gets each key's own value, not a
     * reply left over from the failed one.
     */
    @Test
    void aStalledNodeFailsItsPipelineWithoutHangingOrCorruptingTheOthers() throws Exception {
        RedisOptions options = quick().partitions(0).stream("{stalled}:events").build();
        List<String> keys = keyPerMaster("stalled-");
        try (RedisEventTransport t = RedisEventTransport.create(options);
             RedisClusterClient admin = cluster.client()) {
            for (int i = 0; i < keys.size(); i++) {
                admin.set(keys.get(i), "v" + i);
            }
            java.util.function.Supplier<List<Object>> getAll = () -> Topology.sendAll(t.client().redis(), keys.size(),
                    i -> new CommandArguments(Protocol.Command.GET).key(keys.get(i)), keys::get, (i, e) -> false, 0, 0,
                    () -> "get");
            getAll.get();
            Thread b = busy(cluster.masterOf(keys.get(1)), STALL_MILLIS);
            try {
                long t0 = System.nanoTime();
                assertThrows(redis.clients.jedis.exceptions.JedisConnectionException.class, getAll::get);
                long ms = (System.nanoTime() - t0) / 1_000_000;
                // Not hanging means failing before the node answers again, whatever the machine's load:
                // the read's socket timeout, then the pool's replacement of the closed connection (another).
                assertTrue(b.isAlive(), "failed after " + ms + " ms, only once the stalled node answered again");
            } finally {
                b.join();
            }
            for (int round = 0; round < 3; round++) {
                assertEquals(List.of("v0", "v1", "v2"), getAll.get().stream()
                        .map(dev.workflowworker.redis.internal.client.StreamEntries::text).toList());
            }
        }
    }

    /** One idle read: the reader's wait brings its subscriptions in line with what it owns. */
    private static boolean readOnce(dev.workflowworker.api.spi.EventTransport.Consumer c) {
        try {
            c.read(10, Duration.ofMillis(200));
            return true;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
