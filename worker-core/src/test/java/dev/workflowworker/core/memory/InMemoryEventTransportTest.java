package dev.workflowworker.core.memory;

import dev.workflowworker.api.DeadLetter;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.ErrorCategory;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.api.spi.LockProvider;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.testing.FakeClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class InMemoryEventTransportTest {

    private static final Duration SHORT = Duration.ofMillis(5);
    private final FakeClock clock = new FakeClock();
    private final InMemoryEventTransport transport = InMemoryEventTransport.builder().timeSource(clock)
            .markerTtl(Duration.ofHours(1)).maxPayloadBytes(100).ordered(ordered()).build();

    /** The mode under test; {@link InMemoryUnorderedEventTransportTest} runs the same tests on the shared queue. */
    boolean ordered() {
        return true;
    }

    private static WorkflowEvent event(String id) {
        return WorkflowEvent.builder("T").eventId(id).build();
    }

    @Test
    void streamNameDefaultsAndIsValidated() {
        assertEquals("workflow:events:global", InMemoryEventTransport.create().stream());
        assertEquals("orders", InMemoryEventTransport.builder().stream("orders").build().stream());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> InMemoryEventTransport.builder().stream(" "));
        assertTrue(e.getMessage().startsWith("stream"), e.getMessage());
    }

    @Test
    void deliveryIsInvisibleToOthersWhilePending() throws Exception {
        transport.publish(event("e1"));
        EventTransport.Consumer a = transport.openConsumer("a");
        EventTransport.Consumer b = transport.openConsumer("b");
        List<Delivery> got = a.read(10, SHORT);
        assertEquals(1, got.size());
        assertEquals(List.of(), b.read(10, SHORT));
        assertEquals(1, transport.pendingCount());
        a.complete(List.of(got.get(0)));
        assertEquals(0, transport.pendingCount());
        assertTrue(b.completedAmong(List.of("e1")).contains("e1"));
    }

    @Test
    void pollReturnsUpToMaxAndWaitsBoundedWhenEmpty() throws Exception {
        for (int i = 0; i < 5; i++) {
            transport.publish(event("e" + i));
        }
        EventTransport.Consumer a = transport.openConsumer("a");
        assertEquals(3, a.read(3, SHORT).size());
        assertEquals(2, a.read(3, SHORT).size());
        long t0 = System.nanoTime();
        assertEquals(List.of(), a.read(3, Duration.ofMillis(50)));
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5));
    }

    @Test
    void rescheduledEventReturnsWhenDueWithItsAttempt() throws Exception {
        transport.publish(event("e1"));
        EventTransport.Consumer a = transport.openConsumer("a");
        Delivery d = a.read(1, SHORT).get(0);
        a.retryAt(d, clock.instant().plusSeconds(30), 2);
        assertEquals(1, transport.scheduledCount());
        assertEquals(List.of(), a.read(1, SHORT));
        clock.advance(Duration.ofSeconds(30));
        Delivery again = a.read(1, SHORT).get(0);
        assertEquals("e1", again.eventId());
        assertEquals(2, again.attempt());
    }

    @Test
    void settlingTwiceHasEffectOnce() throws Exception {
        transport.publish(event("e1"));
        EventTransport.Consumer a = transport.openConsumer("a");
        Delivery d = a.read(1, SHORT).get(0);
        a.retryAt(d, clock.instant(), 2);
        a.retryAt(d, clock.instant(), 2);
        a.deadLetter(d, letter());
        assertEquals(1, transport.readyCount());
        assertEquals(0, transport.deadLetters().size());
    }

    @Test
    void deadLetterKeepsFieldsAndReason() throws Exception {
        transport.publishRaw(Map.of("event_type", "T", "payload_json", "{}"));
        EventTransport.Consumer a = transport.openConsumer("a");
        Delivery d = a.read(1, SHORT).get(0);
        assertTrue(d.isMalformed());
        assertEquals("missing required field 'event_id'", d.decodeError());
        a.deadLetter(d, new DeadLetter(ErrorCategory.PERMANENT, d.decodeError(), "", 0, "w", clock.instant()));
        InMemoryDeadLetter dl = transport.deadLetters().get(0);
        assertEquals("T", dl.fields().get("event_type"));
        assertEquals(d.id(), dl.originalId());
        assertEquals("missing required field 'event_id'", dl.letter().errorMessage());
    }

    @Test
    void stalledDeliveryIsClaimedUnlessKeptAlive() throws Exception {
        transport.publish(event("e1"));
        transport.publish(event("e2"));
        EventTransport.Consumer dead = transport.openConsumer("dead");
        EventTransport.Consumer alive = transport.openConsumer("alive");
        EventTransport.Consumer rescuer = transport.openConsumer("rescuer");
        Delivery d1 = dead.read(1, SHORT).get(0);
        Delivery d2 = alive.read(1, SHORT).get(0);
        clock.advance(Duration.ofSeconds(20));
        alive.keepAlive(List.of(d2));
        assertEquals(List.of(), rescuer.reclaimStalled(Duration.ofSeconds(30), 10));
        clock.advance(Duration.ofSeconds(15));
        List<Delivery> claimed = rescuer.reclaimStalled(Duration.ofSeconds(30), 10);
        assertEquals(List.of(d1), claimed);
        assertEquals(List.of(), transport.openConsumer("other").reclaimStalled(Duration.ofSeconds(30), 10),
                "a claim resets the idle time");
    }

    @Test
    void releaseMakesDeliveryVisibleAtOnce() throws Exception {
        transport.publish(event("e1"));
        EventTransport.Consumer a = transport.openConsumer("a");
        Delivery d = a.read(1, SHORT).get(0);
        a.release(List.of(d));
        Delivery again = transport.openConsumer("b").read(1, SHORT).get(0);
        assertEquals(d.id(), again.id());
        assertEquals(1, again.attempt());
    }

    @Test
    void markersExpire() throws Exception {
        transport.publish(event("e1"));
        EventTransport.Consumer a = transport.openConsumer("a");
        a.complete(a.read(1, SHORT));
        assertTrue(a.completedAmong(List.of("e1")).contains("e1"));
        clock.advance(Duration.ofHours(1));
        assertFalse(a.completedAmong(List.of("e1")).contains("e1"));
    }

    @Test
    void publishRejectsOversizedPayloadAndClosedTransport() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> transport.publish(WorkflowEvent.builder("T").payload(Map.of("x", "y".repeat(200))).build()));
        assertTrue(e.getMessage().contains("over the limit of 100 bytes"));
        transport.close();
        assertThrows(IllegalStateException.class, () -> transport.publish(event("e")));
    }

    @Test
    void concurrentConsumersReceiveEachEntryOnce() throws Exception {
        InMemoryEventTransport t = InMemoryEventTransport.create();
        int n = 20_000;
        ExecutorService pool = Executors.newFixedThreadPool(6);
        Set<String> seen = ConcurrentHashMap.newKeySet();
        AtomicInteger dup = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(n);
        List<Future<?>> fs = new ArrayList<>();
        for (int c = 0; c < 4; c++) {
            EventTransport.Consumer consumer = t.openConsumer("c" + c);
            fs.add(pool.submit(() -> {
                while (done.getCount() > 0) {
                    for (Delivery d : consumer.read(16, SHORT)) {
                        if (!seen.add(d.eventId())) {
                            dup.incrementAndGet();
                        }
                        consumer.complete(List.of(d));
                        done.countDown();
                    }
                }
                return null;
            }));
        }
        List<WorkflowEvent> batch = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            batch.add(event("e" + i));
        }
        fs.add(pool.submit(() -> t.publishAll(batch.subList(0, n / 2))));
        fs.add(pool.submit(() -> t.publishAll(batch.subList(n / 2, n))));
        assertTrue(done.await(30, TimeUnit.SECONDS));
        for (Future<?> f : fs) {
            f.get(10, TimeUnit.SECONDS);
        }
        pool.shutdown();
        assertEquals(0, dup.get());
        assertEquals(n, seen.size());
        assertEquals(0, t.pendingCount());
        assertEquals(new HashSet<>(seen).size(), n);
    }

    /** A delivery of the ordered transport read and locked, as the engine holds it while its handler runs. */
    private record Locked(EventTransport.LockingConsumer consumer, Delivery delivery, Lock lock) {
    }

    private Locked readAndLock(String eventId) throws InterruptedException {
        assumeTrue(transport.ordered(), "the shared queue's consumer takes the engine's composed path");
        transport.publish(event(eventId));
        EventTransport.LockingConsumer a = (EventTransport.LockingConsumer) transport.openConsumer("a");
        Delivery d = a.read(1, SHORT).get(0);
        return new Locked(a, d, a.acquire(List.of(d), Duration.ofSeconds(1)).get(0).lock().orElseThrow());
    }

    @Test
    void orderedCommitCompletesAndReleasesWhileTheLockHolds() throws Exception {
        Locked l = readAndLock("e1");
        assertEquals(List.of(), l.consumer().completeAndRelease(List.of(l.delivery()), List.of(l.lock())));
        assertEquals(Set.of("e1"), l.consumer().completedAmong(List.of("e1")));
        assertEquals(0, transport.pendingCount());
        assertEquals(0, ((InMemoryLockProvider) transport.lockProvider().orElseThrow()).heldCount());
    }

    @Test
    void orderedCommitRefusesASuccessWhoseLockWasLost() throws Exception {
        Locked l = readAndLock("e1");
        clock.advance(Duration.ofSeconds(2));
        // The lease expired and another holder took the key: it may be running this event now.
        Lock next = transport.lockProvider().orElseThrow()
                .tryAcquire(l.delivery().event().lockKey(), Duration.ofSeconds(1)).orElseThrow();

        List<Delivery> refused = l.consumer().completeAndRelease(List.of(l.delivery()), List.of(l.lock()));
        assertEquals(1, refused.size());
        assertSame(l.delivery(), refused.get(0), "the refused delivery is the instance given");
        assertEquals(Set.of(), l.consumer().completedAmong(List.of("e1")), "a refused success writes no marker");
        assertEquals(1, transport.pendingCount(), "a refused delivery stays pending");
        assertTrue(next.renew(Duration.ofSeconds(1)), "the new holder's lease is untouched");
    }

    @Test
    void orderedCommitRefusesASuccessWhoseLeaseExpiredUntaken() throws Exception {
        Locked l = readAndLock("e1");
        clock.advance(Duration.ofSeconds(1));
        assertEquals(List.of(l.delivery()), l.consumer().completeAndRelease(List.of(l.delivery()), List.of(l.lock())),
                "as on Redis, where the lock key is gone once its TTL ran out");
        assertEquals(1, transport.pendingCount());
    }

    @Test
    void orderedCommitMakesTheKeysNextEventReadyOnlyOnceItsLockIsReleased() throws Exception {
        assumeTrue(transport.ordered(), "the shared queue has no order to keep");
        transport.publish(WorkflowEvent.builder("T").eventId("e1").executionId("x").build());
        transport.publish(WorkflowEvent.builder("T").eventId("e2").executionId("x").build());
        EventTransport.LockingConsumer a = (EventTransport.LockingConsumer) transport.openConsumer("a");
        Delivery d = a.read(2, SHORT).get(0);
        Lock lock = a.acquire(List.of(d), Duration.ofSeconds(1)).get(0).lock().orElseThrow();
        LockProvider locks = transport.lockProvider().orElseThrow();
        List<String> seenWhenReady = new ArrayList<>();
        // On the committing thread, the moment e2 becomes ready: another consumer may take it now.
        transport.sequencer.onReady(() -> {
            Optional<Lock> next = locks.tryAcquire("x", Duration.ofSeconds(1));
            seenWhenReady.add(next.isPresent() ? "lock free" : "lock held");
            next.ifPresent(Lock::release);
            seenWhenReady.addAll(a.completedAmong(List.of("e1")));
        });

        assertEquals(List.of(), a.completeAndRelease(List.of(d), List.of(lock)));
        assertEquals(List.of("lock free", "e1"), seenWhenReady,
                "when e2 is ready, e1's lock is released and its marker written");
        assertEquals("e2", a.read(2, SHORT).get(0).event().eventId());
    }

    private DeadLetter letter() {
        return new DeadLetter(ErrorCategory.PERMANENT, "x", "", 1, "w", clock.instant());
    }
}
