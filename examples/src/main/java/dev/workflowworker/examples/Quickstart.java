package dev.workflowworker.examples;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.HealthSnapshot;
import dev.workflowworker.api.PermanentWorkflowException;
import dev.workflowworker.api.RecoverableWorkflowException;
import dev.workflowworker.api.TransientWorkflowException;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;
import dev.workflowworker.core.memory.InMemoryDeadLetter;
import dev.workflowworker.core.memory.InMemoryEventTransport;

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
 * The quickstart: a host with four custom actions on the in-memory transport. Publishes a few
 * hundred events whose handlers succeed, fail transiently, fail recoverably or fail permanently,
 * plus an unknown event type and a malformed entry; shows progress; prints the final health JSON
 * and the dead letters with their reasons.
 */
public final class Quickstart {

    static final int OK_EVENTS = 150;
    static final int TRANSIENT_EVENTS = 50;
    static final int RECOVERABLE_EVENTS = 50;
    static final int PERMANENT_EVENTS = 25;

    private Quickstart() {
    }

    /**
     * @param out where to print
     * @return the process exit code: 0 when every event reached its expected end
     */
    public static int run(PrintStream out) throws Exception {
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

        int total = OK_EVENTS + TRANSIENT_EVENTS + RECOVERABLE_EVENTS + PERMANENT_EVENTS + 2;
        CountDownLatch finished = new CountDownLatch(total);
        WorkerListener progress = new WorkerListener() {
            @Override
            public void onOutcome(EventOutcome o) {
                if (o.kind() == EventOutcome.Kind.SUCCEEDED || o.kind() == EventOutcome.Kind.DEAD_LETTERED) {
                    finished.countDown();
                }
            }
        };
        InMemoryEventTransport transport = InMemoryEventTransport.create();
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
        out.printf("publishing %d events (+1 malformed entry) to 4 workers x concurrency 5%n", events.size());
        service.publisher().publishAll(events);
        // As a foreign producer might write it: the payload is not JSON.
        transport.publishRaw(Map.of("event_id", "broken-1", "event_type", "TICKET_CREATED",
                "timestamp", "2025-03-01T23:00:00.000Z", "payload_json", "{ticket_id: T-oops"));

        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(12);
        while (!finished.await(150, TimeUnit.MILLISECONDS) && System.nanoTime() < deadline) {
            HealthSnapshot h = service.health();
            out.printf("  progress: %d/%d done, succeeded=%d failed=%d retried=%d dead-lettered=%d active=%d%n",
                    total - finished.getCount(), total, h.eventsSucceeded(), h.eventsFailed(), h.eventsRetried(),
                    h.eventsDeadLettered(), h.activeEvents());
        }
        HealthSnapshot health = service.health();
        List<InMemoryDeadLetter> dead = transport.deadLetters();
        service.close();

        ObjectMapper json = new ObjectMapper();
        out.println();
        out.println("health (GET /api/health/worker):");
        out.println(json.writerWithDefaultPrettyPrinter().writeValueAsString(json.readTree(health.toJson())));
        out.println();
        out.printf("dead letters (%d):%n", dead.size());
        Map<String, Integer> byReason = new java.util.TreeMap<>();
        for (InMemoryDeadLetter d : dead) {
            byReason.merge(d.letter().category() + ": " + d.letter().errorMessage(), 1, Integer::sum);
        }
        byReason.forEach((reason, n) -> out.printf("  %3d x %s%n", n, reason));

        boolean ok = finished.getCount() == 0
                && health.eventsSucceeded() == OK_EVENTS + TRANSIENT_EVENTS + RECOVERABLE_EVENTS
                && dead.size() == PERMANENT_EVENTS + 2;
        out.println();
        out.println(ok ? "quickstart finished: every event reached its expected end"
                : "quickstart INCOMPLETE: " + finished.getCount() + " events did not finish");
        return ok ? 0 : 1;
    }
}
