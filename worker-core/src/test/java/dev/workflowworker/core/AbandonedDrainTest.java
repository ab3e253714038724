package dev.workflowworker.core;

import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.core.memory.InMemoryEventTransport;
import dev.workflowworker.core.testing.Await;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A drain that gives up at its deadline hands back only the events whose handlers still run: a
 * success already queued for the group commit, or in a commit on the wire, is the settler's, which
 * commits it before the worker closes (docs/ARCHITECTURE.md, "The engine"). Handed back, it was
 * ready again before its commit landed, the commit then found it no longer pending, and its
 * completed handler ran again on the next reader. The handlers' own ledger counts completed runs.
 */
class AbandonedDrainTest {

    @Test
    void aDrainThatGivesUpDoesNotHandBackSuccessesQueuedOrBeingCommitted() throws Exception {
        InMemoryEventTransport memory = InMemoryEventTransport.create();
        WorkflowEvent onTheWire = event("x");
        WorkflowEvent stuck = event("y");
        WorkflowEvent queued = event("z");
        Map<String, AtomicInteger> ledger = new ConcurrentHashMap<>();
        CountDownLatch inCommit = new CountDownLatch(1);
        CountDownLatch commitGate = new CountDownLatch(1);
        CountDownLatch handedBack = new CountDownLatch(1);
        List<String> handedBackIds = new CopyOnWriteArrayList<>();
        EventTransport first = HookedTransport.leftOpen(HookedTransport.lingering(memory, (method, args) -> {
            if ((method.equals("complete") || method.equals("completeAndRelease"))
                    && ids(args[0]).contains(onTheWire.eventId())) {
                // A slow store: the commit is on the wire when the drain's deadline passes.
                inCommit.countDown();
                awaitIgnoringInterrupts(commitGate);
            }
            // The drain's hand-back, not the interrupted handler's own release.
            if (method.equals("release") && Thread.currentThread().getName().endsWith("-shutdown")) {
                handedBackIds.addAll(ids(args[0]));
                handedBack.countDown();
            }
        }));
        WorkerService a = WorkerService.builder().transport(first).workerCount(1).concurrencyLimit(16)
                .pollInterval(Duration.ofMillis(50)).shutdownTimeout(Duration.ofMillis(300))
                .runtime(ctx -> {
                    String id = ctx.event().eventId();
                    if (id.equals(stuck.eventId())) {
                        // Runs past the deadline; the drain's interrupt ends it, uncompleted.
                        new CountDownLatch(1).await(30, TimeUnit.SECONDS);
                        return;
                    }
                    if (id.equals(queued.eventId())) {
                        // Succeeds while the commit before it is on the wire: its success waits in the queue.
                        assertTrue(inCommit.await(10, TimeUnit.SECONDS), "no commit went on the wire");
                    }
                    ledger.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
                }).build();
        WorkerService b = WorkerService.builder().transport(memory).workerCount(1).concurrencyLimit(16)
                .pollInterval(Duration.ofMillis(50))
                .runtime(ctx -> ledger.computeIfAbsent(ctx.event().eventId(), k -> new AtomicInteger())
                        .incrementAndGet()).build();
        try {
            List.of(onTheWire, stuck, queued).forEach(memory::publish);
            a.start();
            assertTrue(inCommit.await(10, TimeUnit.SECONDS), "no commit went on the wire");
            Await.until(Duration.ofSeconds(10), () -> ledger.containsKey(queued.eventId()), "the queued success's handler");
            // Its success is queued a few instructions after its handler returned, well before the deadline.
            a.shutdown();
            assertTrue(handedBack.await(10, TimeUnit.SECONDS), "the drain handed nothing back");
            commitGate.countDown();
            assertTrue(a.awaitTermination(Duration.ofSeconds(20)), "the first service did not end");

            // The next run of the stream: what the first left ready runs here.
            b.start();
            Await.until(Duration.ofSeconds(10), () -> ledger.containsKey(stuck.eventId())
                    && memory.readyCount() == 0 && memory.pendingCount() == 0, () -> "the next run did not drain: "
                    + ledger + ", ready " + memory.readyCount() + ", pending " + memory.pendingCount());
            b.shutdown();
            assertTrue(b.awaitTermination(Duration.ofSeconds(10)), "the second service did not end");
            assertEquals(Map.of(onTheWire.eventId(), 1, stuck.eventId(), 1, queued.eventId(), 1), counts(ledger),
                    "completed handlers ran again");
            assertEquals(List.of(stuck.eventId()), handedBackIds, "the drain handed back successes whose handlers completed");
        } finally {
            commitGate.countDown();
            a.shutdownNow();
            b.shutdownNow();
            memory.close();
        }
    }

    private static WorkflowEvent event(String key) {
        return WorkflowEvent.builder("T").eventId(key + "-1").executionId(key).build();
    }

    @SuppressWarnings("unchecked")
    private static List<String> ids(Object deliveries) {
        return ((Collection<Delivery>) deliveries).stream().map(Delivery::eventId).toList();
    }

    private static Map<String, Integer> counts(Map<String, AtomicInteger> ledger) {
        Map<String, Integer> out = new TreeMap<>();
        ledger.forEach((k, v) -> out.put(k, v.get()));
        return out;
    }

    /** A reply that an interrupt does not hurry, as a real store's. */
    private static void awaitIgnoringInterrupts(CountDownLatch latch) {
        boolean interrupted = false;
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (latch.getCount() > 0 && System.nanoTime() < until) {
            try {
                latch.await(until - System.nanoTime(), TimeUnit.NANOSECONDS);
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
