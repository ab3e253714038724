package dev.workflowworker.core.memory;

import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.core.testing.FakeClock;
import org.junit.jupiter.api.Test;

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

class InMemoryLockProviderTest {

    private final FakeClock clock = new FakeClock();
    private final InMemoryLockProvider locks = new InMemoryLockProvider(clock);
    private final Duration ttl = Duration.ofSeconds(10);

    @Test
    void secondHolderIsRefusedUntilRelease() {
        Lock a = locks.tryAcquire("k", ttl).orElseThrow();
        assertTrue(locks.tryAcquire("k", ttl).isEmpty());
        assertTrue(locks.tryAcquire("other", ttl).isPresent());
        a.release();
        Lock b = locks.tryAcquire("k", ttl).orElseThrow();
        assertTrue(b.fencingToken() > a.fencingToken());
    }

    @Test
    void aLeaseHeldForACommitOutlivesItsTtlUntilReleased() {
        Lock a = locks.tryAcquire("k", ttl).orElseThrow();
        assertTrue(locks.holdUntilReleased(a));
        assertTrue(a.renew(Duration.ofMillis(1)), "a renewal racing the commit does not shorten the hold");
        clock.advance(ttl.multipliedBy(3));
        assertTrue(locks.tryAcquire("k", ttl).isEmpty(), "no new holder while the commit runs");
        a.release();
        assertTrue(locks.tryAcquire("k", ttl).isPresent());
    }

    @Test
    void aLostLeaseCannotBeHeldForACommit() {
        Lock a = locks.tryAcquire("k", ttl).orElseThrow();
        clock.advance(ttl);
        assertFalse(locks.holdUntilReleased(a), "expired");
        Lock b = locks.tryAcquire("k", ttl).orElseThrow();
        assertFalse(locks.holdUntilReleased(a), "another holder's");
        assertFalse(new InMemoryLockProvider(clock).holdUntilReleased(b), "another provider's");
        clock.advance(ttl);
        assertTrue(locks.tryAcquire("k", ttl).isPresent(), "the failed holds pinned nothing");
    }

    @Test
    void expiredLeaseIsTakenOverWithHigherTokenAndOldHolderCannotRenewOrRelease() {
        Lock a = locks.tryAcquire("k", ttl).orElseThrow();
        clock.advance(Duration.ofSeconds(9));
        assertTrue(a.renew(ttl));
        clock.advance(Duration.ofSeconds(9));
        assertTrue(locks.tryAcquire("k", ttl).isEmpty(), "renewed lease must still hold");
        clock.advance(Duration.ofSeconds(2));
        Lock b = locks.tryAcquire("k", ttl).orElseThrow();
        assertTrue(b.fencingToken() > a.fencingToken());
        assertFalse(a.renew(ttl));
        a.release();
        assertTrue(locks.tryAcquire("k", ttl).isEmpty(), "a stale holder's release must not free the new lease");
        assertTrue(b.renew(ttl));
    }

    @Test
    void renewAfterExpiryFailsEvenIfNobodyTookIt() {
        Lock a = locks.tryAcquire("k", ttl).orElseThrow();
        clock.advance(Duration.ofSeconds(11));
        assertFalse(a.renew(ttl));
    }

    @Test
    void concurrentAcquirersGetMutualExclusionAndIncreasingTokens() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        AtomicInteger holders = new AtomicInteger();
        AtomicInteger overlaps = new AtomicInteger();
        long[] lastToken = {0};
        AtomicInteger decreasing = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> fs = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            fs.add(pool.submit(() -> {
                go.await();
                for (int i = 0; i < 2000; i++) {
                    Optional<Lock> l = locks.tryAcquire("hot", ttl);
                    if (l.isEmpty()) {
                        continue;
                    }
                    if (holders.incrementAndGet() > 1) {
                        overlaps.incrementAndGet();
                    }
                    synchronized (lastToken) {
                        if (l.get().fencingToken() <= lastToken[0]) {
                            decreasing.incrementAndGet();
                        }
                        lastToken[0] = l.get().fencingToken();
                    }
                    holders.decrementAndGet();
                    l.get().release();
                }
                return null;
            }));
        }
        go.countDown();
        for (Future<?> f : fs) {
            f.get(30, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertEquals(0, overlaps.get());
        assertEquals(0, decreasing.get());
        assertTrue(lastToken[0] > 0);
    }
}
