package dev.workflowworker.redis;

import dev.workflowworker.api.spi.Delivery;
import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.api.HealthStatus;
import dev.workflowworker.api.RecoverableWorkflowException;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.testing.Await;
import dev.workflowworker.redis.testsupport.RedisServer;
import dev.workflowworker.redis.testsupport.RedisServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.Protocol;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.exceptions.JedisConnectionException;
import redis.clients.jedis.exceptions.JedisDataException;
import redis.clients.jedis.resps.StreamEntry;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The engine's promises end to end on a real Redis. */
@ExtendWith(RedisServerExtension.class)
class WorkerServiceOnRedisTest {

    private final List<WorkerService> services = new ArrayList<>();
    private final List<EventOutcome> outcomes = new CopyOnWriteArrayList<>();
    private final ConcurrentHashMap<String, AtomicInteger> invocations = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<String, AtomicInteger> holders = new ConcurrentHashMap<>();
    private final AtomicInteger overlaps = new AtomicInteger();

    @AfterEach
    void closeServices() {
        services.forEach(WorkerService::close);
    }

    private final WorkerListener recording = new WorkerListener() {
        @Override
        public void onOutcome(EventOutcome outcome) {
            outcomes.add(outcome);
        }
    };

    private WorkerService service(RedisServer redis, ActionRuntime runtime) {
        return service(redis, runtime, b -> b);
    }

    private WorkerService service(RedisServer redis, ActionRuntime runtime,
                                  UnaryOperator<WorkerService.Builder> custom) {
        RedisEventTransport transport = RedisEventTransport.create(redis.options().partitions(0).build());
        WorkerService.Builder b = WorkerService.builder()
                .transport(transport)
                .lockProvider(transport.locks())
                .runtime(runtime)
                .workerCount(2)
                .concurrencyLimit(4)
                .pollInterval(Duration.ofMillis(200))
                .claimIdle(Duration.ofMillis(500))
                .initialBackoff(Duration.ofMillis(50))
                .maxBackoff(Duration.ofMillis(200))
                .transientBackoff(Duration.ofMillis(10))
                .lockContentionDelay(Duration.ofMillis(20))
                .listener(recording);
        WorkerService s = custom.apply(b).build();
        services.add(s);
        s.start();
        return s;
    }

    private void countedWork(EventContext ctx) {
        String key = ctx.event().lockKey();
        if (holders.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet() > 1) {
            overlaps.incrementAndGet();
        }
        try {
            invocations.computeIfAbsent(ctx.event().eventId(), k -> new AtomicInteger()).incrementAndGet();
        } finally {
            holders.get(key).decrementAndGet();
        }
    }

    private long count(EventOutcome.Kind kind, String eventId) {
        return outcomes.stream().filter(o -> o.kind() == kind && o.event() != null
                && eventId.equals(o.event().eventId())).count();
    }

    @Test
    void twoServicesSharingAStreamProcessEachEventExactlyOnce(RedisServer redis) throws Exception {
        int events = 300;
        CountDownLatch done = new CountDownLatch(events);
        ActionRuntime runtime = ActionRuntime.builder().on("WORK", ctx -> {
            countedWork(ctx);
            done.countDown();
        }).build();
        WorkerService a = service(redis, runtime);
        service(redis, runtime);
        List<WorkflowEvent> batch = new ArrayList<>();
        for (int i = 0; i < events; i++) {
            batch.add(WorkflowEvent.builder("WORK").eventId("e" + i).executionId("exec-" + (i % 25)).build());
        }
        a.publisher().publishAll(batch);

        assertTrue(done.await(60, TimeUnit.SECONDS), "events left: " + done.getCount());
        Await.until(Duration.ofSeconds(10),
                () -> outcomes.stream().filter(o -> o.kind() == EventOutcome.Kind.SUCCEEDED).count() == events,
                "every success to be recorded");

        for (int i = 0; i < events; i++) {
            assertEquals(1, invocations.get("e" + i).get(), "invocations of e" + i);
        }
        assertEquals(0, overlaps.get(), "two handlers at once for one execution id");
        try (RedisClient c = redis.client()) {
            Await.until(Duration.ofSeconds(10),
                    () -> c.xpending("workflow:events:global", "workflow-processors").getTotal() == 0,
                    "nothing pending");
        }
    }

