package dev.workflowworker.core;

import dev.workflowworker.api.WorkflowEvent;
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
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Few keys under a commit linger, the path where the handler that finishes last commits its
 * worker's batch and starts the keys' next events from its own thread (docs/ARCHITECTURE.md, "The
 * engine"): per-key order and one event per key at a time still hold, and a shutdown still
 * commits every success and leaves nothing pending.
 */
class LingeringCommitOrderTest {

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

    @Test
    void fewKeysKeepTheirOrderAndOneEventEachWhileHandlersCommitAndStartTheNext() throws Exception {
        int keys = 6;
        int perKey = 300;
        Lingering t = new Lingering();
        Map<String, AtomicInteger> running = new ConcurrentHashMap<>();
        Map<String, List<Integer>> seen = new ConcurrentHashMap<>();
        AtomicInteger overlaps = new AtomicInteger();
        CountDownLatch done = new CountDownLatch(keys * perKey);
        WorkerService s = WorkerService.builder().transport(t.transport).workerCount(2).concurrencyLimit(16)
                .pollInterval(Duration.ofMillis(20)).runtime(ctx -> {
                    String key = ctx.event().executionId();
                    if (running.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet() != 1) {
                        overlaps.incrementAndGet();
                    }
                    String id = ctx.event().eventId();
                    seen.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>())
                            .add(Integer.parseInt(id.substring(id.indexOf('-') + 1)));
                    if (ctx.event().eventId().hashCode() % 7 == 0) {
                        Thread.yield(); // some handlers longer than others, so commits interleave
                    }
                    running.get(key).decrementAndGet();
                    done.countDown();
                }).build();
        try {
            // Published before the start, so both workers find every key ready at once.
            HookedTransport.keysTakingTurns("k", keys, perKey).forEach(t.memory::publish);
            s.start();
            assertTrue(done.await(60, TimeUnit.SECONDS), "not all events ran: " + done.getCount() + " left");
            assertEquals(0, overlaps.get(), "two events of one key ran at once");
            for (int k = 0; k < keys; k++) {
                List<Integer> order = seen.get("k" + k);
                List<Integer> expected = new ArrayList<>();
                for (int i = 0; i < perKey; i++) {
                    expected.add(i);
                }
                assertEquals(expected, order, "key k" + k + " ran out of order or an event twice");
            }
            assertTrue(t.commitThreads.stream().anyMatch(n -> n.contains("-exec-")),
                    "no batch was committed by the handler that finished last: " + t.commitThreads.size() + " commits");
        } finally {
            s.shutdownNow();
            t.memory.close();
        }
    }

    @Test
    void aShutdownCommitsEverySuccessAndLeavesNothingPending() throws Exception {
        int keys = 4;
        int perKey = 50;
        Lingering t = new Lingering();
        CountDownLatch some = new CountDownLatch(keys * 5);
        AtomicInteger handled = new AtomicInteger();
        WorkerService s = WorkerService.builder().transport(t.transport).workerCount(2).concurrencyLimit(16)
                .pollInterval(Duration.ofMillis(20)).shutdownTimeout(Duration.ofSeconds(30)).runtime(ctx -> {
                    handled.incrementAndGet();
                    some.countDown();
                }).build();
        List<String> ids = new ArrayList<>();
        try {
            for (WorkflowEvent e : HookedTransport.keysTakingTurns("s", keys, perKey)) {
                ids.add(e.eventId());
                t.memory.publish(e);
            }
            s.start();
            assertTrue(some.await(30, TimeUnit.SECONDS), "nothing ran");
            s.shutdown();
            assertTrue(s.awaitTermination(Duration.ofSeconds(30)), "the shutdown did not end");
            // Each handler that ran succeeded: its event is completed, none is left pending or
            // lost between the handler and the commit; what never started is ready for the next run.
            assertEquals(0, t.memory.pendingCount(), "events left pending");
            EventTransport.Consumer probe = t.memory.openConsumer("probe");
            int completed = probe.completedAmong(ids).size();
            assertEquals(handled.get(), completed, "a success that ran was not committed");
            // None held by a contention retry: the ordered consumer makes a key's next event ready
            // only once its predecessor's lock is released.
            assertEquals(ids.size() - completed, t.memory.readyCount(), "what did not run is ready again; scheduled "
                    + t.memory.scheduledCount() + ", retry holds " + t.memory.retryHolds());
        } finally {
            s.shutdownNow();
            t.memory.close();
        }
    }
}
