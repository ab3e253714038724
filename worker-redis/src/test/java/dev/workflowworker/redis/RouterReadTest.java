package dev.workflowworker.redis;

import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.internal.partitioned.RouterRead;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.Jedis;
import redis.clients.jedis.JedisMonitor;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The router's reads of the single stream (docs/ARCHITECTURE.md, "The single stream"): plain
 * commands, no script converting the reply, and still refused to a router whose lease is gone.
 */
@ExtendWith(RedisServerExtension.class)
class RouterReadTest {

    private static void seedXadd(RedisClient client, String stream, int i) {
        client.xadd(stream, StreamEntryID.NEW_ENTRY, Map.of("event_id", "e" + i, "execution_id", "x" + (i % 3),
                "event_type", "STEP", "payload_json", "{}"));
    }

    /**
     * What Redis runs while seed-format entries are routed, as MONITOR shows it: the router's
     * XREADGROUP is a command of its own, not one run inside a script ("[0 lua]"), where Redis
     * converted each reply into Lua tables and back.
     */
    @Test
    void theRouterReadsWithAPlainXreadgroupNotInAScript(RedisServer redis) throws Exception {
        RedisOptions options = redis.options().partitions(2).partitionLeaseTtl(Duration.ofSeconds(2)).build();
        URI u = URI.create(redis.uri());
        List<String> commands = new CopyOnWriteArrayList<>();
        CountDownLatch monitoring = new CountDownLatch(1);
        Jedis monitor = new Jedis(u.getHost(), u.getPort());
        Thread t = new Thread(() -> {
            try {
                monitor.monitor(new JedisMonitor() {
                    @Override
                    public void onCommand(String command) {
                        monitoring.countDown();
                        commands.add(command);
                    }
                });
            } catch (RuntimeException closed) {
                // the test closed the connection to end MONITOR
            }
        });
        t.start();
        try (RedisClient client = redis.client()) {
            client.ping();
            assertTrue(monitoring.await(10, TimeUnit.SECONDS), "MONITOR started");
            WorkerService s = WorkerService.builder().transport(RedisEventTransport.create(options))
                    .runtime(ctx -> { }).pollInterval(Duration.ofMillis(100)).build();
            s.start();
            try {
                for (int i = 0; i < 20; i++) {
                    seedXadd(client, options.stream(), i);
                }
                Await.until(Duration.ofSeconds(20), () -> client.xlen(options.partitionStream(0))
                        + client.xlen(options.partitionStream(1)) == 20, "the 20 entries to be routed");
            } finally {
                s.close();
            }
        } finally {
            monitor.getConnection().close();
            t.join(TimeUnit.SECONDS.toMillis(10));
        }
        List<String> reads = commands.stream().filter(c -> c.toUpperCase().contains("\"XREADGROUP\"")).toList();
        assertFalse(reads.isEmpty(), "the router read the single stream: " + commands.size() + " commands seen");
        assertTrue(reads.stream().noneMatch(c -> c.contains("lua]")), "reads run inside a script: " + reads);
    }

    /** A read under a lease value the lease key does not hold moves nothing into the pending list. */
    @Test
    void aReadUnderALeaseThatIsNotHeldMovesNothing(RedisServer redis) {
        RedisOptions options = redis.options().partitions(0).stream("router-read").build();
        try (RedisEventTransport transport = RedisEventTransport.create(options);
             RedisClient client = redis.client()) {
            client.xgroupCreate("src", "g", new StreamEntryID(0, 0), true);
            seedXadd(client, "src", 1);
            client.set("lease", "other");
            RouterRead read = new RouterRead(transport.client(), "src", "lease", "g");
            try {
                assertNull(read.read(List.of(), "me", 10, ">"), "a read under a lease that is not held is refused");
                assertEquals(0, client.xpending("src", "g").getTotal());
                client.set("lease", "me");
                RouterRead.Batch b = read.read(List.of(), "me", 10, ">");
                assertEquals(1, b.entries().size());
                assertEquals(1, client.xpending("src", "g").getTotal());
                String id = b.newest();
                // The next read acks what the previous batch routed, in its first round trip.
                assertEquals(0, read.read(List.of(id), "me", 10, ">").entries().size());
                assertEquals(0, client.xpending("src", "g").getTotal());
            } finally {
                read.close();
            }
        }
    }
}
