package dev.workflowworker.redis;

import dev.workflowworker.api.DeadLetter;
import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.ErrorCategory;
import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.spi.Lock;
import dev.workflowworker.api.PermanentWorkflowException;
import dev.workflowworker.api.RecoverableWorkflowException;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.testing.Await;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The whole life of events on one Redis connection setup (credentials, ACL, TLS), used by the
 * security tests: a {@link WorkerService} completes good events, retries a flaky one through the
 * retry set, settles a duplicate and dead-letters a poison event; then the transport's less
 * frequent operations (keep-alive, release, claiming stalled entries, trimming, removing idle
 * consumers, lock renewal, dead-letter listing, replay and deletion) run once each, so that an
 * ACL missing a command any of them needs fails here rather than in production.
 */
final class SecureFlow {

    private static final Duration WAIT = Duration.ofSeconds(20);

    private final List<EventOutcome> outcomes = new CopyOnWriteArrayList<>();
    private final ConcurrentHashMap<String, AtomicInteger> runs = new ConcurrentHashMap<>();

    private SecureFlow() {
    }

    /**
     * Runs the flow, asserting each step.
     *
     * @param options connection options under test; stream and keys are the defaults ({@code workflow:*})
     */
    static void run(RedisOptions options) throws InterruptedException {
        new SecureFlow().runService(options);
        runTransportOperations(options);
    }

    private long count(EventOutcome.Kind kind, String eventId) {
        return outcomes.stream().filter(o -> o.kind() == kind && o.event() != null
                && eventId.equals(o.event().eventId())).count();
    }

    private void runService(RedisOptions options) {
        ActionRuntime runtime = ActionRuntime.builder()
                .on("WORK", ctx -> runs.computeIfAbsent(ctx.event().eventId(), k -> new AtomicInteger())
                        .incrementAndGet())
                .on("FLAKY", ctx -> {
                    if (ctx.attempt() == 1) {
                        throw new RecoverableWorkflowException("busy, try again", Duration.ofMillis(100));
                    }
                })
                .on("POISON", ctx -> {
                    throw new PermanentWorkflowException("poison pill");
                })
                .build();
        RedisEventTransport transport = RedisEventTransport.create(options);
        WorkerService service = WorkerService.builder()
                .transport(transport)
                .lockProvider(transport.locks())
                .runtime(runtime)
                .workerCount(2)
                .concurrencyLimit(4)
                .pollInterval(Duration.ofMillis(200))
                .claimIdle(Duration.ofMillis(600))
                .initialBackoff(Duration.ofMillis(50))
                .maxBackoff(Duration.ofMillis(200))
                .transientBackoff(Duration.ofMillis(10))
                .lockContentionDelay(Duration.ofMillis(20))
                .listener(new WorkerListener() {
                    @Override
                    public void onOutcome(EventOutcome outcome) {
                        outcomes.add(outcome);
                    }
                })
                .build();
        try {
            service.start();
            List<WorkflowEvent> batch = new ArrayList<>();
            for (int i = 0; i < 5; i++) {
                batch.add(WorkflowEvent.builder("WORK").eventId("work-" + i).executionId("exec-" + (i % 2)).build());
            }
            batch.add(WorkflowEvent.builder("FLAKY").eventId("flaky").executionId("exec-flaky").build());
            batch.add(WorkflowEvent.builder("POISON").eventId("poison").executionId("exec-poison").build());
            service.publisher().publishAll(batch);
            service.publisher().publish(WorkflowEvent.builder("WORK").eventId("single").build());

            for (String id : List.of("work-0", "work-1", "work-2", "work-3", "work-4", "single", "flaky")) {
                Await.until(WAIT, () -> count(EventOutcome.Kind.SUCCEEDED, id) == 1, id + " to complete");
            }
            Await.until(WAIT, () -> count(EventOutcome.Kind.DEAD_LETTERED, "poison") == 1,
                    "the poison event to be dead-lettered");
            assertEquals(1, count(EventOutcome.Kind.RETRY_SCHEDULED, "flaky"), outcomes.toString());

            service.publisher().publish(WorkflowEvent.builder("WORK").eventId("work-0").build());
            Await.until(WAIT, () -> count(EventOutcome.Kind.DUPLICATE, "work-0") == 1,
                    "the copy of work-0 to be settled as a duplicate");
            assertEquals(1, runs.get("work-0").get(), "work-0 ran once");
        } finally {
            service.close();
        }
    }

    /** The operations a running service needs only now and then, each called once directly. */
    private static void runTransportOperations(RedisOptions options) throws InterruptedException {
        // Consumers idle for a millisecond count as gone, so the service's are removed below.
        try (RedisEventTransport transport = RedisEventTransport.create(
                options.toBuilder().consumerRetention(Duration.ofMillis(1)).build())) {
            assertTrue(TestInternals.shared(transport).removeIdleConsumers("ops-check") >= 1, "the service's consumers are removed");
            EventTransport.Consumer consumer = transport.openConsumer("ops-check");
            transport.publish(WorkflowEvent.builder("WORK").eventId("handed-back").build());
            List<Delivery> taken = pollOne(consumer);
            consumer.keepAlive(taken);
            consumer.release(taken);
            List<Delivery> again = pollOne(consumer);
            assertEquals("handed-back", again.get(0).eventId(), "the released entry is delivered again");

            // Left pending on purpose: claimed back at once with a zero idle time.
            List<Delivery> claimed = consumer.reclaimStalled(Duration.ZERO, 10);
            assertEquals(1, claimed.size(), "the pending entry is claimed");
            consumer.complete(List.of(claimed.get(0)));
            assertTrue(consumer.completedAmong(List.of("handed-back")).contains("handed-back"));

            transport.trimStream();

            Lock lock = transport.locks().tryAcquire("exec-ops", Duration.ofSeconds(5)).orElseThrow();
            assertTrue(lock.renew(Duration.ofSeconds(5)), "the lock is renewed");
            lock.release();

            RedisDeadLetters dlq = transport.deadLetters();
            assertEquals(1, dlq.size(), "one dead letter");
            RedisDeadLetters.Entry letter = dlq.list(10).get(0);
            assertEquals("poison pill", letter.errorMessage());
            assertTrue(dlq.replay(letter.id()).isPresent(), "the dead letter is replayed");
            List<Delivery> replayed = pollOne(consumer);
            assertEquals("poison", replayed.get(0).eventId());
            consumer.acknowledge(replayed.get(0));
            assertEquals(0, dlq.size(), "the replayed letter left the dead-letter stream");
            transport.publish(WorkflowEvent.builder("POISON").eventId("poison-2").build());
            Delivery second = pollOne(consumer).get(0);
            consumer.deadLetter(second, new DeadLetter(ErrorCategory.PERMANENT, "poison again", "", 1, "ops-check",
                    Instant.now()));
            String id = dlq.list(10).get(0).id();
            assertTrue(dlq.delete(id), "the dead letter is deleted");
            consumer.close();
        }
    }

    private static List<Delivery> pollOne(EventTransport.Consumer consumer) throws InterruptedException {
        List<Delivery> got = new ArrayList<>();
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (got.isEmpty()) {
            if (System.nanoTime() - deadline > 0) {
                throw new AssertionError("no entry delivered within " + WAIT);
            }
            got.addAll(consumer.read(1, Duration.ofMillis(200)));
        }
        return got;
    }
}
