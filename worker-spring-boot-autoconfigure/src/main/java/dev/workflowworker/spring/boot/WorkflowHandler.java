package dev.workflowworker.spring.boot;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a bean method (or a {@code WorkflowAction} bean's class) as the handler of one event type.
 *
 * <pre>{@code
 * @Component
 * class Tickets {
 *     @WorkflowHandler("TICKET_CREATED")
 *     void created(TicketCreated ticket, EventContext ctx) { ... }
 * }
 * }</pre>
 *
 * A handler method may take, in any order: an {@code EventContext}, a {@code WorkflowEvent}, and at
 * most one other parameter, the payload converted to that type ({@code EventContext.payloadAs}:
 * plain JSON data, no polymorphic typing; a {@code Map} gets the payload as it is). Its return value
 * is ignored; what it throws is classified like any failure (throw
 * {@code RecoverableWorkflowException} to be retried later, {@code PermanentWorkflowException} to
 * dead-letter). The context fails to start when two handlers claim one event type, when a method
 * has parameters it cannot supply, or when an event type listed in
 * {@code workflow.worker.required-event-types} has no handler; the message names the beans and
 * the event type. Handler beans must be singletons.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target({ElementType.METHOD, ElementType.TYPE})
public @interface WorkflowHandler {

    /** {@return the event type ({@code event_type} on the wire) this handler runs for} */
    String value();

    /**
     * Payload fields that must be present and not null; an event lacking one is dead-lettered as
     * permanent without running the handler.
     *
     * @return the required top-level payload field names
     */
    String[] requiredFields() default {};
}