    @Test
    void aLockProviderOfTheHostsOwnIsComposedWithTheTransportsMarkers(RedisServer redis) throws Exception {
        // A provider with its own pool is not the transport's: the engine takes the two-step path
        // (the provider's locks, then the transport's markers and completion).
        RedisLockProvider separate = RedisLockProvider.create(redis.options().partitions(0).keyPrefix("host-locks:").build());
        int events = 60;
        CountDownLatch done = new CountDownLatch(events);
        RedisClient probe = redis.client();
        AtomicInteger heldByHostProvider = new AtomicInteger();
        ActionRuntime runtime = ActionRuntime.builder().on("WORK", ctx -> {
            if (probe.exists("host-locks:lock:" + ctx.event().lockKey())
                    && !probe.exists("workflow:lock:" + ctx.event().lockKey())) {
                heldByHostProvider.incrementAndGet();
            }
            countedWork(ctx);
            done.countDown();
        }).build();
        WorkerService a = service(redis, runtime, b -> b.lockProvider(separate));
        service(redis, runtime, b -> b.lockProvider(separate));
        List<WorkflowEvent> batch = new ArrayList<>();
        for (int i = 0; i < events; i++) {
            batch.add(WorkflowEvent.builder("WORK").eventId("h" + i).executionId("exec-" + (i % 5)).build());
        }
        a.publisher().publishAll(batch);
        assertTrue(done.await(60, TimeUnit.SECONDS), "events left: " + done.getCount());
        Await.until(Duration.ofSeconds(10),
                () -> outcomes.stream().filter(o -> o.kind() == EventOutcome.Kind.SUCCEEDED).count() == events,
                "every success to be recorded");
        assertEquals(0, overlaps.get(), "two handlers at once for one execution id");
        a.publisher().publish(batch.get(0));
        Await.until(Duration.ofSeconds(10), () -> count(EventOutcome.Kind.DUPLICATE, "h0") == 1,
                "the copy to be recognised by its marker");
        for (int i = 0; i < events; i++) {
            assertEquals(1, invocations.get("h" + i).get(), "invocations of h" + i);
        }
        assertEquals(events, heldByHostProvider.get(), "every handler ran under the host provider's lock only");
        probe.close();
        separate.close();
    }

    @Test
    void duplicatesOfOneEventIdCompleteOnce(RedisServer redis) throws Exception {
        WorkerService s = service(redis, ActionRuntime.builder().on("WORK", this::countedWork).build());
        WorkflowEvent event = WorkflowEvent.builder("WORK").eventId("same-id").build();
        s.publisher().publish(event);
        Await.until(Duration.ofSeconds(10), () -> count(EventOutcome.Kind.SUCCEEDED, "same-id") == 1,
                "the first copy to complete");

        s.publisher().publish(event);
        s.publisher().publish(event);
        Await.until(Duration.ofSeconds(10), () -> count(EventOutcome.Kind.DUPLICATE, "same-id") == 2,
                "both later copies to be settled");

        assertEquals(1, invocations.get("same-id").get());
        assertEquals(1, count(EventOutcome.Kind.SUCCEEDED, "same-id"));
        assertEquals(2, s.health().duplicates());
    }

