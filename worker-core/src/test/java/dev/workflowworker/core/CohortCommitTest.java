package dev.workflowworker.core;

import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.core.memory.InMemoryEventTransport;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Few keys as two cohorts (docs/ARCHITECTURE.md, "The engine", few keys): a few-keys batch started
 * with nothing else of the worker out commits in two halves, each on its own last handler's thread,
 * so that one half's commit overlaps the other half's handlers. Per-key order and one event per key
 * at a time still hold.
 */
class CohortCommitTest {

    /** The ordered in-memory transport with lingering consumers, the thread of every commit recorded. */
    private static final class Lingering {
        final InMemoryEventTransport memory = InMemoryEventTransport.create();
        final List<String> commitThreads = new CopyOnWriteArrayList<>();
        final EventTransport transport = HookedTransport.lingeringWithOwnLocks(memory, (name, args) -> {
            if (name.equals("completeAndRelease")) {
                commitThreads.add(Thread.currentThread().getName());
            }
        });
    }

    /**
     * One handler of an eight-keys batch is held until a commit is made on a handler's thread: the
     * other cohort's. Before, every commit of the worker waited for its last running handler, or
     * for the linger's end on the settler's thread, so no such commit came while one was held.
     */
    @Test
    void oneCohortCommitsOnItsLastHandlersThreadWhileAHandlerOfTheOtherIsHeld() throws Exception {
        Lingering t = new Lingering();
        CountDownLatch handlerCommitted = new CountDownLatch(1);
        AtomicBoolean sawItWhileHeld = new AtomicBoolean();
        AtomicBoolean held = new AtomicBoolean();
        CountDownLatch done = new CountDownLatch(8 * 3);
        EventTransport hooked = HookedTransport.lingeringWithOwnLocks(t.memory, (name, args) -> {
            if (name.equals("completeAndRelease") && Thread.currentThread().getName().contains("-exec-")) {
                handlerCommitted.countDown();
            }
        });
        // 32 slots: eight out is few (a quarter), so the batch of eight splits.
        WorkerService s = WorkerService.builder().transport(hooked).workerCount(1).concurrencyLimit(32)
                .batchSize(32).pollInterval(Duration.ofMillis(20)).runtime(ctx -> {
                    if (ctx.event().eventId().equals("h0-0") && held.compareAndSet(false, true)) {
                        sawItWhileHeld.set(handlerCommitted.await(10, TimeUnit.SECONDS));
                    }
                    done.countDown();
                }).build();
        try {
            // Published before the start, so the worker's first read takes the eight keys at once.
            HookedTransport.keysTakingTurns("h", 8, 3).forEach(t.memory::publish);
            s.start();
            assertTrue(done.await(60, TimeUnit.SECONDS), "not all events ran: " + done.getCount() + " left");
            assertTrue(sawItWhileHeld.get(), "no commit on a handler's thread while one handler of the batch was held");
        } finally {
            s.shutdownNow();
            t.memory.close();
        }
    }

    @Test
    void sixteenKeysOverTwoWorkersKeepTheirOrderAndOneEventEachWithCohortsCommittingApart() throws Exception {
        int keys = 16;
        int perKey = 300;
        Lingering t = new Lingering();
        Map<String, AtomicInteger> running = new ConcurrentHashMap<>();
        Map<String, List<Integer>> seen = new ConcurrentHashMap<>();
        AtomicInteger overlaps = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(keys * perKey);
        // 64 slots each: sixteen out is few, so a worker's batch of the sixteen keys splits.
        WorkerService s = WorkerService.builder().transport(t.transport).workerCount(2).concurrencyLimit(64)
                .batchSize(64).pollInterval(Duration.ofMillis(20)).runtime(ctx -> {
                    String key = ctx.event().executionId();
                    if (running.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet() != 1) {
                        overlaps.incrementAndGet();
                    }
                    String id = ctx.event().eventId();
                    seen.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>())
                            .add(Integer.parseInt(id.substring(id.indexOf('-') + 1)));
                    if (id.hashCode() % 7 == 0) {
                        Thread.yield(); // some handlers longer than others, so commits interleave
                    }
                    running.get(key).decrementAndGet();
                    done.countDown();
                }).build();
        try {
            HookedTransport.keysTakingTurns("k", keys, perKey).forEach(t.memory::publish);
            s.start();
            assertTrue(done.await(60, TimeUnit.SECONDS), "not all events ran: " + done.getCount() + " left");
            assertEquals(0, overlaps.get(), "two events of one key ran at once");
            for (int k = 0; k < keys; k++) {
                List<Integer> expected = new ArrayList<>();
                for (int i = 0; i < perKey; i++) {
                    expected.add(i);
                }
                assertEquals(expected, seen.get("k" + k), "key k" + k + " ran out of order or an event twice");
            }
            assertTrue(t.commitThreads.stream().anyMatch(n -> n.contains("-exec-")),
                    "no batch was committed by a handler's thread: " + t.commitThreads.size() + " commits");
        } finally {
            s.shutdownNow();
            t.memory.close();
        }
    }
}
