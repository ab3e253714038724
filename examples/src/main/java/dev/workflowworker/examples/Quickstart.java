package dev.workflowworker.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.HealthSnapshot;
import dev.workflowworker.api.PermanentWorkflowException;
import dev.workflowworker.api.RecoverableWorkflowException;
import dev.workflowworker.api.TransientWorkflowException;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.api.spi.EventTransport;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.memory.InMemoryDeadLetter;
import dev.workflowworker.core.memory.InMemoryEventTransport;
import dev.workflowworker.redis.RedisDeadLetters;
import dev.workflowworker.redis.RedisEventTransport;
import dev.workflowworker.redis.RedisOptions;

import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The quickstart: a host with four custom actions. Publishes a few hundred events whose handlers
 * succeed, fail transiently, fail recoverably or fail permanently, plus an unknown event type (and,
 * in memory, a malformed entry); shows progress; prints the final health JSON and the dead letters
 * with their reasons.
 *
 * <p>With {@code REDIS_URL} set it runs on Redis Streams ({@link RedisOptions#fromEnvironment(Map)}:
 * {@code REDIS_URL}, {@code WORKER_STREAM}, {@code WORKER_GROUP}, {@code WORKER_PARTITIONS}; the
 * ordered, partitioned mode unless {@code WORKER_PARTITIONS=0}) and leaves the stream and its dead
 * letters in Redis, so that {@code admin dlq list} and {@code admin stats} show them afterwards;
 * without it, it runs on the in-memory transport.
 */
public final class Quickstart {

    static final int OK_EVENTS = 150;
    static final int TRANSIENT_EVENTS = 50;
    static final int RECOVERABLE_EVENTS = 50;
    static final int PERMANENT_EVENTS = 25;

    private Quickstart() {
    }

    /**
     * @param env the environment ({@code System.getenv()} in the jar): {@code REDIS_URL} selects Redis
     * @param out where to print
     * @return the process exit code: 0 when every event reached its expected end, 1 if not, 2 for
     *     an invalid configuration
     */
    public static int run(Map<String, String> env, PrintStream out) throws Exception {
        RedisOptions redis;
        try {
            // REDIS_URL, WORKER_STREAM, WORKER_GROUP through RedisOptions.fromEnvironment; null without REDIS_URL
            redis = ServiceMode.redisOptions(env);
        } catch (IllegalArgumentException e) {
            out.println("quickstart: invalid configuration: " + e.getMessage());
            return 2;
        }
        EventTransport transport;
        if (redis == null) {
            out.println("running in memory (set REDIS_URL to run on Redis Streams)");
            transport = InMemoryEventTransport.create();
        } else {
            out.printf("running on Redis at %s, stream %s, group %s, %s%n", redis.endpoint(), redis.stream(),
                    redis.group(), ServiceMode.mode(redis));
            transport = RedisEventTransport.create(redis);
        }
        return run(transport, out);
    }

    private static int run(EventTransport transport, PrintStream out) throws Exception {
        Set<String> failedOnce = ConcurrentHashMap.newKeySet();
        ActionRuntime runtime = ActionRuntime.builder()
                // always succeeds
                .on("TICKET_CREATED", ctx -> { }, "ticket_id")
                // a network glitch on the first try: retried at once, in place
                .on("EMAIL_SEND", ctx -> {
                    if (failedOnce.add(ctx.event().eventId())) {
                        throw new TransientWorkflowException("SMTP connection reset");
                    }
                })
                // the gateway is busy on the first try: retried durably after backoff
                .on("INVOICE_DUE", ctx -> {
                    if (failedOnce.add(ctx.event().eventId())) {
                        throw new RecoverableWorkflowException("payment gateway busy");
                    }
                })
                // needs manual intervention: dead-lettered at once
                .on("CONTRACT_SIGNED", ctx -> {
                    throw new PermanentWorkflowException("invalid workflow definition: contract template '"
                            + ctx.payload().get("template") + "' does not exist");
                })
                .build();

        boolean inMemory = transport instanceof InMemoryEventTransport;
        // The Redis publisher writes only well-formed entries, so the malformed one is in-memory only.
        int unprocessable = inMemory ? 2 : 1;
        int total = OK_EVENTS + TRANSIENT_EVENTS + RECOVERABLE_EVENTS + PERMANENT_EVENTS + unprocessable;
        CountDownLatch finished = new CountDownLatch(total);
        WorkerListener progress = new WorkerListener() {
            @Override
            public void onOutcome(EventOutcome o) {
                if (o.kind() == EventOutcome.Kind.SUCCEEDED || o.kind() == EventOutcome.Kind.DEAD_LETTERED) {
                    finished.countDown();
                }
            }
        };
        WorkerService service = WorkerService.builder()
                .transport(transport)
                .runtime(runtime)
                .listener(progress)
                .workerCount(4)
                .concurrencyLimit(5)
                .pollInterval(Duration.ofMillis(100))
                .initialBackoff(Duration.ofMillis(300))
                .maxBackoff(Duration.ofSeconds(2))
                .metricsReportingInterval(Duration.ofSeconds(2))
                .healthCheckInterval(Duration.ofSeconds(5))
                .build();
        service.start();

        List<WorkflowEvent> events = new ArrayList<>();
        for (int i = 0; i < OK_EVENTS; i++) {
            String exec = "exec-" + (i % 25);
            events.add(WorkflowEvent.builder("TICKET_CREATED").executionId(exec).tenant("acme")
                    .payload(Map.of("ticket_id", "T-" + i)).build());
            if (i < TRANSIENT_EVENTS) {
                events.add(WorkflowEvent.builder("EMAIL_SEND").executionId(exec).tenant("acme")
                        .payload(Map.of("to", "user" + i + "@example.com")).build());
            }
            if (i < RECOVERABLE_EVENTS) {
                events.add(WorkflowEvent.builder("INVOICE_DUE").executionId(exec).tenant("acme")
                        .payload(Map.of("invoice", "INV-" + i, "amount_cents", 1000 + i)).build());
            }
            if (i < PERMANENT_EVENTS) {
                events.add(WorkflowEvent.builder("CONTRACT_SIGNED").executionId(exec).tenant("acme")
                        .payload(Map.of("template", "tpl-" + (i % 3))).build());
            }
        }
        events.add(WorkflowEvent.builder("SPACESHIP_LAUNCHED").executionId("exec-x").build());
        out.printf("publishing %d events%s to 4 workers x concurrency 5%n", events.size(),
                inMemory ? " (+1 malformed entry)" : "");
        List<String> ids = service.publisher().publishAll(events);
        if (transport instanceof InMemoryEventTransport memory) {
            // As a foreign producer might write it: the payload is not JSON.
            memory.publishRaw(Map.of("event_id", "broken-1", "event_type", "TICKET_CREATED",
                    "timestamp", "2025-03-01T23:00:00.000Z", "payload_json", "{ticket_id: T-oops"));
        }

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(12);
        while (!finished.await(150, TimeUnit.MILLISECONDS) && System.nanoTime() < deadline) {
            HealthSnapshot h = service.health();
            out.printf("  progress: %d/%d done, succeeded=%d failed=%d retried=%d dead-lettered=%d active=%d%n",
                    total - finished.getCount(), total, h.eventsSucceeded(), h.eventsFailed(), h.eventsRetried(),
                    h.eventsDeadLettered(), h.activeEvents());
        }
        HealthSnapshot health = service.health();
        // category: message of each dead letter of this run
        List<String> dead = deadLetters(transport, ids.get(0));
        // Closing stops the workers and the transport; on Redis the stream and the dead letters stay.
        service.close();

        ObjectMapper json = new ObjectMapper();
        out.println();
        out.println("health (GET /api/health/worker):");
        out.println(json.writerWithDefaultPrettyPrinter().writeValueAsString(json.readTree(health.toJson())));
        out.println();
        out.printf("dead letters (%d):%n", dead.size());
        Map<String, Integer> byReason = new java.util.TreeMap<>();
        for (String d : dead) {
            byReason.merge(d, 1, Integer::sum);
        }
        byReason.forEach((reason, n) -> out.printf("  %3d x %s%n", n, reason));

        boolean ok = finished.getCount() == 0
                && health.eventsSucceeded() == OK_EVENTS + TRANSIENT_EVENTS + RECOVERABLE_EVENTS
                && dead.size() == PERMANENT_EVENTS + unprocessable;
        if (!inMemory) {
            out.println();
            out.println("the stream and its dead letters stay in Redis; inspect them with");
            out.println("  java -jar examples/target/workflow-worker-examples.jar admin stats");
            out.println("  java -jar examples/target/workflow-worker-examples.jar admin dlq list");
        }
        out.println();
        out.println(ok ? "quickstart finished: every event reached its expected end"
                : "quickstart INCOMPLETE: " + finished.getCount() + " events did not finish");
        return ok ? 0 : 1;
    }

    /**
     * The dead letters of this run as {@code category: message}. On Redis the dead-letter stream
     * may hold letters of earlier runs; this run's have ids from the time of its first publish on
     * (both ids come from the same server's clock).
     */
    private static List<String> deadLetters(EventTransport transport, String firstPublishedId) {
        List<String> out = new ArrayList<>();
        if (transport instanceof InMemoryEventTransport memory) {
            for (InMemoryDeadLetter d : memory.deadLetters()) {
                out.add(d.letter().category() + ": " + d.letter().errorMessage());
            }
            return out;
        }
        RedisDeadLetters letters = ((RedisEventTransport) transport).deadLetters();
        long publishedMillis = Long.parseLong(firstPublishedId.substring(0, firstPublishedId.indexOf('-')));
        // exclusive: everything from publishedMillis-0 on
        String after = (publishedMillis - 1) + "-18446744073709551615";
        for (List<RedisDeadLetters.Entry> page = letters.list(after, 500); !page.isEmpty();
                page = letters.list(after, 500)) {
            for (RedisDeadLetters.Entry e : page) {
                out.add(e.errorCategory() + ": " + e.errorMessage());
            }
            after = page.get(page.size() - 1).id();
        }
        return out;
    }
}
