package dev.workflowworker.core;

import dev.workflowworker.api.EventContext;
import dev.workflowworker.api.PermanentWorkflowException;
import dev.workflowworker.api.WorkflowAction;
import dev.workflowworker.api.WorkflowEvent;
import dev.workflowworker.core.internal.DefaultEventContext;
import org.junit.jupiter.api.Test;

import dev.workflowworker.core.TimeSource;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ActionRuntimeTest {

    record Ticket(String ticketId, int priority) {
    }

    private static EventContext ctx(String type, Map<String, Object> payload) {
        WorkflowEvent e = WorkflowEvent.builder(type).executionId("exec-1").payload(payload).build();
        return new DefaultEventContext(e, 1, 7, "w1", TimeSource.system(), 0L, java.time.temporal.ChronoUnit.FOREVER.getDuration(), () -> false);
    }

    @Test
    void routesByEventType() throws Exception {
        List<String> seen = new ArrayList<>();
        ActionRuntime rt = ActionRuntime.builder()
                .on("A", c -> seen.add("a:" + c.event().eventId()))
                .on("B", c -> seen.add("b"))
                .build();
        EventContext a = ctx("A", Map.of());
        rt.process(a);
        rt.process(ctx("B", Map.of()));
        assertEquals(List.of("a:" + a.event().eventId(), "b"), seen);
        assertEquals(Set.of("A", "B"), rt.eventTypes());
    }

    @Test
    void unknownEventTypeIsPermanentWithExactMessage() {
        ActionRuntime rt = ActionRuntime.builder().on("A", c -> { }).build();
        PermanentWorkflowException e = assertThrows(PermanentWorkflowException.class, () -> rt.process(ctx("X", Map.of())));
        assertEquals("no action registered for event type 'X'", e.getMessage());
    }

    @Test
    void missingRequiredFieldIsPermanentNamingTheField() throws Exception {
        List<String> ran = new ArrayList<>();
        WorkflowAction withOwnFields = new WorkflowAction() {
            @Override
            public void execute(EventContext context) {
                ran.add("ran");
            }

            @Override
            public Set<String> requiredFields() {
                return Set.of("amount");
            }
        };
        ActionRuntime rt = ActionRuntime.builder()
                .on("T", c -> ran.add("t"), "ticket_id")
                .on("INVOICE", withOwnFields, "customer")
                .build();
        PermanentWorkflowException e = assertThrows(PermanentWorkflowException.class, () -> rt.process(ctx("T", Map.of())));
        assertTrue(e.getMessage().contains("'ticket_id'"), e.getMessage());
        e = assertThrows(PermanentWorkflowException.class, () -> rt.process(ctx("INVOICE", Map.of("customer", "c"))));
        assertTrue(e.getMessage().contains("'amount'"), e.getMessage());
        assertEquals(List.of(), ran);
        rt.process(ctx("INVOICE", Map.of("customer", "c", "amount", 3)));
        assertEquals(List.of("ran"), ran);
    }

    @Test
    void payloadAsConvertsToRecordsAndRejectsMismatchesPermanently() {
        EventContext c = ctx("T", Map.of("ticketId", "t-9", "priority", 2, "extra", true));
        assertEquals(new Ticket("t-9", 2), c.payloadAs(Ticket.class));
        EventContext bad = ctx("T", Map.of("priority", "high"));
        assertThrows(PermanentWorkflowException.class, () -> bad.payloadAs(Ticket.class));
    }

    @Test
    void polymorphicHintsArePlainData() {
        EventContext c = ctx("T", Map.of("@class", "java.lang.ProcessBuilder", "ticketId", "x", "priority", 1));
        assertEquals(new Ticket("x", 1), c.payloadAs(Ticket.class));
        assertEquals("java.lang.ProcessBuilder", c.payloadAs(Map.class).get("@class"));
    }

    @Test
    void builderRejectsDuplicatesAndEmptyRuntimes() {
        assertThrows(IllegalArgumentException.class, () -> ActionRuntime.builder().on("A", c -> { }).on("A", c -> { }));
        assertThrows(IllegalArgumentException.class, () -> ActionRuntime.builder().on(" ", c -> { }));
        assertThrows(IllegalStateException.class, () -> ActionRuntime.builder().build());
    }

    @Test
    void idempotencyKeyIsDeterministic() {
        WorkflowEvent e = WorkflowEvent.builder("T").eventId("e1").executionId("x1").build();
        assertEquals("x1:e1", e.idempotencyKey());
        assertEquals("x1:e1", new DefaultEventContext(e, 2, 1, "w", TimeSource.system(), 0L, java.time.temporal.ChronoUnit.FOREVER.getDuration(), () -> false)
                .idempotencyKey());
        assertEquals("e2", WorkflowEvent.builder("T").eventId("e2").build().idempotencyKey());
    }
}