    @Test
    void recoverableFailureSurvivesClosingTheServiceDuringBackoff(RedisServer redis) throws Exception {
        AtomicInteger firstServiceRuns = new AtomicInteger();
        WorkerService first = service(redis, ActionRuntime.builder().on("WORK", ctx -> {
            firstServiceRuns.incrementAndGet();
            throw new RecoverableWorkflowException("downstream busy", Duration.ofSeconds(2));
        }).build());
        first.publisher().publish(WorkflowEvent.builder("WORK").eventId("durable").build());
        Await.until(Duration.ofSeconds(10), () -> count(EventOutcome.Kind.RETRY_SCHEDULED, "durable") == 1,
                "the retry to be scheduled");
        first.close();
        services.remove(first);
        try (RedisClient c = redis.client()) {
            assertEquals(1, c.zcard("workflow:events:global:retry"), "the retry waits in Redis, not in memory");
        }

        List<Integer> attemptsSeen = new CopyOnWriteArrayList<>();
        service(redis, ActionRuntime.builder().on("WORK", ctx -> attemptsSeen.add(ctx.attempt())).build());

        Await.until(Duration.ofSeconds(15), () -> count(EventOutcome.Kind.SUCCEEDED, "durable") == 1,
                "the new service to complete the event");
        assertEquals(1, firstServiceRuns.get());
        assertEquals(List.of(2), attemptsSeen);
    }

