package dev.workflowworker.redis;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(RedisServerExtension.class)
class RetryMoverTest {

    private static final int EVENTS = 300;
    private static final int MOVERS = 6;

    @Test
    void concurrentMoversReturnEachDueRetryExactlyOnce(RedisServer redis) throws Exception {
        List<RedisEventTransport> transports = new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(MOVERS);
        try (RedisClient client = redis.client()) {
            for (int i = 0; i < MOVERS; i++) {
                transports.add(RedisEventTransport.create(redis.options().partitions(0).build()));
            }
            RedisEventTransport producer = transports.get(0);
            for (int i = 0; i < EVENTS; i++) {
                producer.publish(WorkflowEvent.builder("T").eventId("ev-" + i).build());
            }
            EventTransport.Consumer consumer = producer.openConsumer("c1");
            List<Delivery> first = drain(consumer, EVENTS);
            Instant due = Instant.now().minusMillis(1);
            for (Delivery d : first) {
                consumer.retryAt(d, due, 2);
            }
            assertEquals(EVENTS, client.zcard("workflow:events:global:retry"));

            CountDownLatch go = new CountDownLatch(1);
            List<Future<Integer>> moved = new ArrayList<>();
            for (RedisEventTransport t : transports) {
                moved.add(pool.submit(() -> {
                    go.await();
                    int n = 0;
                    for (int round = 0; round < 10; round++) {
                        n += t.moveDueRetries();
                    }
                    return n;
                }));
            }
            go.countDown();
            int total = 0;
            for (Future<Integer> f : moved) {
                total += f.get(30, TimeUnit.SECONDS);
            }

            assertEquals(EVENTS, total, "moved in all");
            assertEquals(0, client.zcard("workflow:events:global:retry"));
            List<Delivery> again = drain(consumer, EVENTS);
            Map<String, Integer> seen = new HashMap<>();
            for (Delivery d : again) {
                seen.merge(d.eventId(), 1, Integer::sum);
                assertEquals(2, d.attempt());
            }
            assertEquals(EVENTS, seen.size(), "no loss");
            assertTrue(seen.values().stream().allMatch(n -> n == 1), "no duplicate");
            assertEquals(EVENTS * 2L, client.xlen("workflow:events:global"));
        } finally {
            pool.shutdownNow();
            transports.forEach(RedisEventTransport::close);
        }
    }

    @Test
    void retriesNotYetDueStayInTheSet(RedisServer redis) throws Exception {
        try (RedisEventTransport t = RedisEventTransport.create(redis.options().partitions(0).build());
             RedisClient client = redis.client()) {
            t.publish(WorkflowEvent.builder("T").eventId("later").build());
            EventTransport.Consumer c = t.openConsumer("c1");
            c.retryAt(drain(c, 1).get(0), Instant.now().plus(Duration.ofHours(1)), 2);

            assertEquals(0, t.moveDueRetries());
            assertTrue(c.read(10, Duration.ofMillis(100)).isEmpty());
            assertEquals(1, client.zcard("workflow:events:global:retry"));
        }
    }

    private static List<Delivery> drain(EventTransport.Consumer c, int expected) throws InterruptedException {
        List<Delivery> all = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (all.size() < expected && System.nanoTime() < deadline) {
            all.addAll(c.read(100, Duration.ofMillis(200)));
        }
        assertEquals(expected, all.size());
        return all;
    }
}
