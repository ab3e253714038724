package dev.workflowworker.core;

import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.HealthSnapshot;
import dev.workflowworker.api.HealthStatus;
import dev.workflowworker.api.PermanentWorkflowException;
import dev.workflowworker.api.RecoverableWorkflowException;
import dev.workflowworker.api.TransientWorkflowException;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.memory.InMemoryDeadLetter;
import dev.workflowworker.core.memory.InMemoryEventTransport;
import dev.workflowworker.core.testing.Await;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The foundation's end-to-end promise on the in-memory transport: 10,000 events with mixed
 * outcomes over 4 workers x concurrency 5 and 200 execution ids.
 */
class EndToEndInMemoryTest {

    private static final int EVENTS = 10_000;
    private static final int EXECUTIONS = 200;
    private static final int MAX_RETRIES = 3;

    /** How each event behaves, chosen by its index. */
    enum Mode {
        OK, TRANSIENT_TWICE, RECOVERABLE_ONCE, PERMANENT, ALWAYS_RECOVERABLE, ALWAYS_TRANSIENT, ERROR_ONCE, UNKNOWN_TYPE;

        static Mode of(int i) {
            return switch (i % 20) {
                case 1 -> TRANSIENT_TWICE;
                case 2 -> RECOVERABLE_ONCE;
                case 3 -> PERMANENT;
                case 4 -> ALWAYS_RECOVERABLE;
                case 5 -> ALWAYS_TRANSIENT;
                case 6 -> ERROR_ONCE;
                case 7 -> UNKNOWN_TYPE;
                default -> OK;
            };
        }

        /** Handler invocations the promises allow, exactly. */
        int expectedInvocations() {
            return switch (this) {
                case OK, PERMANENT -> 1;
                case TRANSIENT_TWICE -> 3;
                case RECOVERABLE_ONCE, ERROR_ONCE -> 2;
                case ALWAYS_RECOVERABLE, ALWAYS_TRANSIENT -> MAX_RETRIES + 1;
                case UNKNOWN_TYPE -> 0;
            };
        }

        boolean succeeds() {
            return this == OK || this == TRANSIENT_TWICE || this == RECOVERABLE_ONCE || this == ERROR_ONCE;
        }
    }

    private final ConcurrentHashMap<String, AtomicInteger> invocations = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicInteger> holders = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicLong> lastToken = new ConcurrentHashMap<>();
    private final AtomicInteger overlaps = new AtomicInteger();
    private final AtomicInteger tokenRegressions = new AtomicInteger();
    /** Per execution, the index of each event whose handler started, in start order: the order ledger. */
    private final ConcurrentHashMap<String, List<Integer>> starts = new ConcurrentHashMap<>();

    private void work(EventContext ctx) {
        String key = ctx.event().executionId();
        if (holders.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet() > 1) {
            overlaps.incrementAndGet();
        }
        try {
            List<Integer> started = starts.computeIfAbsent(key, k -> new ArrayList<>());
            synchronized (started) {
                started.add(Integer.parseInt(ctx.event().eventId().substring(1)));
            }
            AtomicLong last = lastToken.computeIfAbsent(key, k -> new AtomicLong());
            long prev = last.getAndAccumulate(ctx.fencingToken(), Math::max);
            // In-place transient retries keep their lease, so equal tokens are fine; lower never.
            if (ctx.fencingToken() < prev) {
                tokenRegressions.incrementAndGet();
            }
            int n = invocations.computeIfAbsent(ctx.event().eventId(), k -> new AtomicInteger()).incrementAndGet();
            Mode mode = Mode.valueOf((String) ctx.payload().get("mode"));
            switch (mode) {
                case TRANSIENT_TWICE -> {
                    if (n <= 2) {
                        throw new TransientWorkflowException("glitch " + n);
                    }
                }
                case RECOVERABLE_ONCE -> {
                    if (n == 1) {
                        throw new RecoverableWorkflowException("busy");
                    }
                }
                case PERMANENT -> throw new PermanentWorkflowException("invalid workflow definition");
                case ALWAYS_RECOVERABLE -> throw new IllegalStateException("still busy");
                case ALWAYS_TRANSIENT -> throw new TransientWorkflowException("network down");
                case ERROR_ONCE -> {
                    if (n == 1) {
                        throw new AssertionError("handler bug");
                    }
                }
                default -> {
                }
            }
        } finally {
            holders.get(key).decrementAndGet();
        }
    }

