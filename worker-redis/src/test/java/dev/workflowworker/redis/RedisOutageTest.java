package dev.workflowworker.redis;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.LockProvider;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Redis going away and coming back, on a spawned server this test stops and starts. */
@ExtendWith(RedisServerExtension.class)
class RedisOutageTest {

    private static final Duration RECOVERY = Duration.ofSeconds(15);

    private static WorkflowEvent event(String id) {
        return WorkflowEvent.builder("T").eventId(id).build();
    }

    private static List<Delivery> pollUntil(EventTransport.Consumer c, int expected) {
        List<Delivery> all = new ArrayList<>();
        Await.until(RECOVERY, () -> {
            try {
                all.addAll(c.read(expected - all.size(), Duration.ofMillis(200)));
            } catch (RedisUnavailableException e) {
                return false;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            return all.size() >= expected;
        }, expected + " deliveries");
        return all;
    }

    @Test
    void operationsFailClearlyWhileRedisIsDownAndWorkAgainWhenItReturns(RedisServer redis) throws Exception {
        assertTrue(redis.isRestartable(), "this test needs a server it can stop: unset REDIS_URL");
        try (RedisEventTransport t = RedisEventTransport.create(redis.options().partitions(0).build())) {
            EventTransport.Consumer consumer = t.openConsumer("c1");
            LockProvider locks = t.locks();
            t.publish(event("before"));
            Delivery held = pollUntil(consumer, 1).get(0);

            redis.stop();

            RedisUnavailableException publishFailure =
                    assertThrows(RedisUnavailableException.class, () -> t.publish(event("during")));
            assertTrue(publishFailure.getMessage().contains(redis.uri().replace("redis://", "")),
                    publishFailure.getMessage());
            assertThrows(RedisUnavailableException.class, () -> consumer.read(1, Duration.ofMillis(100)));
            assertThrows(RedisUnavailableException.class, () -> consumer.completedAmong(List.of("before")).contains("before"));
            assertThrows(RedisUnavailableException.class, () -> consumer.complete(List.of(held)));
            assertThrows(RedisUnavailableException.class, () -> locks.tryAcquire("k", Duration.ofSeconds(5)));

            redis.start();

            // The pool's connections are stale now; the first publish must still succeed. Redis came
            // back empty (no persistence): the transport re-creates its group by itself.
            t.publish(event("after"));
            Delivery d = pollUntil(consumer, 1).get(0);
            assertEquals("after", d.eventId());
            consumer.complete(List.of(d));
            assertTrue(consumer.completedAmong(List.of("after")).contains("after"));
            assertTrue(locks.tryAcquire("k", Duration.ofSeconds(5)).isPresent());
        }
    }

    @Test
    void pollBacksOffInsteadOfSpinningWhileRedisIsDown(RedisServer redis) {
        try (RedisEventTransport t = RedisEventTransport.create(redis.options().partitions(0).build())) {
            EventTransport.Consumer consumer = t.openConsumer("c1");
            redis.stop();
            int attempts = 0;
            long end = System.nanoTime() + Duration.ofSeconds(2).toNanos();
            while (System.nanoTime() < end) {
                attempts++;
                assertThrows(RedisUnavailableException.class, () -> consumer.read(10, Duration.ofMillis(500)));
            }
            // Backoff doubles from 100 ms: a hot loop would make thousands of attempts in two seconds.
            assertTrue(attempts <= 12, attempts + " poll attempts in 2 s");
        }
    }

    @Test
    void transportCreatedWhileRedisIsDownConnectsOnceItIsUp(RedisServer redis) {
        redis.stop();
        try (RedisEventTransport t = RedisEventTransport.create(redis.options().partitions(0).build())) {
            EventTransport.Consumer consumer = t.openConsumer("c1");
            assertThrows(RedisUnavailableException.class, () -> consumer.read(1, Duration.ofMillis(50)));
            redis.start();
            Await.until(RECOVERY, () -> {
                try {
                    t.publish(event("first"));
                    return true;
                } catch (RedisUnavailableException e) {
                    return false;
                }
            }, "publish to succeed");
            assertEquals("first", pollUntil(consumer, 1).get(0).eventId());
        }
    }

    @Test
    void connectionFailureMessagesNeverContainThePassword() throws IOException {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        RedisOptions options = RedisOptions.fromUri("redis://admin:Sup3rSecretPw@127.0.0.1:" + closedPort + "/1")
                // The shared stream: its read fails with Redis away (a partitioned read owns nothing and returns none).
                .toBuilder().partitions(0).connectTimeout(Duration.ofMillis(200)).build();
        try (RedisEventTransport t = RedisEventTransport.create(options);
             RedisLockProvider locks = RedisLockProvider.create(options)) {
            List<RuntimeException> failures = new ArrayList<>();
            failures.add(assertThrows(RedisUnavailableException.class, () -> t.publish(event("x"))));
            failures.add(assertThrows(RedisUnavailableException.class,
                    () -> t.openConsumer("c").read(1, Duration.ofMillis(10))));
            failures.add(assertThrows(RedisUnavailableException.class,
                    () -> locks.tryAcquire("k", Duration.ofSeconds(1))));
            for (RuntimeException f : failures) {
                for (Throwable c = f; c != null; c = c.getCause()) {
                    assertFalse(String.valueOf(c.getMessage()).contains("Sup3rSecretPw"), c.toString());
                }
                assertTrue(f.getMessage().contains("admin:***@127.0.0.1:" + closedPort), f.getMessage());
            }
            assertFalse(t.options().toString().contains("Sup3rSecretPw"));
        }
    }
}
