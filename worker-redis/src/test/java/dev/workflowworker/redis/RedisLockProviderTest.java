package dev.workflowworker.redis;

import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.api.spi.LockProvider;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

@ExtendWith(RedisServerExtension.class)
class RedisLockProviderTest {

    private static final Duration TTL = Duration.ofSeconds(10);

    @Test
    void onlyOneHolderAtATime(RedisServer redis) {
        try (RedisLockProvider locks = RedisLockProvider.create(redis.options().partitions(0).build())) {
            Optional<Lock> first = locks.tryAcquire("exec-1", TTL);
            assertTrue(first.isPresent());
            assertTrue(locks.tryAcquire("exec-1", TTL).isEmpty());
            assertTrue(locks.tryAcquire("exec-2", TTL).isPresent(), "other keys are independent");
            first.get().release();
            assertTrue(locks.tryAcquire("exec-1", TTL).isPresent());
        }
    }

    @Test
    void contendedAcquisitionsNeverOverlap(RedisServer redis) throws Exception {
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try (RedisEventTransport transport = RedisEventTransport.create(redis.options().partitions(0).build())) {
            LockProvider locks = transport.locks();
            AtomicInteger inside = new AtomicInteger();
            AtomicInteger maxInside = new AtomicInteger();
            AtomicInteger acquired = new AtomicInteger();
            CountDownLatch go = new CountDownLatch(1);
            List<Future<?>> futures = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                futures.add(pool.submit(() -> {
                    go.await();
                    for (int n = 0; n < 50; n++) {
                        Optional<Lock> lock = locks.tryAcquire("shared", TTL);
                        if (lock.isPresent()) {
                            acquired.incrementAndGet();
                            maxInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
                            inside.decrementAndGet();
                            lock.get().release();
                        }
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : futures) {
                f.get(30, TimeUnit.SECONDS);
            }
            assertEquals(1, maxInside.get());
            assertTrue(acquired.get() > 0);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void fencingTokensIncreaseStrictlyAndOnlyOnSuccess(RedisServer redis) {
        try (RedisLockProvider locks = RedisLockProvider.create(redis.options().partitions(0).build())) {
            long previous = 0;
            for (int i = 0; i < 5; i++) {
                Lock lock = locks.tryAcquire("exec-f", TTL).orElseThrow();
                assertTrue(lock.fencingToken() > previous, lock.fencingToken() + " after " + previous);
                previous = lock.fencingToken();
                assertTrue(locks.tryAcquire("exec-f", TTL).isEmpty());
                lock.release();
            }
            assertEquals(previous + 1, locks.tryAcquire("exec-f", TTL).orElseThrow().fencingToken(),
                    "failed attempts drew no token");
        }
    }

    @Test
    void renewExtendsALiveLease(RedisServer redis) {
        try (RedisLockProvider locks = RedisLockProvider.create(redis.options().partitions(0).build());
             RedisClient client = redis.client()) {
            Lock lock = locks.tryAcquire("exec-r", Duration.ofSeconds(2)).orElseThrow();
            assertTrue(lock.renew(Duration.ofSeconds(60)));
            assertTrue(client.pttl("workflow:lock:exec-r") > 10_000);
        }
    }

    @Test
    void expiredLeaseCannotBeRenewedAndTheNextHolderGetsAHigherToken(RedisServer redis) {
        try (RedisLockProvider locks = RedisLockProvider.create(redis.options().partitions(0).build());
             RedisClient client = redis.client()) {
            Lock stale = locks.tryAcquire("exec-x", Duration.ofMillis(100)).orElseThrow();
            Await.until(Duration.ofSeconds(5), () -> !client.exists("workflow:lock:exec-x"), "the lease to expire");
            Lock next = locks.tryAcquire("exec-x", TTL).orElseThrow();

            assertFalse(stale.renew(TTL));
            assertTrue(next.fencingToken() > stale.fencingToken());
            stale.release();
            assertTrue(client.exists("workflow:lock:exec-x"), "a stale holder must not delete its successor's lock");
            assertTrue(next.renew(TTL));
        }
    }

    @Test
    void releasedLockCannotBeRenewed(RedisServer redis) {
        try (RedisLockProvider locks = RedisLockProvider.create(redis.options().partitions(0).build())) {
            Lock lock = locks.tryAcquire("exec-z", TTL).orElseThrow();
            lock.release();
            lock.release();
            assertFalse(lock.renew(TTL));
        }
    }

    @Test
    void fencingStateStaysConstantAcrossManyKeys(RedisServer redis) {
        try (RedisLockProvider locks = RedisLockProvider.create(redis.options().partitions(0).build())) {
            long last = 0;
            for (int i = 0; i < 500; i++) {
                Lock lock = locks.tryAcquire("exec-many-" + i, TTL).orElseThrow();
                assertTrue(lock.fencingToken() > last, "tokens increase");
                last = lock.fencingToken();
                lock.release();
            }
            try (RedisClient client = redis.client()) {
                assertEquals(1, client.keys("workflow:fence*").size(), "one counter, not one per key");
                assertEquals(0, client.keys("workflow:lock:exec-many-*").size(), "released locks leave nothing");
            }
        }
    }
}
