package dev.workflowworker.examples.spring;

import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.EventPublisher;
import dev.workflowworker.api.RecoverableWorkflowException;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.spring.boot.WorkflowHandler;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.stereotype.Component;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import java.time.Duration;
import java.util.Map;

/** A Spring Boot application whose workers, health and metrics come from the starter. */
@SpringBootApplication
public class ExampleApplication {

    public static void main(String[] args) {
        SpringApplication.run(ExampleApplication.class, args);
    }

    record Invoice(String customerId, long amountCents) {
    }

    @Component
    static class Handlers {

        @WorkflowHandler(value = "TICKET_CREATED", requiredFields = "ticket_id")
        void ticketCreated(EventContext ctx) {
            System.out.println("ticket " + ctx.payload().get("ticket_id") + " (attempt " + ctx.attempt() + ")");
        }

        @WorkflowHandler("INVOICE_DUE")
        void invoiceDue(Invoice invoice, EventContext ctx) {
            if (invoice.amountCents() > 1_000_000) {
                // retried with backoff, then dead-lettered after workflow.worker.max-retries
                throw new RecoverableWorkflowException("payment gateway busy", Duration.ofSeconds(5));
            }
            System.out.println("charging " + invoice.customerId() + " key=" + ctx.idempotencyKey());
        }
    }

    /** POST /tickets?id=T-42 publishes an event; the handler above runs it. */
    @RestController
    static class Tickets {
        private final EventPublisher publisher;

        Tickets(EventPublisher publisher) {
            this.publisher = publisher;
        }

        @PostMapping("/tickets")
        String create(@RequestParam("id") String id) {
            return publisher.publish(WorkflowEvent.builder("TICKET_CREATED")
                    .executionId("ticket-" + id).payload(Map.of("ticket_id", id)).build());
        }
    }
}
