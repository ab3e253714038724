package dev.workflowworker.examples;

// BEGIN README EMBEDDING EXAMPLE
import dev.workflowworker.api.EventOutcome;
import dev.workflowworker.api.HealthSnapshot;
import dev.workflowworker.api.RecoverableWorkflowException;
import dev.workflowworker.api.WorkerListener;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.ActionRuntime;
import dev.workflowworker.core.WorkerService;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

public class EmbeddingExample {

    record Invoice(String customerId, long amountCents) {
    }

    public static void main(String[] args) throws Exception {
        // 1. the host's own actions, routed by event type
        ActionRuntime runtime = ActionRuntime.builder()
                .on("TICKET_CREATED", ctx -> System.out.println("ticket " + ctx.payload().get("ticket_id")),
                        "ticket_id")
                .on("INVOICE_DUE", ctx -> {
                    Invoice invoice = ctx.payloadAs(Invoice.class);
                    if (invoice.amountCents() > 1_000_000) {
                        // retried later with exponential backoff; after MAX_RETRIES it is dead-lettered
                        throw new RecoverableWorkflowException("payment gateway busy", Duration.ofSeconds(5));
                    }
                    // ctx.idempotencyKey() and ctx.fencingToken() make side effects safe to repeat
                    System.out.println("charging " + invoice.customerId() + " key=" + ctx.idempotencyKey());
                })
                .build();

        // optional: observe outcomes (here, to know when both events are done)
        CountDownLatch done = new CountDownLatch(2);
        WorkerListener listener = new WorkerListener() {
            @Override
            public void onOutcome(EventOutcome outcome) {
                if (outcome.kind() == EventOutcome.Kind.SUCCEEDED) {
                    done.countDown();
                }
            }
        };

        // 2. the service, embedded in the host (in-memory transport unless .transport(...) is given)
        try (WorkerService service = WorkerService.builder()
                .runtime(runtime)
                .workerCount(2)
                .concurrencyLimit(5)
                .pollInterval(Duration.ofMillis(100))
                .listener(listener)
                .build()) {
            service.start();
            service.publisher().publish(WorkflowEvent.builder("TICKET_CREATED")
                    .executionId("exec-1").payload(Map.of("ticket_id", "T-42")).build());
            service.publisher().publish(WorkflowEvent.builder("INVOICE_DUE")
                    .executionId("exec-2").payload(Map.of("customerId", "C-7", "amountCents", 1999)).build());
            done.await(10, TimeUnit.SECONDS); // a host keeps running; the example stops when both are done
            HealthSnapshot health = service.health();
            System.out.println(health.toJson());
        }
    }
}
// END README EMBEDDING EXAMPLE