    @Test
    void tenThousandMixedEventsEachEndExactlyOnceWithinThePromises() throws Exception {
        CountDownLatch terminal = new CountDownLatch(EVENTS);
        ConcurrentHashMap<String, AtomicInteger> terminalOutcomes = new ConcurrentHashMap<>();
        AtomicInteger throwingListenerCalls = new AtomicInteger();
        WorkerListener counting = new WorkerListener() {
            @Override
            public void onOutcome(EventOutcome o) {
                if (o.kind() == EventOutcome.Kind.SUCCEEDED || o.kind() == EventOutcome.Kind.DEAD_LETTERED) {
                    terminalOutcomes.computeIfAbsent(o.event().eventId(), k -> new AtomicInteger()).incrementAndGet();
                    terminal.countDown();
                }
            }
        };
        WorkerListener throwing = new WorkerListener() {
            @Override
            public void onEventStarted(EventContext context) {
                throwingListenerCalls.incrementAndGet();
                throw new IllegalStateException("listener bug");
            }
        };
        ActionRuntime.Builder actions = ActionRuntime.builder();
        actions.on("WORK", this::work, "mode");
        InMemoryEventTransport transport = InMemoryEventTransport.create();
        WorkerService service = WorkerService.builder()
                .transport(transport)
                .runtime(actions.build())
                .workerCount(4)
                .concurrencyLimit(5)
                .batchSize(10)
                .maxRetries(MAX_RETRIES)
                .pollInterval(Duration.ofMillis(50))
                .initialBackoff(Duration.ofMillis(1))
                .maxBackoff(Duration.ofMillis(5))
                .transientBackoff(Duration.ofMillis(1))
                .lockContentionDelay(Duration.ofMillis(1))
                .listener(throwing)
                .listener(counting)
                .build();
        service.start();
        List<WorkflowEvent> events = new ArrayList<>(EVENTS);
        for (int i = 0; i < EVENTS; i++) {
            Mode mode = Mode.of(i);
            events.add(WorkflowEvent.builder(mode == Mode.UNKNOWN_TYPE ? "NOBODY_HANDLES_THIS" : "WORK")
                    .eventId("e" + i).executionId("exec-" + (i % EXECUTIONS))
                    .payload(Map.of("mode", mode.name())).build());
        }
        service.publisher().publishAll(events);

        assertTrue(terminal.await(120, TimeUnit.SECONDS), "events left: " + terminal.getCount());
        // The last outcome is reported just before its handler slot is freed.
        Await.until(Duration.ofSeconds(10), () -> service.health().activeEvents() == 0, "handler slots freed");
        HealthSnapshot health = service.health();
        List<InMemoryDeadLetter> dlq = transport.deadLetters();
        service.close();

        int expectedSuccess = 0;
        int expectedDead = 0;
        long expectedFailedAttempts = 0;
        for (int i = 0; i < EVENTS; i++) {
            Mode mode = Mode.of(i);
            String id = "e" + i;
            assertEquals(1, terminalOutcomes.getOrDefault(id, new AtomicInteger()).get(), "terminal outcomes of " + id);
            int ran = invocations.getOrDefault(id, new AtomicInteger()).get();
            assertEquals(mode.expectedInvocations(), ran, "handler invocations of " + id + " (" + mode + ")");
            if (mode.succeeds()) {
                expectedSuccess++;
                expectedFailedAttempts += ran - 1;
            } else {
                expectedDead++;
                expectedFailedAttempts += Math.max(1, ran);
            }
        }
        assertEquals(0, overlaps.get(), "two handlers at once for one execution id");
        // Ordered (the in-memory default): per execution, handlers start in publish order; a
        // retried event runs again before the next one starts, never after it.
        for (Map.Entry<String, List<Integer>> e : starts.entrySet()) {
            List<Integer> seq = e.getValue();
            for (int i = 1; i < seq.size(); i++) {
                assertTrue(seq.get(i) >= seq.get(i - 1), "execution " + e.getKey() + " ran out of order: " + seq);
            }
        }
        assertEquals(0, tokenRegressions.get(), "fencing token went backwards for a key");
        assertEquals(expectedDead, dlq.size());
        assertEquals(expectedSuccess, health.eventsSucceeded());
        assertEquals(expectedFailedAttempts, health.eventsFailed());
        assertEquals(health.eventsSucceeded() + health.eventsFailed(), health.eventsProcessed());
        assertEquals(expectedDead, health.eventsDeadLettered());
        assertEquals(0, health.duplicates());
        assertEquals(0, health.activeEvents());
        assertEquals(4, health.workerCount(), "a handler throwing Error must not kill its worker");
        assertTrue(health.status() != HealthStatus.UNHEALTHY, health.toJson());
        assertTrue(throwingListenerCalls.get() > EVENTS / 2);
        assertTrue(dlq.stream().anyMatch(d -> d.letter().errorMessage()
                .equals("no action registered for event type 'NOBODY_HANDLES_THIS'")));
        assertTrue(dlq.stream().anyMatch(d -> d.letter().errorMessage()
                .startsWith("retries exhausted after 4 attempts: ")));
        assertEquals(WorkerService.State.TERMINATED, service.state());
    }
}
