package dev.workflowworker.redis;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.api.spi.LockProvider;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.params.XPendingParams;
import redis.clients.jedis.resps.StreamPendingEntry;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Proves taking a batch's locks with its markers, and completing it with releasing them, on Redis:
 * through the consumer's combined steps (one pipelined acquire, one commit script) used with the
 * transport's own locks, and through the two-step composition the engine uses with any other lock
 * provider (the provider's batch acquire, the consumer's markers and completion).
 */
@ExtendWith(RedisServerExtension.class)
class RedisClaimTest {

    private static final Duration TTL = Duration.ofSeconds(30);
    private static final Duration WAIT = Duration.ofSeconds(5);

    /** Which lock provider the consumer is handed, and so which code path runs. */
    enum Path {
        /** The transport's own provider: the pipelined claim and complete_release.lua. */
        COMBINED,
        /** A provider with its own pool: the interface's defaults (batch acquire, then markers). */
        TWO_STEP
    }

    private final List<AutoCloseable> resources = new ArrayList<>();
    private RedisOptions options;
    private RedisEventTransport transport;
    private EventTransport.Consumer consumer;
    private RedisClient client;
    /** Stands for another worker: it must never see its locks taken or deleted by this one. */
    private RedisLockProvider other;

    @AfterEach
    void closeResources() throws Exception {
        for (int i = resources.size() - 1; i >= 0; i--) {
            resources.get(i).close();
        }
    }

    private LockProvider setUp(RedisServer redis, Path path) {
        options = redis.options().partitions(0).build();
        transport = RedisEventTransport.create(options);
        resources.add(transport);
        consumer = transport.openConsumer("c1");
        resources.add(consumer);
        client = redis.client();
        resources.add(client);
        other = RedisLockProvider.create(options);
        resources.add(other);
        if (path == Path.COMBINED) {
            return transport.lockProvider().orElseThrow();
        }
        RedisLockProvider separate = RedisLockProvider.create(options);
        resources.add(separate);
        return separate;
    }

    private static WorkflowEvent event(String eventId, String executionId) {
        return WorkflowEvent.builder("TICKET_CREATED").eventId(eventId).executionId(executionId).tenant("acme")
                .payload(Map.of("n", 1)).build();
    }

    /** Publishes the events and reads them back as one batch, in publish order. */
    private List<Delivery> deliver(WorkflowEvent... events) throws InterruptedException {
        List<String> ids = transport.publishAll(List.of(events));
        List<Delivery> got = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (got.size() < events.length && System.nanoTime() < deadline) {
            got.addAll(consumer.read(events.length - got.size(), Duration.ofMillis(200)));
        }
        assertEquals(ids, got.stream().map(Delivery::id).toList(), "the published entries, in order");
        return got;
    }

    private Set<String> pendingIds() {
        List<StreamPendingEntry> pending = client.xpending(options.stream(), options.group(),
                new XPendingParams().count(1000));
        return pending.stream().map(e -> e.getID().toString()).collect(Collectors.toSet());
    }