    @Test
    void entryOfAWorkerThatDiedMidEventIsCompletedByAnotherExactlyOnce(RedisServer redis) throws Exception {
        try (RedisEventTransport crashed = RedisEventTransport.create(redis.options().partitions(0).build())) {
            crashed.publish(WorkflowEvent.builder("WORK").eventId("orphan").build());
            EventTransport.Consumer dying = crashed.openConsumer("dying-worker");
            List<Delivery> taken = new ArrayList<>();
            Await.until(Duration.ofSeconds(5), () -> {
                try {
                    taken.addAll(dying.read(1, Duration.ofMillis(100)));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return !taken.isEmpty();
            }, "the doomed worker to read the event");
            dying.close(); // dies without ack or release
        }

        service(redis, ActionRuntime.builder().on("WORK", this::countedWork).build());

        Await.until(Duration.ofSeconds(15), () -> count(EventOutcome.Kind.SUCCEEDED, "orphan") == 1,
                "the orphan to be reclaimed and completed");
        assertEquals(1, invocations.get("orphan").get());
    }

    @Test
    void badEntriesAreDeadLetteredWithPreciseReasonsWhileWorkGoesOn(RedisServer redis) throws Exception {
        WorkerService s = service(redis, ActionRuntime.builder().on("WORK", this::countedWork).build());
        try (RedisClient c = redis.client()) {
            xadd(c, "event_type", "WORK", "payload_json", "{}");
            xadd(c, "event_id", "bad-json", "event_type", "WORK", "payload_json", "[1,2]");
            xadd(c, "event_id", "nobody", "event_type", "NOBODY_HANDLES_THIS", "payload_json", "{}");
            c.sendCommand(Protocol.Command.XADD, "workflow:events:global".getBytes(), "*".getBytes(),
                    "event_id".getBytes(), "binary".getBytes(), "event_type".getBytes(), "WORK".getBytes(),
                    "payload_json".getBytes(), new byte[] {(byte) 0xFF, (byte) 0xFE, 0x7B});
            s.publisher().publish(WorkflowEvent.builder("WORK").eventId("good").build());

            Await.until(Duration.ofSeconds(15),
                    () -> c.exists("workflow:events:global:dlq") && c.xlen("workflow:events:global:dlq") == 4,
                    "four dead letters");
            Await.until(Duration.ofSeconds(15), () -> count(EventOutcome.Kind.SUCCEEDED, "good") == 1,
                    "the good event to succeed");

            List<StreamEntry> dlq = c.xrange("workflow:events:global:dlq", (StreamEntryID) null, null);
            Map<String, String> reasons = dlq.stream().collect(Collectors.toMap(
                    e -> e.getFields().get("original_message"), e -> e.getFields().get("error_message")));
            List<String> messages = new ArrayList<>(reasons.values());
            assertTrue(messages.contains("missing required field 'event_id'"), messages.toString());
            assertTrue(messages.stream().anyMatch(m -> m.startsWith("invalid field 'payload_json': expected a JSON object")),
                    messages.toString());
            assertTrue(messages.stream().anyMatch(m -> m.contains("NOBODY_HANDLES_THIS")), messages.toString());
            assertTrue(messages.contains("field 'payload_json' is not valid UTF-8 (3 bytes)"), messages.toString());
            for (StreamEntry e : dlq) {
                for (String field : List.of("original_message", "error_message", "error_stack", "source_stream",
                        "original_id", "moved_at", "error_category", "attempts", "worker_id")) {
                    assertTrue(e.getFields().containsKey(field), field + " missing in " + e.getFields());
                }
                assertEquals("permanent", e.getFields().get("error_category"));
            }
        }
    }

    @Test
    void serviceRecoversByItselfWhenRedisRestartsMidRun(RedisServer redis) throws Exception {
        assertTrue(redis.isRestartable(), "this test needs a server it can stop: unset REDIS_URL");
        WorkerService s = service(redis, ActionRuntime.builder().on("WORK", this::countedWork).build(),
                b -> b.healthCheckInterval(Duration.ofMillis(500)));
        s.publisher().publish(WorkflowEvent.builder("WORK").eventId("before-outage").build());
        Await.until(Duration.ofSeconds(10), () -> count(EventOutcome.Kind.SUCCEEDED, "before-outage") == 1,
                "the first event to complete");

        redis.stop();
        Await.until(Duration.ofSeconds(10), () -> s.health().status() != HealthStatus.HEALTHY,
                "the service to notice the outage");
        redis.start();

        Await.until(Duration.ofSeconds(15), () -> {
            try {
                s.publisher().publish(WorkflowEvent.builder("WORK").eventId("after-outage").build());
                return true;
            } catch (RedisUnavailableException e) {
                return false;
            }
        }, "publishing to work again");
        Await.until(Duration.ofSeconds(15), () -> count(EventOutcome.Kind.SUCCEEDED, "after-outage") == 1,
                "the event published after the outage to complete");
        Await.until(Duration.ofSeconds(15), () -> s.health().status() == HealthStatus.HEALTHY,
                "the service to be healthy again");
        assertEquals(2, s.health().workerCount());
    }

    @Test
    void lostLeaseCancelsTheHandlerRefusesItsSuccessAndTheNextHolderHasAHigherToken(RedisServer redis)
            throws Exception {
        List<Long> tokens = new CopyOnWriteArrayList<>();
        CountDownLatch firstRunStarted = new CountDownLatch(1);
        AtomicInteger sawCancellation = new AtomicInteger();
        WorkerService s = service(redis, ActionRuntime.builder().on("WORK", ctx -> {
            tokens.add(ctx.fencingToken());
            if (tokens.size() == 1) {
                firstRunStarted.countDown();
                // The handler under test: it runs until its context is cancelled, as slow work does;
                // bounded, so a missing cancellation fails the test below instead of hanging it.
                long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
                while (!ctx.isCancelled() && System.nanoTime() < deadline) {
                    TimeUnit.MILLISECONDS.sleep(5);
                }
                if (ctx.isCancelled()) {
                    sawCancellation.incrementAndGet();
                }
                // Returning normally: the engine must still not count this run as success.
            }
        }).build(), b -> b.lockTtl(Duration.ofMillis(900)));
        s.publisher().publish(WorkflowEvent.builder("WORK").eventId("leased").executionId("exec-lease").build());
        assertTrue(firstRunStarted.await(10, TimeUnit.SECONDS));

        try (RedisLockProvider intruder = RedisLockProvider.create(redis.options().partitions(0).build());
             RedisClient c = redis.client()) {
            // The first holder's lease "expires" (as if its renewals were blocked) and another takes it.
            c.del("workflow:lock:exec-lease");
            dev.workflowworker.api.spi.Lock taken = intruder.tryAcquire("exec-lease", Duration.ofSeconds(30)).orElseThrow();
            assertTrue(taken.fencingToken() > tokens.get(0));

            Await.until(Duration.ofSeconds(10), () -> count(EventOutcome.Kind.LEASE_LOST, "leased") == 1,
                    "the lease loss to be reported");
            assertEquals(1, sawCancellation.get(), "the handler's context was cancelled");
            assertEquals(0, count(EventOutcome.Kind.SUCCEEDED, "leased"));
            assertFalse(c.exists("workflow:processed:leased"), "no processed marker for a refused success");

            taken.release();
            Await.until(Duration.ofSeconds(10), () -> count(EventOutcome.Kind.SUCCEEDED, "leased") == 1,
                    "the event to complete under a new lease");
            assertEquals(2, tokens.size());
            assertTrue(tokens.get(1) > taken.fencingToken(), tokens + " after " + taken.fencingToken());
        }
    }

    private static void xadd(RedisClient c, String... fieldsAndValues) {
        String[] args = new String[fieldsAndValues.length + 2];
        args[0] = "workflow:events:global";
        args[1] = "*";
        System.arraycopy(fieldsAndValues, 0, args, 2, fieldsAndValues.length);
        c.sendCommand(Protocol.Command.XADD, args);
    }

    @Test
    void redisClientFailuresEscapingAHandlerAreClassifiedWithoutTheHostRegisteringAnything(RedisServer redis) {
        ConcurrentHashMap<String, AtomicInteger> runs = new ConcurrentHashMap<>();
        service(redis, ActionRuntime.builder()
                .on("LOST_CONNECTION", ctx -> {
                    if (runs.computeIfAbsent("conn", k -> new AtomicInteger()).incrementAndGet() == 1) {
                        // No IOException cause: the engine's own defaults would call this recoverable.
                        throw new JedisConnectionException("Unexpected end of stream.");
                    }
                })
                .on("UNAVAILABLE", ctx -> {
                    if (runs.computeIfAbsent("unavailable", k -> new AtomicInteger()).incrementAndGet() == 1) {
                        throw new RedisUnavailableException("cannot publish: Redis at redis://h:1 is unreachable", null);
                    }
                })
                .on("WRONG_TYPE", ctx -> {
                    throw new JedisDataException("WRONGTYPE Operation against a key holding the wrong kind of value");
                })
                .build(), b -> b.maxRetries(1));
        services.get(0).publisher().publish(WorkflowEvent.builder("LOST_CONNECTION").build());
        services.get(0).publisher().publish(WorkflowEvent.builder("UNAVAILABLE").build());
        services.get(0).publisher().publish(WorkflowEvent.builder("WRONG_TYPE").build());
        Await.until(Duration.ofSeconds(15), () -> outcomes.stream()
                .filter(o -> o.kind() == EventOutcome.Kind.SUCCEEDED || o.kind() == EventOutcome.Kind.DEAD_LETTERED)
                .count() == 3, "three terminal outcomes");
        Map<String, List<String>> seen = outcomes.stream().collect(Collectors.groupingBy(o -> o.event().eventType(),
                Collectors.mapping(o -> o.kind() + "/" + o.category(), Collectors.toList())));
        assertEquals(List.of("RETRYING/TRANSIENT", "SUCCEEDED/null"), seen.get("LOST_CONNECTION"), seen.toString());
        assertEquals(List.of("RETRYING/TRANSIENT", "SUCCEEDED/null"), seen.get("UNAVAILABLE"), seen.toString());
        assertEquals(List.of("RETRY_SCHEDULED/RECOVERABLE", "DEAD_LETTERED/RECOVERABLE"), seen.get("WRONG_TYPE"),
                seen.toString());
    }
}
