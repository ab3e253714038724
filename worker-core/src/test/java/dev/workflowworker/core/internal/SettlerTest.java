package dev.workflowworker.core.internal;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.api.spi.LockProvider;
import dev.workflowworker.api.spi.SettlementUnknownException;
import dev.workflowworker.core.TimeSource;
import dev.workflowworker.core.memory.InMemoryEventTransport;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.core.testing.FakeClock;
import org.junit.jupiter.api.Test;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SettlerTest {

    @Test
    void aSuccessArrivingAfterTheSettlerStoppedIsStillCommittedAndItsLockReleased() throws Exception {
        try (InMemoryEventTransport transport = InMemoryEventTransport.create()) {
            EventTransport.Consumer consumer = transport.openConsumer("c1");
            LockProvider locks = transport.lockProvider().orElseThrow();
            BatchLocking locking = BatchLocking.of(consumer, locks, Optional.empty());
            WorkerStats stats = new WorkerStats(null);
            Slots slots = new Slots(1, stats, TimeSource.system());
            Settlement settlement = new Settlement("w1", consumer, locking, stats, new Listeners(List.of()),
                    TimeSource.system(), Duration.ofMillis(10));
            Settler settler = new Settler(locking, settlement, slots, new Threads(null, "test"), "settle",
                    t -> { throw new AssertionError(t); });
            FakeClock clock = new FakeClock();
            LockWatchdog watchdog = new LockWatchdog(clock, Duration.ofSeconds(30), clock, () -> { });
            settler.start();
            // The worker closed while a handler that ignores interrupts was still running.
            settler.stop(1000);

            transport.publish(WorkflowEvent.builder("T").eventId("late-1").executionId("x1").build());
            Delivery d = consumer.read(1, Duration.ofSeconds(1)).get(0);
            Lock lock = locks.tryAcquire("x1", Duration.ofSeconds(30)).orElseThrow();
            assertTrue(slots.tryAcquire());
            InFlight f = new InFlight(d, lock, clock.nanoTime());
            slots.track(f);
            f.context = new DefaultEventContext(d.event(), 1, lock.fencingToken(), "w1", clock, clock.nanoTime(), java.time.temporal.ChronoUnit.FOREVER.getDuration(), () -> false);
            f.watch = watchdog.watch(lock, f.context, clock.nanoTime());
            f.attempt = 1;

            settler.add(f);

            assertEquals(java.util.Set.of("late-1"), consumer.completedAmong(List.of("late-1")),
                    "the late success wrote its marker, so a redelivery is a duplicate");
            assertTrue(locks.tryAcquire("x1", Duration.ofSeconds(1)).isPresent(), "its lock was released");
            assertEquals(1, slots.available(), "its slot was given back");
            assertEquals(1, stats.succeededCount());
        }
    }

    /** One call of the consumer's complete: the event ids it carried, the monotonic time it was made at and its thread. */
    private record Commit(List<String> eventIds, long atNanos, Thread thread) { }

    /** A settler over an in-memory consumer whose commits are recorded, with handler slots to track deliveries in. */
    private static final class Rig implements AutoCloseable {
        final FakeClock clock = new FakeClock();
        final InMemoryEventTransport transport = InMemoryEventTransport.create();
        final EventTransport.Consumer real = transport.openConsumer("c1");
        final LinkedBlockingQueue<Commit> commits = new LinkedBlockingQueue<>();
        final LockProvider locks = transport.lockProvider().orElseThrow();
        final WorkerStats stats = new WorkerStats(null);
        final Slots slots;
        // Renewed every 8 h of the fake clock: the jumps of these tests never fire a renewal.
        final LockWatchdog watchdog = new LockWatchdog(clock, Duration.ofDays(1), clock, () -> { });
        final Settler settler;
        /** When set, a commit made on an interrupted thread fails, as a cluster's pause after a redirect does. */
        volatile boolean interruptFailsCommit;
        /**
         * When set, a commit settles only the deliveries whose event id starts with "ok", refuses
         * those starting with "refused" and leaves the rest unknown, as a partitioned commit whose
         * script failed in one partition does.
         */
        volatile boolean partlyUnknown;

        Rig(Duration linger) {
            this(linger, 8);
        }

        Rig(Duration linger, int slotCount) {
            slots = new Slots(slotCount, stats, clock);
            EventTransport.Consumer recording = (EventTransport.Consumer) Proxy.newProxyInstance(
                    getClass().getClassLoader(), new Class<?>[] {EventTransport.Consumer.class}, (proxy, m, args) -> {
                        if (m.getName().equals("complete")) {
                            if (interruptFailsCommit && Thread.currentThread().isInterrupted()) {
                                throw new IllegalStateException("interrupted while waiting out a redirect");
                            }
                            @SuppressWarnings("unchecked")
                            List<Delivery> ds = (List<Delivery>) args[0];
                            commits.add(new Commit(ds.stream().map(Delivery::eventId).toList(), clock.nanoTime(),
                                    Thread.currentThread()));
                            if (partlyUnknown) {
                                List<Delivery> ok = ds.stream().filter(d -> d.eventId().startsWith("ok")).toList();
                                List<Delivery> refused = ds.stream().filter(d -> d.eventId().startsWith("refused")).toList();
                                List<Delivery> unknown = ds.stream()
                                        .filter(d -> !ok.contains(d) && !refused.contains(d)).toList();
                                real.complete(ok);
                                throw new SettlementUnknownException("one partition's commit failed", ok, refused,
                                        unknown, new IllegalStateException("WRONGTYPE"));
                            }
                        }
                        try {
                            return m.invoke(real, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        }
                    });
            BatchLocking locking = BatchLocking.of(recording, locks, Optional.empty());
            Settlement settlement = new Settlement("w1", recording, locking, stats, new Listeners(List.of()), clock,
                    Duration.ofMillis(10));
            settler = new Settler(locking, settlement, slots, new Threads(null, "test"), "settle",
                    t -> { throw new AssertionError(t); }, clock, linger);
            settler.start();
        }

        /** A delivery read, locked and holding a slot, as while its handler runs. */
        InFlight running(String eventId) throws InterruptedException {
            transport.publish(WorkflowEvent.builder("T").eventId(eventId).executionId("x-" + eventId).build());
            return tracked(real.read(1, Duration.ofSeconds(1)).get(0), "x-" + eventId);
        }

        /** A delivery just read, locked under {@code key} and holding a slot, as while its handler runs. */
        InFlight tracked(Delivery d, String key) {
            Lock lock = locks.tryAcquire(key, Duration.ofSeconds(30)).orElseThrow();
            assertTrue(slots.tryAcquire());
            InFlight f = new InFlight(d, lock, clock.nanoTime());
            slots.track(f);
            settler.started(List.of(f), false);
            f.context = new DefaultEventContext(d.event(), 1, lock.fencingToken(), "w1", clock, clock.nanoTime(), java.time.temporal.ChronoUnit.FOREVER.getDuration(), () -> false);
            f.watch = watchdog.watch(lock, f.context, clock.nanoTime());
            f.attempt = 1;
            return f;
        }

        /**
         * Deliveries read, locked and holding slots, grouped as one batch the dispatcher starts
         * ({@link Settler#started}), as while their handlers run.
         */
        List<InFlight> startedTogether(String... eventIds) throws InterruptedException {
            List<InFlight> batch = new java.util.ArrayList<>();
            for (String id : eventIds) {
                transport.publish(WorkflowEvent.builder("T").eventId(id).executionId("x-" + id).build());
                Delivery d = real.read(1, Duration.ofSeconds(1)).get(0);
                Lock lock = locks.tryAcquire("x-" + id, Duration.ofSeconds(30)).orElseThrow();
                assertTrue(slots.tryAcquire());
                InFlight f = new InFlight(d, lock, clock.nanoTime());
                f.context = new DefaultEventContext(d.event(), 1, lock.fencingToken(), "w1", clock, clock.nanoTime(),
                        java.time.temporal.ChronoUnit.FOREVER.getDuration(), () -> false);
                f.watch = watchdog.watch(lock, f.context, clock.nanoTime());
                f.attempt = 1;
                batch.add(f);
            }
            slots.trackAll(batch);
            settler.started(batch, false);
            return batch;
        }

        /** As the engine does when a handler succeeded: its success queued, then the handler's thread done. */
        void succeeded(InFlight f) {
            settler.add(f);
            settler.handlerDone(f);
        }

        /** As the engine does when a handler failed: its slot given back, then the handler's thread done. */
        void failed(InFlight f) {
            f.watch.cancel();
            slots.finish(f);
            settler.handlerDone(f);
        }

        Commit nextCommit() throws InterruptedException {
            Commit c = commits.poll(10, TimeUnit.SECONDS);
            assertNotNull(c, "no commit within 10 s");
            return c;
        }

        @Override
        public void close() {
            settler.stop(1000);
            transport.close();
        }
    }

    @Test
    void aLingeringCommitWaitsForTheHandlerStillRunningAndEndsAsSoonAsItsSuccessIsIn() throws Exception {
        try (Rig rig = new Rig(Duration.ofHours(1))) {
            InFlight a = rig.running("a");
            InFlight b = rig.running("b");
            long start = rig.clock.nanoTime();
            rig.succeeded(a);
            rig.succeeded(b);
            Commit c = rig.nextCommit();
            assertEquals(List.of("a", "b"), c.eventIds(), "one commit for both");
            assertTrue(c.atNanos() - start < TimeUnit.HOURS.toNanos(1), "it did not wait out the linger");
            Await.until(Duration.ofSeconds(10), () -> rig.slots.available() == 8, "both slots given back");
        }
    }

    /**
     * A commit that fails part-way names what became of each delivery: the settled ones are
     * successes, the refused ones lost leases (redelivered), and the unknown ones neither, counted
     * as a transport failure. The engine counted all of them as the transport failure before, so
     * the events that had completed reported no success.
     */
    @Test
    void aCommitFailingPartWayCountsEachDeliveryAsWhatItBecame() throws Exception {
        try (Rig rig = new Rig(Duration.ofHours(1), 16)) {
            rig.partlyUnknown = true;
            InFlight ok1 = rig.running("ok-1");
            InFlight ok2 = rig.running("ok-2");
            InFlight refused = rig.running("refused-1");
            InFlight unknown = rig.running("unknown-1");
            rig.succeeded(ok1);
            rig.succeeded(ok2);
            rig.succeeded(refused);
            rig.succeeded(unknown);
            Commit c = rig.nextCommit();
            assertEquals(List.of("ok-1", "ok-2", "refused-1", "unknown-1"), c.eventIds(), "one commit for the four");
            Await.until(Duration.ofSeconds(10), () -> rig.slots.available() == 16, "the four slots given back");
            assertEquals(2, rig.stats.succeededCount(), "the settled ones are successes");
            assertEquals(1, rig.stats.leaseLostCount(), "the refused one is a lost lease");
            assertTrue(rig.stats.lastInfraError() != null && rig.stats.lastInfraError().contains("1 of 4"),
                    "the unknown one is a transport failure: " + rig.stats.lastInfraError());
            assertEquals(java.util.Set.of("ok-1", "ok-2"),
                    rig.real.completedAmong(List.of("ok-1", "ok-2", "refused-1", "unknown-1")));
        }
    }

    @Test
    void aLingerIsBoundedByItsDurationOnTheTimeSource() throws Exception {
        try (Rig rig = new Rig(Duration.ofHours(1))) {
            InFlight a = rig.running("a");
            rig.running("b"); // its handler never returns in this test
            long start = rig.clock.nanoTime();
            rig.succeeded(a);
            // Lingering: its thread parks on the settler itself (waiting for the queue, it parks on the queue's lock).
            Await.until(Duration.ofSeconds(10), () -> Thread.getAllStackTraces().keySet().stream()
                    .anyMatch(t -> LockSupport.getBlocker(t) == rig.settler), "the settler lingers");
            assertTrue(rig.commits.isEmpty(), "committed without waiting");
            // Only the fake clock reaching the bound ends the wait: a commit made before this
            // advance would carry a time less than an hour after the start.
            rig.clock.advance(Duration.ofHours(1));
            Commit c = rig.nextCommit();
            assertEquals(List.of("a"), c.eventIds());
            assertTrue(c.atNanos() - start >= TimeUnit.HOURS.toNanos(1), "committed before the linger was up");
        }
    }

    @Test
    void withoutALingerASuccessCommitsAtOnceBesideARunningHandler() throws Exception {
        try (Rig rig = new Rig(Duration.ZERO)) {
            InFlight a = rig.running("a");
            rig.running("b");
            rig.succeeded(a);
            assertEquals(List.of("a"), rig.nextCommit().eventIds());
        }
    }

    @Test
    void aBusyWorkerCommitsAtOnceWithoutLingering() throws Exception {
        try (Rig rig = new Rig(Duration.ofHours(1))) {
            InFlight a = rig.running("a");
            // three of the eight slots taken: more than a quarter
            rig.running("b");
            rig.running("c");
            rig.succeeded(a);
            Commit c = rig.nextCommit();
            assertEquals(List.of("a"), c.eventIds());
        }
    }

    @Test
    void theLastHandlerToFinishCommitsTheLingeringBatchOnItsOwnThread() throws Exception {
        // 16 slots: three running is few (at most a quarter), so successes linger.
        try (Rig rig = new Rig(Duration.ofHours(1), 16)) {
            InFlight a = rig.running("a");
            InFlight b = rig.running("b");
            InFlight c = rig.running("c");
            // a's key has a next event, which the commit of a frees.
            rig.transport.publish(WorkflowEvent.builder("T").eventId("a-next").executionId("x-a").build());
            java.util.concurrent.atomic.AtomicReference<Thread> refilledOn = new java.util.concurrent.atomic.AtomicReference<>();
            java.util.concurrent.atomic.AtomicInteger commitsBeforeRefill = new java.util.concurrent.atomic.AtomicInteger(-1);
            java.util.concurrent.atomic.AtomicReference<List<String>> refilled = new java.util.concurrent.atomic.AtomicReference<>();
            rig.settler.afterInlineCommit(afterCohort -> {
                commitsBeforeRefill.set(rig.commits.size());
                refilledOn.set(Thread.currentThread());
                try {
                    refilled.set(rig.real.read(8, Duration.ZERO).stream().map(Delivery::eventId).toList());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            rig.succeeded(a);
            rig.succeeded(b);
            assertTrue(rig.commits.isEmpty(), "committed while c still ran");
            assertNull(refilledOn.get(), "refilled before the batch was committed");
            // c's handler returns on another thread, as a handler pool's would.
            Thread last = new Thread(() -> rig.succeeded(c), "last-handler");
            last.start();
            last.join(10_000);
            Commit commit = rig.commits.poll();
            assertNotNull(commit, "the last handler's thread returned before the batch was committed");
            assertEquals(List.of("a", "b", "c"), commit.eventIds(), "one commit for the three");
            assertSame(last, commit.thread(), "committed on the last handler's thread, not the settler's");
            assertSame(last, refilledOn.get(), "what the commit freed is started from the same thread");
            assertEquals(1, commitsBeforeRefill.get(), "started after the commit");
            assertEquals(List.of("a-next"), refilled.get(), "the key's next event, freed by the commit");
            assertEquals(16, rig.slots.available(), "the three slots given back by then");
            assertEquals(3, rig.stats.succeededCount());
        }
    }

    @Test
    void aHandlerTheRefillStartedThatFinishesDuringTheRefillCommitsItsOwnSuccess() throws Exception {
        try (Rig rig = new Rig(Duration.ofHours(1), 16)) {
            InFlight a = rig.running("a");
            rig.transport.publish(WorkflowEvent.builder("T").eventId("a-next").executionId("x-a").build());
            java.util.concurrent.atomic.AtomicInteger commitsDuringRefill = new java.util.concurrent.atomic.AtomicInteger(-1);
            java.util.concurrent.atomic.AtomicBoolean once = new java.util.concurrent.atomic.AtomicBoolean();
            java.util.concurrent.atomic.AtomicReference<Thread> handler = new java.util.concurrent.atomic.AtomicReference<>();
            rig.settler.afterInlineCommit(afterCohort -> {
                if (!once.compareAndSet(false, true)) {
                    return;
                }
                try {
                    // The refill starts a-next, whose handler returns (on a pool thread) before the refill does.
                    InFlight next = rig.tracked(rig.real.read(8, Duration.ZERO).get(0), "x-a");
                    Thread h = new Thread(() -> rig.succeeded(next), "refilled-handler");
                    handler.set(h);
                    h.start();
                    h.join(10_000);
                    commitsDuringRefill.set(rig.commits.size());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            rig.succeeded(a);
            assertEquals(2, commitsDuringRefill.get(),
                    "a-next's success waited for the linger: the refilling thread's commit still counted as on the wire");
            assertEquals(List.of("a"), rig.nextCommit().eventIds());
            Commit c = rig.nextCommit();
            assertEquals(List.of("a-next"), c.eventIds());
            assertSame(handler.get(), c.thread(), "committed on its own handler's thread");
        }
    }

    @Test
    void aHandlerInterruptedAtTheDrainDeadlineStillCommitsItsBatchAndKeepsTheInterrupt() throws Exception {
        try (Rig rig = new Rig(Duration.ofHours(1))) {
            rig.interruptFailsCommit = true;
            InFlight a = rig.running("a");
            boolean keptInterrupt;
            // The drain's deadline interrupted the handler, which returned anyway: its thread commits.
            Thread.currentThread().interrupt();
            try {
                rig.succeeded(a);
            } finally {
                keptInterrupt = Thread.interrupted();
            }
            assertTrue(keptInterrupt, "the handler's interrupt is still set on its thread afterwards");
            Commit commit = rig.commits.poll();
            assertNotNull(commit, "the interrupt meant for the handler failed its batch's commit");
            assertEquals(List.of("a"), commit.eventIds());
            assertSame(Thread.currentThread(), commit.thread());
            assertEquals(1, rig.stats.succeededCount());
        }
    }

    @Test
    void aLastHandlerThatFailedCommitsTheSuccessesWaitingForIt() throws Exception {
        try (Rig rig = new Rig(Duration.ofHours(1))) {
            InFlight a = rig.running("a");
            InFlight b = rig.running("b");
            rig.succeeded(a);
            assertTrue(rig.commits.isEmpty(), "committed while b still ran");
            rig.failed(b);
            Commit commit = rig.commits.poll();
            assertNotNull(commit, "a's success still waited once no handler ran");
            assertEquals(List.of("a"), commit.eventIds());
            assertSame(Thread.currentThread(), commit.thread());
        }
    }

    @Test
    void aLingerAfterAnIdleSpellIsCountedFromTheFirstSuccess() throws Exception {
        try (Rig rig = new Rig(Duration.ofMillis(50))) {
            // Idle for longer than the settler's idle wait: it parks long and only a success wakes it.
            rig.clock.advance(Duration.ofSeconds(1));
            Await.until(Duration.ofSeconds(10), () -> Thread.getAllStackTraces().keySet().stream()
                    .anyMatch(t -> LockSupport.getBlocker(t) == rig.settler), "the settler parks");
            InFlight a = rig.running("a");
            rig.running("b"); // its handler never returns in this test
            long start = rig.clock.nanoTime();
            rig.succeeded(a);
            rig.clock.advance(Duration.ofMillis(50));
            Commit c = rig.nextCommit();
            assertEquals(List.of("a"), c.eventIds());
            assertTrue(c.atNanos() - start >= TimeUnit.MILLISECONDS.toNanos(50), "committed before the linger was up");
        }
    }

    /** The members of {@code f}'s cohort among {@code batch}, in batch order. */
    private static List<InFlight> cohortOf(InFlight f, List<InFlight> batch) {
        assertNotNull(f.cohort, "not in a cohort");
        return batch.stream().filter(g -> g.cohort == f.cohort).toList();
    }

    private static List<String> eventIds(List<InFlight> fs) {
        return fs.stream().map(f -> f.delivery.eventId()).toList();
    }

    /**
     * A few-keys batch started with nothing else of the worker out runs as two cohorts: one's last
     * handler commits it on its own thread while the other's handlers still run. Before, every
     * commit waited for the worker's last running handler (or the linger's end, on the settler's thread).
     */
    @Test
    void aFewKeysBatchRunsAsTwoCohortsEachCommittedByItsOwnLastHandlerWhileTheOtherRuns() throws Exception {
        // 32 slots: up to 8 out counts as few.
        try (Rig rig = new Rig(Duration.ofHours(1), 32)) {
            List<InFlight> batch = rig.startedTogether("a", "b", "c", "d", "e", "f", "g", "h");
            List<InFlight> first = cohortOf(batch.get(0), batch);
            List<InFlight> second = batch.stream().filter(f -> !first.contains(f)).toList();
            assertEquals(4, first.size(), "two cohorts of four");
            for (int i = 0; i < first.size() - 1; i++) {
                rig.succeeded(first.get(i));
            }
            assertTrue(rig.commits.isEmpty(), "committed while a handler of the cohort still ran");
            Thread last = new Thread(() -> rig.succeeded(first.get(first.size() - 1)), "first-cohort-last");
            last.start();
            last.join(10_000);
            Commit c = rig.commits.poll();
            assertNotNull(c, "the cohort waited for the other cohort's handlers");
            assertEquals(eventIds(first), c.eventIds(), "its own four, once each");
            assertSame(last, c.thread(), "committed on its last handler's thread");
            for (InFlight f : second) {
                rig.succeeded(f);
            }
            Commit c2 = rig.commits.poll();
            assertNotNull(c2);
            assertEquals(eventIds(second), c2.eventIds());
            assertSame(Thread.currentThread(), c2.thread());
            assertEquals(32, rig.slots.available(), "each slot given back once");
            assertEquals(8, rig.stats.succeededCount(), "each success reported once");
        }
    }

    /**
     * The settler's linger and a cohort's last handler race for the cohort's successes, round after
     * round, with the fake clock moved past the linger just as the handlers return: every success
     * is committed once, reported once, and its slot freed once. A queue whose bulk removal tested
     * elements outside its lock let both take one (CommitQueueTest).
     */
    @Test
    void aCohortsLastHandlerAndTheSettlersLingerNeverCommitOneSuccessTwice() throws Exception {
        int rounds = 250;
        int perRound = 16;
        // 64 slots: sixteen out is few, so each round's batch splits into two cohorts of eight.
        try (Rig rig = new Rig(Duration.ofMillis(1), 64)) {
            java.util.Map<String, Integer> committed = new java.util.concurrent.ConcurrentHashMap<>();
            for (int r = 0; r < rounds; r++) {
                String[] ids = new String[perRound];
                for (int i = 0; i < perRound; i++) {
                    ids[i] = "r" + r + "-" + i;
                }
                List<InFlight> batch = rig.startedTogether(ids);
                java.util.concurrent.CyclicBarrier go = new java.util.concurrent.CyclicBarrier(batch.size() + 1);
                List<Thread> handlers = new java.util.ArrayList<>();
                for (InFlight f : batch) {
                    Thread t = new Thread(() -> {
                        try {
                            go.await(10, TimeUnit.SECONDS);
                        } catch (Exception e) {
                            throw new AssertionError(e);
                        }
                        rig.succeeded(f);
                    });
                    t.start();
                    handlers.add(t);
                }
                go.await(10, TimeUnit.SECONDS);
                rig.clock.advance(Duration.ofMillis(2));
                for (Thread t : handlers) {
                    t.join(10_000);
                }
                Await.until(Duration.ofSeconds(10), () -> rig.slots.available() >= 64, "round's slots given back");
            }
            Commit c;
            while ((c = rig.commits.poll()) != null) {
                for (String id : c.eventIds()) {
                    committed.merge(id, 1, Integer::sum);
                }
            }
            assertEquals(perRound * rounds, committed.size(), "a success never committed");
            assertTrue(committed.values().stream().allMatch(n -> n == 1), "committed twice: " + committed.entrySet()
                    .stream().filter(e -> e.getValue() > 1).toList());
            assertEquals((long) perRound * rounds, rig.stats.succeededCount(), "a success reported twice");
            assertEquals(64, rig.slots.available(), "a slot freed twice raises the limit for good");
        }
    }

    @Test
    void theSettlersLingerTakesWhatACohortsSlowHandlerHoldsBackAndTheLastHandlerCommitsOnlyTheRest()
            throws Exception {
        try (Rig rig = new Rig(Duration.ofHours(1), 32)) {
            List<InFlight> batch = rig.startedTogether("a", "b", "c", "d");
            List<InFlight> cohort = cohortOf(batch.get(0), batch);
            rig.succeeded(cohort.get(0));
            rig.clock.advance(Duration.ofHours(1));
            Commit byLinger = rig.nextCommit();
            assertEquals(List.of(cohort.get(0).delivery.eventId()), byLinger.eventIds());
            rig.succeeded(cohort.get(1));
            Commit rest = rig.commits.poll();
            assertNotNull(rest, "the cohort's last handler left its own success to the linger");
            assertEquals(List.of(cohort.get(1).delivery.eventId()), rest.eventIds(), "only what was left");
            assertSame(Thread.currentThread(), rest.thread());
            // The linger's commit is recorded inside complete(); the settler thread counts its success
            // only after it returns, so that count may trail the commit the test already saw.
            Await.until(Duration.ofSeconds(5), () -> rig.stats.succeededCount() >= 2, "both successes counted");
            assertEquals(2, rig.stats.succeededCount());
        }
    }
}