    /** The combined step with the transport's own locks; otherwise the engine's two-step composition. */
    private List<EventTransport.Acquisition> acquire(List<Delivery> batch, LockProvider locks, Duration ttl) {
        if (locks == transport.lockProvider().orElseThrow()) {
            return ((EventTransport.LockingConsumer) consumer).acquire(batch, ttl);
        }
        List<java.util.Optional<Lock>> held = locks.tryAcquireAll(
                batch.stream().map(d -> d.event().lockKey()).toList(), ttl);
        Set<String> done = consumer.completedAmong(batch.stream().map(d -> d.event().eventId()).toList());
        List<EventTransport.Acquisition> out = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
            out.add(new EventTransport.Acquisition(held.get(i), done.contains(batch.get(i).event().eventId())));
        }
        return out;
    }

    private List<Delivery> completeAndRelease(List<Delivery> batch, List<Lock> held, LockProvider locks) {
        if (locks == transport.lockProvider().orElseThrow()) {
            return ((EventTransport.LockingConsumer) consumer).completeAndRelease(batch, held);
        }
        try {
            consumer.complete(batch);
        } finally {
            locks.releaseAll(held);
        }
        return List.of();
    }

    private static List<Lock> locksOf(List<EventTransport.Acquisition> claims) {
        return claims.stream().map(c -> c.lock().orElseThrow()).toList();
    }

    @ParameterizedTest
    @EnumSource(Path.class)
    void aFreshBatchGetsALockWithAPositiveTokenForEachDelivery(Path path, RedisServer redis) throws Exception {
        LockProvider locks = setUp(redis, path);
        List<Delivery> batch = deliver(event("f-1", "exec-1"), event("f-2", "exec-2"), event("f-3", "exec-3"));

        List<EventTransport.Acquisition> claims = acquire(batch, locks, TTL);

        assertEquals(batch.size(), claims.size());
        for (int i = 0; i < batch.size(); i++) {
            EventTransport.Acquisition claim = claims.get(i);
            assertFalse(claim.completed(), "delivery " + i);
            Lock lock = claim.lock().orElseThrow(() -> new AssertionError("no lock for a fresh delivery"));
            assertTrue(lock.fencingToken() > 0, "token " + lock.fencingToken());
            assertEquals(batch.get(i).event().lockKey(), lock.key());
            long pttl = client.pttl(options.lockKey(lock.key()));
            assertTrue(pttl > 0 && pttl <= TTL.toMillis(), "lock lease " + pttl);
        }
        assertEquals(3, locksOf(claims).stream().mapToLong(Lock::fencingToken).distinct().count(), "distinct tokens");
        assertTrue(other.tryAcquire("exec-2", TTL).isEmpty(), "the claimed locks are really held");
    }

    @ParameterizedTest
    @EnumSource(Path.class)
    void tokensIncreaseStrictlyAcrossSuccessiveClaimsOfAKey(Path path, RedisServer redis) throws Exception {
        LockProvider locks = setUp(redis, path);
        List<Delivery> batch = deliver(event("t-1", "exec-t"));
        long previous = 0;
        for (int round = 0; round < 5; round++) {
            Lock lock = acquire(batch, locks, TTL).get(0).lock().orElseThrow();
            assertTrue(lock.fencingToken() > previous, lock.fencingToken() + " after " + previous);
            previous = lock.fencingToken();
            locks.releaseAll(List.of(lock));
            // The claim and a plain acquisition draw from the same counter: a holder of either kind fences the other.
            Lock plain = other.tryAcquire("exec-t", TTL).orElseThrow();
            assertTrue(plain.fencingToken() > previous, plain.fencingToken() + " after " + previous);
            previous = plain.fencingToken();
            plain.release();
        }
    }

    @ParameterizedTest
    @EnumSource(Path.class)
    void aDeliveryWhoseKeyIsHeldElsewhereGetsNoLock(Path path, RedisServer redis) throws Exception {
        LockProvider locks = setUp(redis, path);
        Lock theirs = other.tryAcquire("exec-busy", TTL).orElseThrow();
        String theirValue = client.get(options.lockKey("exec-busy"));
        List<Delivery> batch = deliver(event("h-1", "exec-free"), event("h-2", "exec-busy"));

        List<EventTransport.Acquisition> claims = acquire(batch, locks, TTL);

        assertTrue(claims.get(0).lock().isPresent());
        assertFalse(claims.get(0).completed());
        assertTrue(claims.get(1).lock().isEmpty(), "the other holder's key must not be granted");
        assertFalse(claims.get(1).completed());
        assertEquals(theirValue, client.get(options.lockKey("exec-busy")), "the other holder's lock is untouched");
        assertTrue(theirs.renew(TTL));
    }

    @ParameterizedTest
    @EnumSource(Path.class)
    void aDuplicateOfACompletedEventIsReportedProcessed(Path path, RedisServer redis) throws Exception {
        LockProvider locks = setUp(redis, path);
        List<Delivery> first = deliver(event("d-1", "exec-d"));
        List<EventTransport.Acquisition> firstClaims = acquire(first, locks, TTL);
        assertFalse(firstClaims.get(0).completed());
        assertEquals(List.of(), completeAndRelease(first, locksOf(firstClaims), locks));

        List<Delivery> duplicate = deliver(event("d-1", "exec-d"));
        assertNotEquals(first.get(0).id(), duplicate.get(0).id(), "a new entry for the same event");

        EventTransport.Acquisition claim = acquire(duplicate, locks, TTL).get(0);

        assertTrue(claim.completed());
        // Both paths read markers only under the lock, so a duplicate comes back with it: the
        // caller releases it.
        assertTrue(claim.lock().isPresent());
        locks.releaseAll(claim.lock().stream().toList());
        assertTrue(other.tryAcquire("exec-d", TTL).isPresent(), "no lock is left behind for a duplicate");
    }

    @ParameterizedTest
    @EnumSource(Path.class)
    void twoDeliveriesOfOneKeyInABatchGetOneLock(Path path, RedisServer redis) throws Exception {
        LockProvider locks = setUp(redis, path);
        List<Delivery> batch = deliver(event("s-1", "exec-same"), event("s-2", "exec-same"), event("s-3", "exec-x"));

        List<EventTransport.Acquisition> claims = acquire(batch, locks, TTL);

        long locked = claims.subList(0, 2).stream().filter(c -> c.lock().isPresent()).count();
        assertEquals(1, locked, "one lock for the shared key: " + claims);
        assertTrue(claims.stream().noneMatch(EventTransport.Acquisition::completed));
        assertTrue(claims.get(2).lock().isPresent());
        Lock winner = claims.get(0).lock().or(() -> claims.get(1).lock()).orElseThrow();
        assertTrue(winner.renew(TTL), "the one granted lock is the one in Redis");
    }

    @ParameterizedTest
    @EnumSource(Path.class)
    void completeAndReleaseAcksMarksAndUnlocks(Path path, RedisServer redis) throws Exception {
        LockProvider locks = setUp(redis, path);
        List<Delivery> batch = deliver(event("c-1", "exec-c1"), event("c-2", "exec-c2"), event("c-3", "exec-c3"));
        List<Lock> held = locksOf(acquire(batch, locks, TTL));
        assertEquals(batch.stream().map(Delivery::id).collect(Collectors.toSet()), pendingIds());
        for (Delivery d : batch) {
            assertFalse(consumer.completedAmong(List.of(d.eventId())).contains(d.eventId()));
        }

        List<Delivery> refused = completeAndRelease(batch, held, locks);

        assertEquals(List.of(), refused);
        assertEquals(Set.of(), pendingIds(), "every entry acked");
        for (Delivery d : batch) {
            assertTrue(consumer.completedAmong(List.of(d.eventId())).contains(d.eventId()), d.eventId());
            long markerTtl = client.pttl(options.processedKey(d.eventId()));
            assertTrue(markerTtl > 0 && markerTtl <= options.processedTtl().toMillis(), "marker ttl " + markerTtl);
        }
        for (Delivery d : batch) {
            String key = d.event().lockKey();
            assertFalse(client.exists(options.lockKey(key)), key);
            assertTrue(other.tryAcquire(key, TTL).isPresent(), "the lock of " + key + " is free right after");
        }
        for (Lock lock : held) {
            assertFalse(lock.renew(TTL), "a released lock cannot be renewed");
        }
    }

    @Test
    void aLockDeletedAndRetakenBeforeCompletionIsRefusedWhileTheRestOfTheBatchCompletes(RedisServer redis)
            throws Exception {
        LockProvider locks = setUp(redis, Path.COMBINED);
        List<Delivery> batch = deliver(event("l-1", "exec-l1"), event("l-2", "exec-l2"), event("l-3", "exec-l3"));
        List<Lock> held = locksOf(acquire(batch, locks, TTL));
        Delivery lost = batch.get(1);
        String lostLockKey = options.lockKey("exec-l2");
        // As if the lease had lapsed (a pause longer than the TTL) and another worker took the key.
        assertEquals(1, client.del(lostLockKey));
        Lock successor = other.tryAcquire("exec-l2", TTL).orElseThrow();
        String successorValue = client.get(lostLockKey);

        List<Delivery> refused = completeAndRelease(batch, held, locks);

        assertRefusedAlone(batch, lost, refused, successorValue, lostLockKey);
        assertTrue(successor.fencingToken() > held.get(1).fencingToken());
        assertTrue(successor.renew(TTL), "the successor still holds its lock");
    }

    @Test
    void aLockThatExpiredBeforeCompletionIsRefusedWhileTheRestOfTheBatchCompletes(RedisServer redis)
            throws Exception {
        LockProvider locks = setUp(redis, Path.COMBINED);
        List<Delivery> batch = deliver(event("x-1", "exec-x1"), event("x-2", "exec-x2"), event("x-3", "exec-x3"));
        Delivery lost = batch.get(1);
        String lostLockKey = options.lockKey("exec-x2");
        // Two claims so only the middle delivery gets a lease short enough to lapse during the test.
        List<Lock> outer = locksOf(acquire(List.of(batch.get(0), batch.get(2)), locks, TTL));
        Lock shortLease = acquire(List.of(lost), locks, Duration.ofMillis(50)).get(0).lock().orElseThrow();
        Await.until(WAIT, () -> !client.exists(lostLockKey), "the short lease to expire");
        List<Lock> held = List.of(outer.get(0), shortLease, outer.get(1));

        List<Delivery> refused = completeAndRelease(batch, held, locks);

        assertRefusedAlone(batch, lost, refused, null, lostLockKey);
    }

    /**
     * The refused delivery stays pending with no marker and the key keeps whatever (if anything)
     * held it; the others of the batch are acked, marked and unlocked.
     */
    private void assertRefusedAlone(List<Delivery> batch, Delivery lost, List<Delivery> refused,
                                    String expectedLockValue, String lostLockKey) {
        assertEquals(1, refused.size(), "refused: " + refused);
        assertSame(lost, refused.get(0), "the caller matches refusals by identity");
        assertEquals(Set.of(lost.id()), pendingIds(), "only the refused entry stays pending");
        assertFalse(consumer.completedAmong(List.of(lost.eventId())).contains(lost.eventId()), "no marker for a refused success");
        assertEquals(expectedLockValue, client.get(lostLockKey), "the key's current holder is left alone");
        for (Delivery d : batch) {
            if (d == lost) {
                continue;
            }
            assertTrue(consumer.completedAmong(List.of(d.eventId())).contains(d.eventId()), d.eventId());
            assertFalse(client.exists(options.lockKey(d.event().lockKey())), d.event().lockKey());
        }
    }

    @Test
    void theTwoStepPathCannotSeeALostLeaseButLeavesTheSuccessorsLock(RedisServer redis) throws Exception {
        // Documents the default's limits next to the script's refusal: it completes regardless,
        // yet its owner-checked release must not delete the lock another worker took since.
        LockProvider locks = setUp(redis, Path.TWO_STEP);
        List<Delivery> batch = deliver(event("w-1", "exec-w1"), event("w-2", "exec-w2"));
        List<Lock> held = locksOf(acquire(batch, locks, TTL));
        String lostLockKey = options.lockKey("exec-w2");
        assertEquals(1, client.del(lostLockKey));
        Lock successor = other.tryAcquire("exec-w2", TTL).orElseThrow();
        String successorValue = client.get(lostLockKey);

        assertEquals(List.of(), completeAndRelease(batch, held, locks));

        assertEquals(Set.of(), pendingIds());
        assertEquals(successorValue, client.get(lostLockKey));
        assertTrue(successor.renew(TTL));
        assertFalse(client.exists(options.lockKey("exec-w1")));
    }

    @Test
    void aMissingFencingCounterStartsAtRedisClockNotTheHosts(RedisServer redis) throws Exception {
        // A host clock far from the real one (here ahead; behind, it would redraw tokens handed out
        // before a loss of the counter) shows which clock the batch claim seeded the counter from:
        // Redis's, as every other drawing of tokens (fence.lua).
        long wall = 4_000_000_000_000L;
        TimeSource ahead = new TimeSource() {
            @Override
            public long wallMillis() {
                return wall;
            }

            @Override
            public long nanoTime() {
                return System.nanoTime();
            }
        };
        options = redis.options().partitions(0).build();
        transport = RedisEventTransport.create(options, ahead);
        resources.add(transport);
        consumer = transport.openConsumer("c1");
        resources.add(consumer);
        client = redis.client();
        resources.add(client);
        List<Delivery> batch = deliver(event("s-1", "exec-s1"), event("s-2", "exec-s2"));
        long from = redisMicros();

        List<Lock> held = locksOf(((EventTransport.LockingConsumer) consumer).acquire(batch, TTL));

        long to = redisMicros();
        long first = held.get(0).fencingToken();
        assertEquals(first + 1, held.get(1).fencingToken(), "consecutive");
        assertTrue(first > from && first <= to + 1, "token " + first + " not drawn from Redis's clock ("
                + from + " to " + to + " µs)");
    }

    private long redisMicros() {
        return Long.parseLong(String.valueOf(client.eval(
                "local t = redis.call('TIME') return t[1] .. string.format('%06d', tonumber(t[2]))")));
    }

    @Test
    void anEmptyBatchClaimsAndCompletesNothing(RedisServer redis) {
        LockProvider locks = setUp(redis, Path.COMBINED);
        assertEquals(List.of(), acquire(List.of(), locks, TTL));
        assertEquals(List.of(), completeAndRelease(List.of(), List.of(), locks));
        assertFalse(client.exists(options.fenceKey()), "no token drawn");
    }

    @Test
    void aClaimFailingPartWayReleasesTheLocksItHadTaken(RedisServer redis) throws Exception {
        // Nothing rolls back the locks taken before a later command of the claim fails: they
        // would otherwise block their keys for a whole TTL.
        LockProvider locks = setUp(redis, Path.COMBINED);
        List<Delivery> batch = deliver(event("f-1", "exec-a"), event("f-2", "exec-b"));
        // The fencing counter is not a number: the token draw fails after the locks were taken.
        client.set(options.fenceKey(), "not a number");

        assertThrows(RuntimeException.class, () -> acquire(batch, locks, TTL));

        assertFalse(client.exists(options.lockKey("exec-a")), "locks taken before the failure are released");
        assertFalse(client.exists(options.lockKey("exec-b")), "locks taken before the failure are released");
        client.del(options.fenceKey());
        assertTrue(other.tryAcquire("exec-a", TTL).isPresent());
    }
}
