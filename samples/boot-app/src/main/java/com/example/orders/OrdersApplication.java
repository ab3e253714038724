package com.example.orders;

import dev.workflowworker.api.EventContext;
import dev.workflowworker.spring.boot.WorkflowHandler;
import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;
import org.springframework.stereotype.Component;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A Spring Boot application as a user makes one: Boot's parent (or its imported BOM), web,
 * actuator, Prometheus and the workflow-worker starter, nothing overridden. Built against Boot 3.5
 * and 4.0 by the POMs beside this folder.
 */
@SpringBootApplication
public class OrdersApplication {

    public static void main(String[] args) {
        SpringApplication.run(OrdersApplication.class, args);
    }

    /** What the handler saw, per order, in the order it saw it: the test's ledger. */
    @Component
    public static class Ledger {
        private final Map<String, List<Integer>> steps = new ConcurrentHashMap<>();

        void record(String orderId, int step) {
            steps.computeIfAbsent(orderId, k -> new CopyOnWriteArrayList<>()).add(step);
        }

        public Map<String, List<Integer>> steps() {
            return steps;
        }
    }

    @Component
    static class Handlers {
        private final Ledger ledger;

        Handlers(Ledger ledger) {
            this.ledger = ledger;
        }

        @WorkflowHandler(value = "ORDER_STEP", requiredFields = {"order_id", "step"})
        void step(EventContext ctx) {
            ledger.record(String.valueOf(ctx.payload().get("order_id")),
                    ((Number) ctx.payload().get("step")).intValue());
        }
    }
}
